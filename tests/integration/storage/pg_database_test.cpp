// PostgreSQL-specific behaviour the contract suite cannot express: reconnecting, deadlines and
// keeping the URL's password out of every error.

#include "storage/postgres/pg_database.hpp"

#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "integration/storage/contract_fixture.hpp"
#include "support/services.hpp"

namespace livery::storage::contract {
namespace {

using namespace std::chrono_literals;

// postgresql://user@host… → postgresql://user:<password>@host…
std::string withPassword(const std::string& url, std::string_view password) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) {
    return url;
  }
  std::string out = url;
  const auto colon = url.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) {
    out.erase(colon, at - colon);
    out.insert(colon, ":" + std::string(password));
  } else {
    out.insert(at, ":" + std::string(password));
  }
  return out;
}

class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_PG_URL");
    url_ = url;
    app_ = "livery-pgtest-" + randomId("a").substr(2);
  }

  Result<std::unique_ptr<PgDatabase>> open(std::string url,
                                           std::chrono::milliseconds statement_timeout = 30s,
                                           std::chrono::milliseconds io_grace = 2s) {
    PgOptions o;
    o.url = SecretBytes::copyOf(url);
    o.run_migrations = false;
    o.pool = {.max_connections = 2, .acquire_timeout = 2s};
    o.statement_timeout = statement_timeout;
    o.io_grace = io_grace;
    o.connect_timeout = 2s;
    o.application_name = app_;
    return PgDatabase::open(std::move(o), clock_);
  }

  std::int64_t backendPid(Database& db) {
    auto row = must(db.withConnection(
        [](Connection& c) { return c.queryOne("SELECT pg_backend_pid()", {}, "pid"); }));
    return row.int64(0);
  }

  SystemClock clock_;
  std::string url_;
  std::string app_;
};

TEST_F(PgDatabaseTest, ReplacesASessionTheServerTerminatedWhileIdle) {
  auto db = must(open(url_));
  const auto pid = backendPid(*db);
  auto admin = must(open(url_));
  auto killed = must(admin->withConnection([&](Connection& c) {
    return c.queryOne("SELECT pg_terminate_backend(?)", {pid}, "terminate");
  }));
  ASSERT_TRUE(killed.boolean(0));
  // Wait (bounded) until the server has really closed it.
  for (int i = 0; i < 2000; ++i) {
    auto alive = must(admin->withConnection([&](Connection& c) {
      return c.queryOne("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?", {pid}, "n");
    }));
    if (alive.int64(0) == 0) {
      break;
    }
  }
  // The caller never sees the dead session: the pool notices and connects afresh.
  const auto new_pid = backendPid(*db);
  EXPECT_NE(new_pid, pid);
}

TEST_F(PgDatabaseTest, AStatementPastItsTimeoutIsUnavailableAndTheSessionSurvives) {
  auto db = must(open(url_, 200ms));
  const auto start = std::chrono::steady_clock::now();
  auto r = db->withConnection([](Connection& c) { return c.exec("SELECT pg_sleep(5)"); });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(codeOf(r), ErrorCode::kUnavailable);
  EXPECT_LT(took, 3s);
  EXPECT_NE(errorText(r).find("57014"), std::string::npos) << errorText(r);
  EXPECT_GT(backendPid(*db), 0);
}

TEST_F(PgDatabaseTest, TheClientDeadlineDiscardsASessionThatStopsAnswering) {
  auto db = must(open(url_, 200ms, 100ms));
  auto lease = must(db->acquire());
  const auto pid = [&] {
    auto row = must(lease->queryOne("SELECT pg_backend_pid()", {}, "pid"));
    return row.int64(0);
  }();
  // The server-side timeout is off for this session, so only the client deadline can end it.
  must(lease->execScript("SET statement_timeout = 0"));
  const auto start = std::chrono::steady_clock::now();
  auto r = lease->exec("SELECT pg_sleep(3)");
  EXPECT_EQ(codeOf(r), ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(lease->broken());
  lease = ConnectionLease();
  EXPECT_NE(backendPid(*db), pid);
}

TEST_F(PgDatabaseTest, AnUnreachableServerFailsWithoutThePassword) {
  auto r = open(fmt::format("postgresql://livery:{}@127.0.0.1:1/livery", kCanary));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(errorText(r).find(kCanary), std::string::npos) << errorText(r);
  // Percent-encoded in the URL, and as a key=value conninfo.
  auto encoded = open("postgresql://livery:CANARY%2Dpct%2D1@127.0.0.1:1/livery");
  ASSERT_FALSE(encoded);
  EXPECT_EQ(errorText(encoded).find("CANARY"), std::string::npos) << errorText(encoded);
  auto kv = open(fmt::format("host=127.0.0.1 port=1 user=livery password={}", kCanary));
  ASSERT_FALSE(kv);
  EXPECT_EQ(errorText(kv).find(kCanary), std::string::npos) << errorText(kv);
}

TEST_F(PgDatabaseTest, AMalformedUrlIsRejectedWithoutEchoingIt) {
  auto r = open(fmt::format("postgresql://livery:{}@127.0.0.1:notaport/livery", kCanary));
  ASSERT_FALSE(r);  // libpq checks the port only when connecting
  EXPECT_TRUE(r.error().code == ErrorCode::kBadRequest ||
              r.error().code == ErrorCode::kUnavailable);
  EXPECT_EQ(errorText(r).find(kCanary), std::string::npos) << errorText(r);
  auto junk = open(fmt::format("postgresql://x/?{}=1", kCanary));
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(errorText(junk).find(kCanary), std::string::npos) << errorText(junk);
}

TEST_F(PgDatabaseTest, ThePasswordNeverReachesStatementErrors) {
  // The test server trusts loopback, so any password is accepted: it just must not leak.
  auto db = must(open(withPassword(url_, kCanary)));
  auto bad = db->withConnection(
      [](Connection& c) { return c.exec("SELECT * FROM missing_table WHERE a = ?", {1}); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(errorText(bad).find(kCanary), std::string::npos);
  auto cast = db->withConnection([](Connection& c) {
    return c.queryOne("SELECT CAST(? AS BIGINT)", {std::string_view(kCanary)}, "x");
  });
  ASSERT_FALSE(cast);
  // A data exception would quote the offending value: only the SQLSTATE is kept.
  EXPECT_EQ(errorText(cast).find(kCanary), std::string::npos) << errorText(cast);
  EXPECT_NE(errorText(cast).find("22P02"), std::string::npos) << errorText(cast);
}

}  // namespace
}  // namespace livery::storage::contract
