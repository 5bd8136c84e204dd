// Contract: the Database/Connection abstraction and migrations behave the same on every
// backend.

#include <limits>
#include <thread>

#include "integration/storage/contract_fixture.hpp"
#include "storage/migrations.hpp"

namespace livery::storage::contract {
namespace {

TEST_P(StorageContractTest, MigrationsRerunAsANoOp) {
  const auto expected = static_cast<std::int64_t>(embeddedMigrations(dialect()).size());
  auto report = must(migrate(db(), clock_), "migrate again");
  EXPECT_EQ(report.applied, 0);
  EXPECT_EQ(report.schema_version, embeddedMigrations(dialect()).back().version);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM schema_migrations"), expected);
  // Reopening (a restart) also applies nothing and keeps the data.
  tenant("survivor");
  auto again = must(backend_->openAnother(true, 1), "reopen");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM schema_migrations"), expected);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tenants"), 1);
}

TEST_P(StorageContractTest, NodesStartingAtOnceMigrateExactlyOnce) {
  auto empty = newBackend(false);
  ASSERT_NE(empty, nullptr);
  constexpr int kNodes = 4;
  std::vector<std::thread> nodes;
  std::vector<bool> ok(kNodes, false);
  std::vector<std::string> errors(kNodes);
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      auto db = empty->openAnother(true, 1);
      ok[static_cast<std::size_t>(i)] = static_cast<bool>(db);
      errors[static_cast<std::size_t>(i)] = errorText(db);
    });
  }
  for (auto& t : nodes) {
    t.join();
  }
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(ok[static_cast<std::size_t>(i)]) << errors[static_cast<std::size_t>(i)];
  }
  auto row = must(empty->db().withConnection([](Connection& c) {
    return c.queryOne("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations", {}, "n");
  }));
  const auto expected = static_cast<std::int64_t>(embeddedMigrations(dialect()).size());
  EXPECT_EQ(row.int64(0), expected);
  EXPECT_EQ(row.int64(1), expected);
}

TEST_P(StorageContractTest, AnEditedMigrationIsRefused) {
  raw("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");
  auto report = migrate(db(), clock_);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kInternal);
  EXPECT_NE(report.error().log_detail.find("append-only"), std::string::npos);
}

TEST_P(StorageContractTest, TypedValuesRoundTripExactly) {
  raw(dialect() == Dialect::kSqlite
          ? "CREATE TABLE rt (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)"
          : "CREATE TABLE rt (i BIGINT, d DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)");
  const std::vector<unsigned char> all_bytes = [] {
    std::vector<unsigned char> v;
    for (int i = 0; i < 256; ++i) {
      v.push_back(static_cast<unsigned char>(i));
    }
    return v;
  }();
  const std::string text = "ünïcødé 'quoted' \"double\" ? $1 \\ back\tslash";
  const std::string empty;
  const std::vector<unsigned char> no_bytes;
  const auto big = std::numeric_limits<std::int64_t>::max();
  const auto small = std::numeric_limits<std::int64_t>::min();
  must(db().withConnection([&](Connection& c) -> Result<void> {
    using Values = std::tuple<std::int64_t, const std::vector<unsigned char>*, const std::string*>;
    for (auto [i, bytes, s] : {Values{big, &all_bytes, &text}, Values{small, &no_bytes, &empty}}) {
      auto n = c.exec("INSERT INTO rt (i, d, s, b, n) VALUES (?, ?, ?, ?, ?)",
                      {i, 0.1 + 0.2, *s, *bytes, nullptr});
      if (!n) {
        return n.error();
      }
    }
    return {};
  }));
  auto rows = must(db().withConnection(
      [](Connection& c) { return c.query("SELECT i, d, s, b, n FROM rt ORDER BY i DESC"); }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].int64(0), big);
  EXPECT_DOUBLE_EQ(rows[0].real(1), 0.1 + 0.2);
  EXPECT_EQ(rows[0].text(2), text);
  EXPECT_EQ(rows[0].blob(3), all_bytes);
  EXPECT_TRUE(rows[0].isNull(4));
  EXPECT_EQ(rows[1].int64(0), small);
  EXPECT_EQ(rows[1].text(2), "");
  EXPECT_FALSE(rows[1].isNull(2));  // empty text is not NULL
  EXPECT_TRUE(rows[1].blob(3).empty());
  EXPECT_FALSE(rows[1].isNull(3));  // empty blob is not NULL
}

