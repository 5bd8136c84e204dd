#include "storage/sqlite/wal_write_vfs.hpp"

#include <initializer_list>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/temp_dir.hpp"

namespace livery::storage {
namespace {

class WalWriteVfsTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> open(SqliteSync sync) {
    auto db =
        SqliteDatabase::open({.path = path_, .synchronous = sync, .run_migrations = false}, clock_);
    EXPECT_TRUE(db) << (db ? "" : db.error().log_detail);
    return db ? std::move(*db) : nullptr;
  }
  static void exec(Connection& c,
                   const std::string& sql,
                   std::initializer_list<Param> params = {}) {
    auto r = c.exec(sql, Params(params.begin(), params.size()));
    ASSERT_TRUE(r) << r.error().log_detail << " in " << sql;
  }
  static std::string one(Connection& c, const std::string& sql) {
    auto row = c.queryOne(sql, {}, "value");
    EXPECT_TRUE(row) << (row ? "" : row.error().log_detail);
    return row ? row->text(0) : std::string();
  }

  SystemClock clock_;
  testing::TempDir dir_;
  std::string path_ = dir_.file("shim.db");
};

TEST(WalWriteVfsRegistrationTest, RegistersUnderItsOwnNameAndUnregistersOnDestruction) {
  std::string name;
  {
    auto vfs = WalWriteVfs::create();
    ASSERT_TRUE(vfs);
    name = (*vfs)->name();
    EXPECT_NE(sqlite3_vfs_find(name.c_str()), nullptr);
    EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(name.c_str()));  // not the default
  }
  EXPECT_EQ(sqlite3_vfs_find(name.c_str()), nullptr);
}

// Each commit is visible to another connection at once: the sync that ends a FULL commit is
// what writes the buffered frames, and it comes before the commit is published.
TEST_F(WalWriteVfsTest, EveryCommitIsVisibleToAnotherConnectionAtOnce) {
  auto db = open(SqliteSync::kFull);
  ASSERT_TRUE(db);
  auto writer = db->acquire();
  auto reader = db->acquire();
  ASSERT_TRUE(writer && reader);
  exec(**writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  exec(**writer, "CREATE INDEX t_body ON t (body)");
  int id = 0;
  for (int batch = 1; batch <= 40; ++batch) {
    exec(**writer, "BEGIN IMMEDIATE");
    for (int i = 0; i < batch * 3; ++i, ++id) {
      const std::string body = fmt::format("row {:06} {}", id, std::string(200, 'x'));
      exec(**writer, "INSERT INTO t (id, body) VALUES (?, ?)", {id, body});
    }
    exec(**writer, "COMMIT");
    ASSERT_EQ(one(**reader, "SELECT COUNT(*) FROM t"), std::to_string(id)) << "batch " << batch;
  }
  EXPECT_EQ(one(**reader, "PRAGMA integrity_check"), "ok");
}

// A transaction far larger than the buffer goes out in several writes and reads back whole,
// also through a connection that does not use the shim (synchronous=NORMAL).
TEST_F(WalWriteVfsTest, LargeTransactionsReadBackWholeWithoutTheShim) {
  std::string want;
  {
    auto db = open(SqliteSync::kFull);
    ASSERT_TRUE(db);
    auto c = db->acquire();
    ASSERT_TRUE(c);
    exec(**c, "PRAGMA wal_autocheckpoint=0");  // keep everything in the WAL
    exec(**c, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    exec(**c, "BEGIN IMMEDIATE");
    for (int id = 0; id < 3000; ++id) {  // ~3 MiB of pages: many buffer flushes
      const std::string body = fmt::format("{:04}", id) + std::string(1000, static_cast<char>(id));
      exec(**c, "INSERT INTO t (id, body) VALUES (?, ?)", {id, Blob::of(body)});
    }
    exec(**c, "COMMIT");
    want = one(**c,
               "SELECT COUNT(*) || ':' || SUM(LENGTH(body)) || ':' || "
               "SUM(UNICODE(SUBSTR(body, 900, 1))) FROM t");
  }
  auto plain = open(SqliteSync::kNormal);
  ASSERT_TRUE(plain);
  auto c = plain->acquire();
  ASSERT_TRUE(c);
  EXPECT_EQ(one(**c,
                "SELECT COUNT(*) || ':' || SUM(LENGTH(body)) || ':' || "
                "SUM(UNICODE(SUBSTR(body, 900, 1))) FROM t"),
            want);
  EXPECT_EQ(one(**c, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace livery::storage
