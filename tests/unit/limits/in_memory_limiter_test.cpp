#include "limits/in_memory_limiter.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"
#include "unit/limits/limiter_contract.hpp"

namespace livery::limits {
namespace {

using std::chrono::seconds;

class InMemoryHarness final : public contract::LimiterHarness {
 public:
  explicit InMemoryHarness(const contract::HarnessConfig& config)
      : LimiterHarness(config), limiter_(clock(), {.burst_seconds = config.burst_seconds}) {}
  Limiter& limiter() override { return limiter_; }

 private:
  InMemoryLimiter limiter_;
};

using contract::LimiterContractTest;

INSTANTIATE_TEST_SUITE_P(InMemory,
                         LimiterContractTest,
                         ::testing::Values(contract::LimiterBackend{
                             "InMemory",
                             "",
                             [](const std::string&, const contract::HarnessConfig& config) {
                               return std::make_unique<InMemoryHarness>(config);
                             }}),
                         contract::backendName);

TEST(InMemoryLimiterTest, IsNotBlocking) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock);
  EXPECT_FALSE(limiter.isBlocking());
}

TEST(InMemoryLimiterTest, EvictsEntriesThatWentIdle) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 4, .sweep_interval = seconds(60)});
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.end_user_limits = {.rpm = 60};
  for (int i = 0; i < 1000; ++i) {
    const std::string user = "user-" + std::to_string(i);
    r.end_user = user;
    ASSERT_TRUE(limiter.admit(r).admitted());
  }
  EXPECT_EQ(limiter.entryCount(), 1000u);
  clock.advance(seconds(61));  // every entry's debt is paid and a sweep is due
  r.end_user = "late";
  ASSERT_TRUE(limiter.admit(r).admitted());
  EXPECT_EQ(limiter.entryCount(), 1u);
}

TEST(InMemoryLimiterTest, BoundsMemoryWhenEveryEntryIsActive) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 4, .max_entries = 400});
  AdmissionRequest r;
  r.tenant_id = "tnt_a";  // one tenant: one shard, whose share is 100 entries
  r.end_user_limits = {.rpm = 1};
  for (int i = 0; i < 10'000; ++i) {
    const std::string user = "user-" + std::to_string(i);
    r.end_user = user;
    ASSERT_TRUE(limiter.admit(r).admitted());
    ASSERT_LE(limiter.entryCount(), 101u);
  }
}

// Subjects live in flat per-shard tables keyed by (tenant, scope, id): growth keeps every
// subject's state, and subjects whose key bytes concatenate alike stay apart.
TEST(InMemoryLimiterTest, KeepsEverySubjectsStateAsTheTablesGrow) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 2});
  std::vector<std::string> tenants;
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    tenants.push_back("tnt_" + std::to_string(i % 300));
    keys.push_back("key_" + std::to_string(i));
  }
  AdmissionRequest r;
  r.api_key = {.rpm = 1};  // one request per key per minute (burst 1 s: exactly one)
  for (int i = 0; i < 3000; ++i) {
    r.tenant_id = tenants[i];
    r.api_key_id = keys[i];
    ASSERT_TRUE(limiter.admit(r).admitted()) << i;
  }
  EXPECT_EQ(limiter.entryCount(), 3000u);
  for (int i = 0; i < 3000; ++i) {
    r.tenant_id = tenants[i];
    r.api_key_id = keys[i];
    Decision d = limiter.admit(r);
    ASSERT_FALSE(d.admitted()) << i;
    EXPECT_EQ(d.rejected_by, (LimitId{LimitScope::kApiKey, LimitKind::kRequestsPerMinute}));
  }
}

TEST(InMemoryLimiterTest, SubjectsWithTheSameConcatenatedBytesStayApart) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 1});
  AdmissionRequest a;
  a.tenant_id = "tnt_ab";
  a.api_key_id = "c";
  a.api_key = {.rpm = 1};
  AdmissionRequest b = a;
  b.tenant_id = "tnt_a";
  b.api_key_id = "bc";
  AdmissionRequest eu = a;  // same tenant and id bytes, end-user scope
  eu.api_key_id = "";
  eu.api_key = {};
  eu.end_user = "c";
  eu.end_user_limits = {.rpm = 1};
  ASSERT_TRUE(limiter.admit(a).admitted());
  EXPECT_TRUE(limiter.admit(b).admitted());
  EXPECT_TRUE(limiter.admit(eu).admitted());
  EXPECT_FALSE(limiter.admit(a).admitted());
  EXPECT_FALSE(limiter.admit(b).admitted());
  EXPECT_FALSE(limiter.admit(eu).admitted());
}

TEST(InMemoryLimiterTest, LongIdsAreStoredAndComparedInFull) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 1});
  const std::string base(200, 'u');  // longer than a record's inline key bytes
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.end_user_limits = {.rpm = 1};
  std::vector<std::string> users;
  for (int i = 0; i < 50; ++i) {
    users.push_back(base + std::to_string(i));  // differ only at the end
  }
  for (const auto& u : users) {
    r.end_user = u;
    ASSERT_TRUE(limiter.admit(r).admitted()) << u.size();
  }
  for (const auto& u : users) {
    r.end_user = u;
    EXPECT_FALSE(limiter.admit(r).admitted());
  }
  EXPECT_EQ(limiter.entryCount(), 50u);
}

