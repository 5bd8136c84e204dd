#include "storage/sqlite/sqlite_database.hpp"

#include <filesystem>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/clock.hpp"
#include "storage/migrations.hpp"
#include "storage/open.hpp"
#include "support/temp_dir.hpp"

namespace livery::storage {
namespace {

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> open(SqliteOptions options) {
    auto db = SqliteDatabase::open(std::move(options), clock_);
    EXPECT_TRUE(db) << (db ? "" : db.error().log_detail);
    return db ? std::move(*db) : nullptr;
  }
  std::string pragma(Database& db, const std::string& name) {
    auto lease = db.acquire();
    EXPECT_TRUE(lease);
    auto row = (*lease)->queryOne("PRAGMA " + name, {}, name);
    EXPECT_TRUE(row);
    return row ? row->text(0) : std::string();
  }

  SystemClock clock_;
  testing::TempDir dir_;
};

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST_F(SqliteDatabaseTest, CreatesTheFileAndItsWalWithMode0600) {
  const std::string path = dir_.file("data/livery.db");
  auto db = open({.path = path});
  ASSERT_TRUE(db);
  {
    auto lease = db->acquire();
    ASSERT_TRUE(lease);
    ASSERT_TRUE(
        (*lease)->exec("INSERT INTO plans (id, name, created_at, updated_at) "
                       "VALUES ('free', 'Free', 1, 1)"));
  }
  EXPECT_EQ(modeOf(path), 0600u);
  ASSERT_TRUE(std::filesystem::exists(path + "-wal"));
  EXPECT_EQ(modeOf(path + "-wal"), 0600u);
  EXPECT_EQ(modeOf(path + "-shm"), 0600u);
}

TEST_F(SqliteDatabaseTest, NarrowsTheModeOfAnExistingFile) {
  const std::string path = dir_.file("loose.db");
  testing::writeFile(path, "");
  ::chmod(path.c_str(), 0644);
  auto db = open({.path = path});
  ASSERT_TRUE(db);
  EXPECT_EQ(modeOf(path), 0600u);
}

TEST_F(SqliteDatabaseTest, AppliesWalForeignKeysAndTheConfiguredSynchronousMode) {
  auto full = open({.path = dir_.file("full.db")});
  ASSERT_TRUE(full);
  EXPECT_EQ(pragma(*full, "journal_mode"), "wal");
  EXPECT_EQ(pragma(*full, "foreign_keys"), "1");
  EXPECT_EQ(pragma(*full, "synchronous"), "2");  // FULL
  auto normal = open({.path = dir_.file("normal.db"), .synchronous = SqliteSync::kNormal});
  ASSERT_TRUE(normal);
  EXPECT_EQ(pragma(*normal, "synchronous"), "1");
}

TEST_F(SqliteDatabaseTest, MapsTheDatabaseUpToTheConfiguredSizeOrNotAtAll) {
  auto mapped = open({.path = dir_.file("mapped.db"), .mmap_bytes = 64 << 20});
  ASSERT_TRUE(mapped);
  EXPECT_EQ(pragma(*mapped, "mmap_size"), std::to_string(64 << 20));
  auto unmapped = open({.path = dir_.file("unmapped.db"), .mmap_bytes = 0});
  ASSERT_TRUE(unmapped);
  EXPECT_EQ(pragma(*unmapped, "mmap_size"), "0");
}

TEST_F(SqliteDatabaseTest, RefusesAnInMemoryDatabase) {
  auto db = SqliteDatabase::open({.path = ":memory:"}, clock_);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::kBadRequest);
}

TEST_F(SqliteDatabaseTest, AnUnwritableLocationFailsAtOpen) {
  auto db = SqliteDatabase::open({.path = "/proc/livery-cannot-exist/x.db"}, clock_);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable);
}

TEST_F(SqliteDatabaseTest, AWriterBlockedBeyondBusyTimeoutGetsUnavailable) {
  auto db = open({.path = dir_.file("busy.db"),
                  .busy_timeout = std::chrono::milliseconds(50),
                  .pool = {.max_connections = 2}});
  ASSERT_TRUE(db);
  auto first = db->acquire();
  auto second = db->acquire();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE((*first)->begin());  // BEGIN IMMEDIATE: holds the write lock
  auto blocked = (*second)->begin();
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
  ASSERT_TRUE((*first)->rollback());
  EXPECT_TRUE((*second)->begin());
  EXPECT_TRUE((*second)->rollback());
}

TEST_F(SqliteDatabaseTest, ParameterCountMismatchIsAnInternalError) {
  auto db = open({.path = dir_.file("params.db")});
  ASSERT_TRUE(db);
  auto lease = db->acquire();
  ASSERT_TRUE(lease);
  auto r = (*lease)->exec("SELECT ?, ?", {1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  auto several = (*lease)->exec("SELECT 1; SELECT 2");
  ASSERT_FALSE(several);
}

TEST_F(SqliteDatabaseTest, OpenDatabaseChoosesTheBackendByName) {
  auto db = openDatabase({.backend = "sqlite", .sqlite_path = dir_.file("open.db")}, clock_);
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->dialect(), Dialect::kSqlite);
  EXPECT_EQ(pragma(**db, "synchronous"), "2");
  auto unknown = openDatabase({.backend = "mysql"}, clock_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kBadRequest);
}

TEST_F(SqliteDatabaseTest, ParsesSynchronousNames) {
  EXPECT_EQ(parseSqliteSync("FULL").value(), SqliteSync::kFull);
  EXPECT_EQ(parseSqliteSync("normal").value(), SqliteSync::kNormal);
  EXPECT_EQ(parseSqliteSync("off").value(), SqliteSync::kOff);
  EXPECT_FALSE(parseSqliteSync("extra"));
}

}  // namespace
}  // namespace livery::storage
