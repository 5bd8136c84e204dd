// RedisLimiter against a real Redis (LIVERY_TEST_REDIS_URL; label needs-redis): the limiter
// contract with time injected into the scripts, plus what only a shared store can show (several
// nodes, scripts flushed, a node dying with reservations, credentials, databases).
#include "limits/redis/redis_limiter.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "core/ids.hpp"
#include "support/fake_clock.hpp"
#include "support/services.hpp"
#include "unit/limits/limiter_contract.hpp"

namespace livery::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RedisEndpoint endpointOf(const std::string& url) {
  auto e = parseRedisUrl(url);
  if (!e) {
    ADD_FAILURE() << "LIVERY_TEST_REDIS_URL: " << e.error().client_message;
    return {};
  }
  return std::move(*e);
}

RedisLimiterOptions testOptions() {
  RedisLimiterOptions o;
  o.pool_size = 8;
  o.timeout = milliseconds(5000);  // a shared 2-core machine, sanitizers: no flaky timeouts
  o.key_prefix = "lvtest";
  o.time_source = RedisTimeSource::kClientClock;
  return o;
}

// A node: a RedisLimiter with its own pool, logger and metrics.
struct Node {
  Node(const std::string& url, const Clock& clock, RedisLimiterOptions options = testOptions())
      : logger(sink, LogLevel::kInfo, clock),
        limiter(endpointOf(url), std::move(options), clock, logger, metrics) {}
  std::shared_ptr<MemoryLogSink> sink = std::make_shared<MemoryLogSink>();
  Logger logger;
  MetricsRegistry metrics;
  RedisLimiter limiter;
};

class RedisHarness final : public contract::LimiterHarness {
 public:
  RedisHarness(const std::string& url, const contract::HarnessConfig& config)
      : LimiterHarness(config), node_(url, clock(), [&] {
          auto o = testOptions();
          o.burst_seconds = config.burst_seconds;
          return o;
        }()) {}
  Limiter& limiter() override { return node_.limiter; }

 private:
  Node node_;
};

using contract::LimiterContractTest;

INSTANTIATE_TEST_SUITE_P(Redis,
                         LimiterContractTest,
                         ::testing::Values(contract::LimiterBackend{
                             "Redis",
                             "LIVERY_TEST_REDIS_URL",
                             [](const std::string& url, const contract::HarnessConfig& config) {
                               return std::make_unique<RedisHarness>(url, config);
                             }}),
                         contract::backendName);

// Runs admin commands with the production pool.
class Admin {
 public:
  explicit Admin(const std::string& url) : pool_(endpointOf(url), 1, milliseconds(2000)) {}
  RedisReplyPtr run(std::vector<std::string_view> args) {
    bool exhausted = false;
    auto lease = pool_.acquire(exhausted);
    EXPECT_TRUE(lease);
    if (!lease) {
      return nullptr;
    }
    auto reply = (*lease)->command(args);
    EXPECT_TRUE(reply);
    return reply ? std::move(*reply) : nullptr;
  }
  std::vector<std::string> keys(const std::string& pattern) {
    std::vector<std::string> out;
    auto r = run({"KEYS", pattern});
    for (std::size_t i = 0; r && i < r->elements; ++i) {
      out.emplace_back(r->element[i]->str, r->element[i]->len);
    }
    return out;
  }

 private:
  RedisPool pool_;
};

TEST(RedisLimiterTest, ReloadsItsScriptsAfterAScriptFlush) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  livery::testing::FakeClock clock;
  Node node(url, clock);
  Admin admin(url);
  AdmissionRequest r;
  const std::string tenant = randomId("tnt");
  r.tenant_id = tenant;
  r.tenant = {.rpm = 6000};
  ASSERT_TRUE(admin.run({"SCRIPT", "FLUSH"}));
  ASSERT_TRUE(node.limiter.admit(r).admitted());
  EXPECT_EQ(node.limiter.stats().script_loads.value(), 1u);
  ASSERT_TRUE(node.limiter.admit(r).admitted());
  EXPECT_EQ(node.limiter.stats().script_loads.value(), 1u);  // EVALSHA hit the cache
  ASSERT_TRUE(admin.run({"SCRIPT", "FLUSH"}));
  Decision d = node.limiter.admit(r);
  ASSERT_TRUE(d.admitted());
  EXPECT_FALSE(d.degraded);
  EXPECT_EQ(node.limiter.stats().script_loads.value(), 2u);
  EXPECT_EQ(node.limiter.stats().redis_errors.value(), 0u);
}