TEST_P(StorageContractTest, QuestionMarksInsideLiteralsAreNotPlaceholders) {
  auto row = must(db().withConnection([](Connection& c) {
    return c.queryOne("SELECT 'why?', ? || '?'", {std::string_view("x")}, "row");
  }));
  EXPECT_EQ(row.text(0), "why?");
  EXPECT_EQ(row.text(1), "x?");
}

TEST_P(StorageContractTest, ConstraintViolationsAreConflictsWithoutTheValues) {
  const Tenant t = tenant("acme");
  const std::string secret_hash(kCanary);
  ApiKey k{.id = "key_a",
           .tenant_id = t.id,
           .name = "a",
           .hash = std::vector<unsigned char>(secret_hash.begin(), secret_hash.end()),
           .environment = "live"};
  must(stores().api_keys.insert(k));
  k.id = "key_b";
  auto dup = stores().api_keys.insert(k);
  EXPECT_EQ(codeOf(dup), ErrorCode::kConflict);
  EXPECT_EQ(errorText(dup).find(kCanary), std::string::npos) << errorText(dup);
  // Neither as raw bytes nor hex-encoded.
  EXPECT_EQ(errorText(dup).find("43414e415259"), std::string::npos) << errorText(dup);
  // A foreign-key violation is a conflict too.
  auto orphan = stores().credentials.insert(Credential{.tenant_id = "tnt_missing", .label = "x"});
  EXPECT_EQ(codeOf(orphan), ErrorCode::kConflict);
}

TEST_P(StorageContractTest, ATransactionThatFailsLeavesNothingBehind) {
  auto r = db().inTransaction([&](Connection& c) -> Result<int> {
    auto n =
        c.exec("INSERT INTO plans (id, name, created_at, updated_at) VALUES ('p1', 'P', 1, 1)");
    if (!n) {
      return n.error();
    }
    return fail(ErrorCode::kConflict, "abandon");
  });
  EXPECT_FALSE(r);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM plans"), 0);
  // A statement error inside a transaction rolls back what came before it, too.
  auto bad = db().inTransaction([&](Connection& c) -> Result<void> {
    if (auto n = c.exec("INSERT INTO plans (id, name, created_at, updated_at) "
                        "VALUES ('p2', 'P', 1, 1)");
        !n) {
      return n.error();
    }
    auto dup = c.exec(
        "INSERT INTO plans (id, name, created_at, updated_at) "
        "VALUES ('p2', 'P', 1, 1)");
    if (!dup) {
      return dup.error();
    }
    return {};
  });
  EXPECT_EQ(codeOf(bad), ErrorCode::kConflict);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM plans"), 0);
  // The connection is clean for the next user.
  must(stores().plans.insert(Plan{.id = "p3", .name = "P"}));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM plans"), 1);
}

TEST_P(StorageContractTest, ALeaseDroppedMidTransactionRollsBack) {
  {
    auto lease = must(db().acquire());
    must(lease->begin());
    must(
        lease->exec("INSERT INTO plans (id, name, created_at, updated_at) "
                    "VALUES ('p1', 'P', 1, 1)"));
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM plans"), 0);
}

TEST_P(StorageContractTest, AcquireFailsUnavailableWhenEveryConnectionIsLent) {
  auto small = must(backend_->openAnother(false, 2));
  auto a = must(small->acquire());
  auto b = must(small->acquire());
  auto c = small->acquire(std::chrono::milliseconds(30));
  EXPECT_EQ(codeOf(c), ErrorCode::kUnavailable);
}

TEST_P(StorageContractTest, RawSqlErrorsAreInternalAndNameTheStatement) {
  auto r = db().withConnection(
      [](Connection& c) { return c.exec("SELECT * FROM no_such_table WHERE x = ?", {1}); });
  EXPECT_EQ(codeOf(r), ErrorCode::kInternal);
  EXPECT_NE(errorText(r).find("no_such_table"), std::string::npos);
  EXPECT_EQ(r.error().client_message, "storage error");  // nothing internal for clients
}

}  // namespace
}  // namespace livery::storage::contract