// A reservation settles into the records it reserved in, across table growth in between.
TEST(InMemoryLimiterTest, SettlesAfterTheTableGrew) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 1});
  AdmissionRequest q;
  q.tenant_id = "tnt_a";
  q.api_key_id = "key_1";
  q.tenant_monthly_quota = 1000;
  q.api_key_monthly_quota = 500;
  q.estimated_tokens = 400;
  Decision d = limiter.admit(q);
  ASSERT_TRUE(d.admitted());
  AdmissionRequest other;
  other.tenant_id = "tnt_b";
  other.end_user_limits = {.rpm = 100};
  for (int i = 0; i < 2000; ++i) {
    const std::string user = "user-" + std::to_string(i);
    other.end_user = user;
    ASSERT_TRUE(limiter.admit(other).admitted());
  }
  ASSERT_TRUE(d.reservation.settle(100));
  q.estimated_tokens = 400;          // key: 100 used + 400 = 500 fits exactly
  Decision held = limiter.admit(q);  // kept pending: its reservation counts
  EXPECT_TRUE(held.admitted());
  q.estimated_tokens = 1;
  Decision rejected = limiter.admit(q);
  EXPECT_FALSE(rejected.admitted());
  EXPECT_EQ(rejected.rejected_by, (LimitId{LimitScope::kApiKey, LimitKind::kMonthlyTokens}));
}

TEST(InMemoryLimiterTest, NeverForgetsTheCurrentMonthsQuotaUsage) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock, {.shards = 1, .max_entries = 10});
  AdmissionRequest q;
  q.tenant_id = "tnt_a";
  q.tenant_monthly_quota = 1000;
  q.estimated_tokens = 1000;
  Decision d = limiter.admit(q);
  ASSERT_TRUE(d.admitted());
  ASSERT_TRUE(d.reservation.settle(1000));
  AdmissionRequest flood;
  flood.tenant_id = "tnt_a";
  flood.end_user_limits = {.rpm = 1};
  for (int i = 0; i < 500; ++i) {
    const std::string user = "user-" + std::to_string(i);
    flood.end_user = user;
    ASSERT_TRUE(limiter.admit(flood).admitted());
  }
  clock.advance(seconds(120));
  flood.end_user = "sweeper";
  ASSERT_TRUE(limiter.admit(flood).admitted());
  q.estimated_tokens = 1;
  EXPECT_FALSE(limiter.admit(q).admitted());
}

TEST(InMemoryLimiterTest, SeededUsageCountsAgainstTheQuota) {
  livery::testing::FakeClock clock;  // 2026-09
  InMemoryLimiter limiter(clock);
  const std::string period = monthPeriod(clock.wallNow());
  limiter.seedQuotaUsage(LimitScope::kTenant, "tnt_a", "", period, 900);
  limiter.seedQuotaUsage(LimitScope::kApiKey, "tnt_a", "key_1", period, 50);
  limiter.seedQuotaUsage(LimitScope::kTenant, "tnt_b", "", "2020-01", 900);  // a past month
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 101;
  EXPECT_FALSE(limiter.admit(r).admitted());
  r.estimated_tokens = 100;
  EXPECT_TRUE(limiter.admit(r).admitted());

  AdmissionRequest k;
  k.tenant_id = "tnt_a";
  k.api_key_id = "key_1";
  k.api_key_monthly_quota = 100;
  k.estimated_tokens = 51;
  EXPECT_EQ(*limiter.admit(k).rejected_by,
            (LimitId{LimitScope::kApiKey, LimitKind::kMonthlyTokens}));

  AdmissionRequest b;
  b.tenant_id = "tnt_b";
  b.tenant_monthly_quota = 1000;
  b.estimated_tokens = 1000;
  EXPECT_TRUE(limiter.admit(b).admitted());
}

TEST(InMemoryLimiterTest, RejectsARequestWithoutTenant) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock);
  Decision d = limiter.admit(AdmissionRequest{});
  ASSERT_FALSE(d.admitted());
  EXPECT_EQ(d.rejection->code, ErrorCode::kInternal);
}

// Many threads admitting and settling for a few tenants: the total admitted by a shared rate
// limit matches the GCRA's burst exactly (run under the tsan preset for data races).
TEST(InMemoryLimiterTest, ConcurrentAdmissionsShareOneBudget) {
  livery::testing::FakeClock clock;
  InMemoryLimiter limiter(clock);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      AdmissionRequest r;
      r.tenant_id = "tnt_shared";
      r.tenant = {.rpm = 6000, .tpm = 1'000'000};  // burst of 100 requests
      const std::string user = "user-" + std::to_string(t);
      r.end_user = user;
      r.estimated_tokens = 10;
      for (int i = 0; i < 200; ++i) {
        Decision d = limiter.admit(r);
        if (d.admitted()) {
          ++admitted;
          (void)d.reservation.settle(5);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(admitted.load(), 100);
}

}  // namespace
}  // namespace livery::limits