TEST(RedisLimiterTest, KeysAreNamespacedByTenantWithAClusterHashTag) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  livery::testing::FakeClock clock;
  auto options = testOptions();
  options.key_prefix = randomId("lvkeys");
  Node node(url, clock, options);
  const std::string tenant = randomId("tnt");
  AdmissionRequest r;
  r.tenant_id = tenant;
  r.api_key_id = "key_1";
  r.end_user = "user:with:colons";
  r.tenant = {.rpm = 600, .tpm = 60'000};
  r.api_key = {.rpm = 600, .tpm = 60'000};
  r.end_user_limits = {.rpm = 600, .tpm = 60'000};
  r.tenant_monthly_quota = 100'000;
  r.api_key_monthly_quota = 100'000;
  r.estimated_tokens = 100;
  Decision d = node.limiter.admit(r);
  ASSERT_TRUE(d.admitted());
  Admin admin(url);
  const auto keys = admin.keys(options.key_prefix + ":*");
  EXPECT_EQ(keys.size(), 10u);  // six GCRA keys, two quota hashes, two reservation sets
  for (const auto& k : keys) {
    EXPECT_EQ(k.rfind(options.key_prefix + ":{" + tenant + "}:", 0), 0u) << k;
  }
  const std::string period = monthPeriod(clock.wallNow());
  const std::string hash = options.key_prefix + ":{" + tenant + "}:q:t:" + period;
  auto reserved = admin.run({"HGET", hash, "reserved"});
  ASSERT_TRUE(reserved && reserved->type == REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(reserved->str, reserved->len), "100");
  ASSERT_TRUE(d.reservation.settle(40));
  auto used = admin.run({"HMGET", hash, "used", "reserved"});
  ASSERT_TRUE(used && used->elements == 2);
  EXPECT_EQ(std::string(used->element[0]->str, used->element[0]->len), "40");
  EXPECT_EQ(std::string(used->element[1]->str, used->element[1]->len), "0");
}

TEST(RedisLimiterTest, LimitsAndQuotasHoldAcrossNodes) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  livery::testing::FakeClock clock;
  std::array<std::unique_ptr<Node>, 3> nodes;
  for (auto& n : nodes) {
    n = std::make_unique<Node>(url, clock);
  }
  const std::string tenant = randomId("tnt");
  AdmissionRequest r;
  r.tenant_id = tenant;
  r.tenant = {.rpm = 600};
  int accepted = 0;
  for (int i = 0; i < 1200; ++i) {  // twice the limit for 60 s, spread over three nodes
    accepted += nodes.at(static_cast<std::size_t>(i % 3))->limiter.admit(r).admitted() ? 1 : 0;
    clock.advance(milliseconds(50));
  }
  EXPECT_GE(accepted, 588);
  EXPECT_LE(accepted, 612);

  AdmissionRequest q;
  q.tenant_id = tenant;
  q.tenant_monthly_quota = 1000;
  q.estimated_tokens = 600;
  Decision a = nodes[0]->limiter.admit(q);
  ASSERT_TRUE(a.admitted());
  Decision b = nodes[1]->limiter.admit(q);
  ASSERT_FALSE(b.admitted());
  EXPECT_EQ(b.rejection->code, ErrorCode::kQuotaExceeded);
  ASSERT_TRUE(a.reservation.settle(100));
  EXPECT_TRUE(nodes[2]->limiter.admit(q).admitted());
}

TEST(RedisLimiterTest, ReservationsOfANodeThatLostRedisExpire) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  // The dying node connects as its own ACL user, so its connections can be cut alone (other
  // test processes share this Redis).
  Admin admin(url);
  const std::string user = randomId("lvdying");
  const std::string password = randomId("pw");
  ASSERT_TRUE(admin.run({"ACL", "SETUSER", user, "on", ">" + password, "~*", "+@all"}));
  const auto endpoint = endpointOf(url);
  const std::string dying_url = "redis://" + user + ":" + password + "@" + endpoint.host + ":" +
                                std::to_string(endpoint.port);

  livery::testing::FakeClock clock;
  auto options = testOptions();
  options.reservation_ttl = seconds(60);
  Node dying(dying_url, clock, options);
  const std::string tenant = randomId("tnt");
  AdmissionRequest q;
  q.tenant_id = tenant;
  q.tenant_monthly_quota = 1000;
  q.estimated_tokens = 1000;
  Decision held = dying.limiter.admit(q);
  ASSERT_TRUE(held.admitted());
  ASSERT_FALSE(held.degraded);

  ASSERT_TRUE(admin.run({"ACL", "SETUSER", user, "off"}));  // no reconnect either
  ASSERT_TRUE(admin.run({"CLIENT", "KILL", "USER", user}));
  auto settled = held.reservation.settle(1000);
  EXPECT_FALSE(settled);
  EXPECT_EQ(dying.limiter.stats().settle_failures.value(), 1u);

  Node survivor(url, clock, options);
  q.estimated_tokens = 1;
  EXPECT_EQ(survivor.limiter.admit(q).rejection->code, ErrorCode::kQuotaExceeded);
  const std::string period = monthPeriod(clock.wallNow());
  auto held_usage = survivor.limiter.quotaUsage(LimitScope::kTenant, tenant, "", period);
  ASSERT_TRUE(held_usage);
  EXPECT_EQ(held_usage->reserved, 1000u);
  clock.advance(seconds(61));  // the reservation's ttl has passed: the next admission frees it
  auto expired_usage = survivor.limiter.quotaUsage(LimitScope::kTenant, tenant, "", period);
  ASSERT_TRUE(expired_usage);
  EXPECT_EQ(expired_usage->reserved, 0u) << "an expired reservation is not shown as held";
  q.estimated_tokens = 1000;
  Decision after = survivor.limiter.admit(q);
  EXPECT_TRUE(after.admitted());
  EXPECT_FALSE(after.degraded);
  (void)admin.run({"ACL", "DELUSER", user});
}

TEST(RedisLimiterTest, UsesRedisTimeByDefault) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  SystemClock clock;
  auto options = testOptions();
  options.time_source = RedisTimeSource::kServer;
  Node node(url, clock, options);
  const std::string tenant = randomId("tnt");
  AdmissionRequest r;
  r.tenant_id = tenant;
  r.tenant = {.rpm = 60};
  Decision first = node.limiter.admit(r);
  ASSERT_TRUE(first.admitted());
  EXPECT_FALSE(first.degraded);
  Decision second = node.limiter.admit(r);
  ASSERT_FALSE(second.admitted());
  EXPECT_EQ(second.rejection->code, ErrorCode::kRateLimited);
  EXPECT_EQ(second.rejection->retry_after_s, 1);
}

TEST(RedisLimiterTest, AuthenticatesWithTheUrlsCredentialsAndNeverLogsThem) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  const std::string user = randomId("lvuser");
  const std::string password = "canary-" + randomId("pw");
  Admin admin(url);
  ASSERT_TRUE(admin.run({"ACL", "SETUSER", user, "on", ">" + password, "~*", "+@all"}));
  auto endpoint = endpointOf(url);
  const std::string base = "redis://" + user + ":";
  const std::string host = endpoint.host + ":" + std::to_string(endpoint.port);
  livery::testing::FakeClock clock;
  {
    Node good(base + password + "@" + host, clock);
    AdmissionRequest r;
    const std::string tenant = randomId("tnt");
    r.tenant_id = tenant;
    r.tenant_monthly_quota = 100;
    Decision d = good.limiter.admit(r);
    EXPECT_TRUE(d.admitted());
    EXPECT_FALSE(d.degraded);
    EXPECT_EQ(good.sink->joined().find(password), std::string::npos);
  }
  {
    const std::string wrong = "canary-wrong-" + randomId("pw");
    Node bad(base + wrong + "@" + host, clock);
    AdmissionRequest r;
    const std::string tenant = randomId("tnt");
    r.tenant_id = tenant;
    r.tenant_monthly_quota = 100;
    Decision d = bad.limiter.admit(r);
    ASSERT_FALSE(d.admitted());
    EXPECT_EQ(d.rejection->code, ErrorCode::kUnavailable);  // quotas fail closed
    const std::string log = bad.sink->joined();
    EXPECT_NE(log.find("limits_redis_degraded"), std::string::npos);
    EXPECT_NE(log.find("AUTH"), std::string::npos);
    EXPECT_EQ(log.find(wrong), std::string::npos);
    EXPECT_EQ(bad.metrics.render().find(wrong), std::string::npos);
    EXPECT_EQ(d.rejection->log_detail.find(wrong), std::string::npos);
  }
  (void)admin.run({"ACL", "DELUSER", user});
}

TEST(RedisLimiterTest, UsesTheDatabaseNamedInTheUrl) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  auto endpoint = endpointOf(url);
  const std::string db_url =
      "redis://" + endpoint.host + ":" + std::to_string(endpoint.port) + "/5";
  livery::testing::FakeClock clock;
  auto options = testOptions();
  options.key_prefix = randomId("lvdb");
  Node node(db_url, clock, options);
  AdmissionRequest r;
  const std::string tenant = randomId("tnt");
  r.tenant_id = tenant;
  r.tenant = {.rpm = 60};
  ASSERT_TRUE(node.limiter.admit(r).admitted());
  Admin db0(url);
  Admin db5(db_url);
  EXPECT_TRUE(db0.keys(options.key_prefix + ":*").empty());
  EXPECT_EQ(db5.keys(options.key_prefix + ":*").size(), 1u);
}

}  // namespace
}  // namespace livery::limits
