#include "unit/limits/limiter_contract.hpp"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "support/services.hpp"

namespace livery::limits::contract {

using std::chrono::milliseconds;
using std::chrono::seconds;

void LimiterContractTest::SetUp() {
  if (!GetParam().service_env.empty()) {
    LIVERY_REQUIRE_SERVICE(url, GetParam().service_env.c_str());
    service_url_ = url;
  }
  tenant_ = randomId("tnt");
  harness_ = GetParam().make(service_url_, HarnessConfig{});
}

void LimiterContractTest::remake(const HarnessConfig& config) {
  harness_.reset();
  harness_ = GetParam().make(service_url_, config);
}

namespace {

AdmissionRequest requestFor(const std::string& tenant) {
  AdmissionRequest r;
  r.tenant_id = tenant;
  return r;
}

TEST_P(LimiterContractTest, AdmitsWithinLimitsAndReportsRateLimitHeaders) {
  auto r = requestFor(tenant());
  r.tenant = {.rpm = 600, .tpm = 60'000};
  r.estimated_tokens = 100;
  Decision d = limiter().admit(r);
  ASSERT_TRUE(d.admitted()) << d.rejection->log_detail;
  EXPECT_TRUE(d.reservation.pending());
  EXPECT_FALSE(d.degraded);
  ASSERT_TRUE(d.headers.requests.has_value());
  EXPECT_EQ(d.headers.requests->limit, 600u);
  EXPECT_EQ(d.headers.requests->remaining, 9u);  // burst of 1 s at 10/s, one used
  EXPECT_EQ(d.headers.requests->reset, milliseconds(100));
  ASSERT_TRUE(d.headers.tokens.has_value());
  EXPECT_EQ(d.headers.tokens->limit, 60'000u);
  EXPECT_EQ(d.headers.tokens->remaining, 900u);  // burst of 1 s at 1000 tokens/s, 100 reserved
  EXPECT_EQ(d.headers.tokens->reset, milliseconds(100));
  EXPECT_FALSE(d.headers.quota_remaining_tokens.has_value());
  EXPECT_TRUE(d.reservation.settle(100));
}

TEST_P(LimiterContractTest, NoLimitsAdmitsEverythingWithoutHeaders) {
  auto r = requestFor(tenant());
  r.api_key_id = "key_a";
  r.end_user = "user-1";
  r.estimated_tokens = 1'000'000;
  for (int i = 0; i < 50; ++i) {
    Decision d = limiter().admit(r);
    ASSERT_TRUE(d.admitted());
    EXPECT_FALSE(d.headers.requests || d.headers.tokens || d.headers.quota_remaining_tokens);
  }
}

TEST_P(LimiterContractTest, RejectsOverTheRequestsLimitWithRetryAfter) {
  auto r = requestFor(tenant());
  r.tenant = {.rpm = 60};  // one per second, burst of one
  ASSERT_TRUE(limiter().admit(r).admitted());
  Decision d = limiter().admit(r);
  ASSERT_FALSE(d.admitted());
  EXPECT_EQ(d.rejection->code, ErrorCode::kRateLimited);
  EXPECT_EQ(d.rejection->openai_code, "rate_limit_exceeded");
  EXPECT_EQ(d.rejection->retry_after_s, 1);
  ASSERT_TRUE(d.rejected_by.has_value());
  EXPECT_EQ(*d.rejected_by, (LimitId{LimitScope::kTenant, LimitKind::kRequestsPerMinute}));
  EXPECT_FALSE(d.reservation.pending());
  ASSERT_TRUE(d.headers.requests.has_value());
  EXPECT_EQ(d.headers.requests->remaining, 0u);
  EXPECT_EQ(d.headers.requests->reset, milliseconds(1000));

  clock().advance(milliseconds(999));
  EXPECT_FALSE(limiter().admit(r).admitted());
  clock().advance(milliseconds(1));
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, ARejectedRequestConsumesNothing) {
  auto base = requestFor(tenant());
  base.tenant = {.rpm = 180};  // burst of three
  base.tenant_monthly_quota = 300;
  base.estimated_tokens = 100;

  auto keyed = base;
  keyed.api_key_id = "key_1";
  keyed.api_key = {.rpm = 60};  // burst of one
  Decision first = limiter().admit(keyed);
  ASSERT_TRUE(first.admitted());
  for (int i = 0; i < 5; ++i) {
    Decision d = limiter().admit(keyed);
    ASSERT_FALSE(d.admitted());
    EXPECT_EQ(*d.rejected_by, (LimitId{LimitScope::kApiKey, LimitKind::kRequestsPerMinute}));
  }
  // Neither the tenant's requests nor its quota were charged by the five rejections.
  auto other = base;
  other.api_key_id = "key_2";
  Decision second = limiter().admit(other);
  ASSERT_TRUE(second.admitted());
  other.api_key_id = "key_3";
  Decision third = limiter().admit(other);
  ASSERT_TRUE(third.admitted());
  EXPECT_EQ(third.headers.quota_remaining_tokens, 0u);
  other.estimated_tokens = 0;
  Decision fourth = limiter().admit(other);
  ASSERT_FALSE(fourth.admitted());
  EXPECT_EQ(*fourth.rejected_by, (LimitId{LimitScope::kTenant, LimitKind::kRequestsPerMinute}));

  // A quota rejection does not charge the rate limits either.
  clock().advance(seconds(1));
  other.estimated_tokens = 100;
  Decision over_quota = limiter().admit(other);
  ASSERT_FALSE(over_quota.admitted());
  EXPECT_EQ(over_quota.rejection->code, ErrorCode::kQuotaExceeded);
  EXPECT_EQ(over_quota.rejection->openai_code, "insufficient_quota");
  EXPECT_EQ(*over_quota.rejected_by, (LimitId{LimitScope::kTenant, LimitKind::kMonthlyTokens}));
  other.estimated_tokens = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter().admit(other).admitted()) << i;
  }
  EXPECT_FALSE(limiter().admit(other).admitted());
}

TEST_P(LimiterContractTest, SettleRefundsAnOverEstimate) {
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 600;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  EXPECT_EQ(a.headers.quota_remaining_tokens, 400u);
  EXPECT_EQ(a.reservation.reservedTokens(), 600u);
  ASSERT_TRUE(a.reservation.settle(100));
  EXPECT_FALSE(a.reservation.pending());
  r.estimated_tokens = 900;
  Decision b = limiter().admit(r);
  ASSERT_TRUE(b.admitted());
  EXPECT_EQ(b.headers.quota_remaining_tokens, 0u);
  ASSERT_TRUE(b.reservation.settle(900));
  r.estimated_tokens = 1;
  EXPECT_FALSE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, SettleChargesAnUnderEstimate) {
  auto r = requestFor(tenant());
  r.api_key_id = "key_q";
  r.api_key_monthly_quota = 1000;
  r.estimated_tokens = 100;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  ASSERT_TRUE(a.reservation.settle(700));
  r.estimated_tokens = 301;
  Decision b = limiter().admit(r);
  ASSERT_FALSE(b.admitted());
  EXPECT_EQ(*b.rejected_by, (LimitId{LimitScope::kApiKey, LimitKind::kMonthlyTokens}));
  r.estimated_tokens = 300;
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, CancelRefundsTheWholeReservation) {
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 1000;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  EXPECT_FALSE(limiter().admit(r).admitted());
  ASSERT_TRUE(a.reservation.cancel());
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, AReservationFinishesExactlyOnce) {
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 100;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  EXPECT_TRUE(a.reservation.settle(100));
  EXPECT_FALSE(a.reservation.settle(100));
  EXPECT_FALSE(a.reservation.cancel());
  r.estimated_tokens = 900;  // charged once: 100 used, 900 left
  Decision b = limiter().admit(r);
  ASSERT_TRUE(b.admitted());
  b.reservation.settle(900).value();
  r.estimated_tokens = 1;
  EXPECT_FALSE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, DroppingAPendingReservationCancelsIt) {
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 1000;
  {
    Decision a = limiter().admit(r);
    ASSERT_TRUE(a.admitted());
  }
  Decision b = limiter().admit(r);
  EXPECT_TRUE(b.admitted());
  Reservation moved = std::move(b.reservation);
  EXPECT_FALSE(b.reservation.pending());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(moved.pending());
  moved = Reservation();  // assigning over a pending handle cancels it too
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, TokensPerMinuteIsRefundedWhenUsageIsBelowTheEstimate) {
  auto r = requestFor(tenant());
  r.tenant = {.tpm = 6000};  // 100 tokens/s, burst of 1 s = 100 tokens
  r.estimated_tokens = 100;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  Decision b = limiter().admit(r);
  ASSERT_FALSE(b.admitted());
  EXPECT_EQ(*b.rejected_by, (LimitId{LimitScope::kTenant, LimitKind::kTokensPerMinute}));
  EXPECT_EQ(b.rejection->retry_after_s, 1);
  ASSERT_TRUE(a.reservation.settle(10));  // 90 tokens (900 ms) refunded
  EXPECT_FALSE(limiter().admit(r).admitted());
  r.estimated_tokens = 90;
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, TokensPerMinuteChargesUsageAboveTheEstimate) {
  auto r = requestFor(tenant());
  r.end_user = "user-7";
  r.end_user_limits = {.tpm = 6000};
  r.estimated_tokens = 10;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  ASSERT_TRUE(a.reservation.settle(100));  // the full burst is now spent
  r.estimated_tokens = 1;
  Decision b = limiter().admit(r);
  ASSERT_FALSE(b.admitted());
  EXPECT_EQ(*b.rejected_by, (LimitId{LimitScope::kEndUser, LimitKind::kTokensPerMinute}));
}

TEST_P(LimiterContractTest, ARequestLargerThanTheBurstIsAdmittedOnlyWithoutDebt) {
  auto r = requestFor(tenant());
  r.tenant = {.tpm = 6000};
  r.estimated_tokens = 500;  // five seconds' worth
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  r.estimated_tokens = 1;
  Decision b = limiter().admit(r);
  ASSERT_FALSE(b.admitted());
  EXPECT_EQ(b.rejection->retry_after_s, 5);  // 5 s of debt - 1 s tolerance + 10 ms, rounded up
  clock().advance(milliseconds(4000));
  EXPECT_FALSE(limiter().admit(r).admitted());
  clock().advance(milliseconds(10));
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, KeysEndUsersAndTenantsAreLimitedSeparately) {
  auto k = requestFor(tenant());
  k.api_key = {.rpm = 60};
  k.api_key_id = "key_1";
  ASSERT_TRUE(limiter().admit(k).admitted());
  EXPECT_FALSE(limiter().admit(k).admitted());
  k.api_key_id = "key_2";
  EXPECT_TRUE(limiter().admit(k).admitted());

  auto u = requestFor(tenant());
  u.end_user_limits = {.rpm = 60};
  u.end_user = "alice";
  ASSERT_TRUE(limiter().admit(u).admitted());
  Decision d = limiter().admit(u);
  ASSERT_FALSE(d.admitted());
  EXPECT_EQ(*d.rejected_by, (LimitId{LimitScope::kEndUser, LimitKind::kRequestsPerMinute}));
  u.end_user = "bob";
  EXPECT_TRUE(limiter().admit(u).admitted());

  auto t = requestFor(tenant());
  t.tenant = {.rpm = 60};
  ASSERT_TRUE(limiter().admit(t).admitted());
  EXPECT_FALSE(limiter().admit(t).admitted());
  const std::string other = otherTenant();
  t.tenant_id = other;
  EXPECT_TRUE(limiter().admit(t).admitted());
}

TEST_P(LimiterContractTest, HeadersReportTheMostConstrainingLimit) {
  auto r = requestFor(tenant());
  r.tenant = {.rpm = 6000};  // burst of 100
  r.api_key_id = "key_1";
  r.api_key = {.rpm = 60};  // burst of 1
  Decision d = limiter().admit(r);
  ASSERT_TRUE(d.admitted());
  ASSERT_TRUE(d.headers.requests.has_value());
  EXPECT_EQ(d.headers.requests->limit, 60u);
  EXPECT_EQ(d.headers.requests->remaining, 0u);
  auto lines = d.headers.toHeaders();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].first, "x-ratelimit-limit-requests");
  EXPECT_EQ(lines[0].second, "60");
  EXPECT_EQ(lines[2].first, "x-ratelimit-reset-requests");
  EXPECT_EQ(lines[2].second, "1s");
}

TEST_P(LimiterContractTest, QuotaUsageShowsReservationsUntilTheySettle) {
  const std::string period = monthPeriod(clock().wallNow());
  const auto usage = [&](LimitScope scope, const std::string& tenant, std::string_view id) {
    auto u = limiter().quotaUsage(scope, tenant, id, period);
    EXPECT_TRUE(u) << u.error().log_detail;
    return u ? std::pair{u->used, u->reserved}
             : std::pair<std::uint64_t, std::uint64_t>{~0ULL, ~0ULL};
  };
  using P = std::pair<std::uint64_t, std::uint64_t>;
  EXPECT_EQ(usage(LimitScope::kTenant, tenant(), ""), (P{0, 0})) << "nothing held yet";

  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 10'000;
  r.api_key_id = "key_u";
  r.api_key_monthly_quota = 5'000;
  r.estimated_tokens = 300;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  r.estimated_tokens = 200;
  Decision b = limiter().admit(r);
  ASSERT_TRUE(b.admitted());
  EXPECT_EQ(usage(LimitScope::kTenant, tenant(), ""), (P{0, 500}));
  EXPECT_EQ(usage(LimitScope::kTenant, tenant(), "ignored"), (P{0, 500})) << "no id for a tenant";
  EXPECT_EQ(usage(LimitScope::kApiKey, tenant(), "key_u"), (P{0, 500}));
  EXPECT_EQ(usage(LimitScope::kApiKey, tenant(), "key_other"), (P{0, 0}));
  EXPECT_EQ(usage(LimitScope::kTenant, otherTenant(), ""), (P{0, 0})) << "tenants are apart";

  ASSERT_TRUE(a.reservation.settle(120));
  EXPECT_EQ(usage(LimitScope::kTenant, tenant(), ""), (P{120, 200}));
  ASSERT_TRUE(b.reservation.cancel());
  EXPECT_EQ(usage(LimitScope::kTenant, tenant(), ""), (P{120, 0}));
  EXPECT_EQ(usage(LimitScope::kApiKey, tenant(), "key_u"), (P{120, 0}));

  // Another month holds nothing; a malformed period is refused.
  auto other = limiter().quotaUsage(LimitScope::kTenant, tenant(), "", "1999-01");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->used + other->reserved, 0u);
  for (std::string_view bad : {"", "2026-13", "2026-00", "26-01", "2026/01", "2026-1x"}) {
    auto refused = limiter().quotaUsage(LimitScope::kTenant, tenant(), "", bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest) << bad;
  }
}

TEST_P(LimiterContractTest, QuotaResetsAtTheUtcMonthBoundary) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar literals
  remake({.wall_start = sys_days{2026y / January / 31} + 23h + 59min + 30s});
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.api_key_id = "key_1";
  r.api_key_monthly_quota = 1000;
  r.estimated_tokens = 1000;
  Decision a = limiter().admit(r);
  ASSERT_TRUE(a.admitted());
  ASSERT_TRUE(a.reservation.settle(1000));
  r.estimated_tokens = 1;
  EXPECT_FALSE(limiter().admit(r).admitted());
  clock().advance(seconds(29));  // 23:59:59 on 31 January
  EXPECT_FALSE(limiter().admit(r).admitted());
  clock().advance(seconds(1));  // 00:00:00 on 1 February
  Decision b = limiter().admit(r);
  ASSERT_TRUE(b.admitted());
  EXPECT_EQ(b.headers.quota_remaining_tokens, 999u);
}

TEST_P(LimiterContractTest, AReservationSpanningTheMonthBoundarySettlesIntoItsOwnMonth) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar literals
  remake({.wall_start = sys_days{2026y / April / 30} + 23h + 59min + 50s});
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 1000;
  Decision april = limiter().admit(r);
  ASSERT_TRUE(april.admitted());
  clock().advance(seconds(20));                 // May
  ASSERT_TRUE(april.reservation.settle(1000));  // charged to April
  Decision may = limiter().admit(r);
  EXPECT_TRUE(may.admitted());
}

TEST_P(LimiterContractTest, OfferedTwiceTheRpmLimitForSixtySecondsAcceptsWithinTwoPercent) {
  auto r = requestFor(tenant());
  r.tenant = {.rpm = 600};
  int accepted = 0;
  for (int i = 0; i < 1200; ++i) {  // 20 requests/s for 60 s against 10/s
    if (limiter().admit(r).admitted()) {
      ++accepted;
    }
    clock().advance(milliseconds(50));
  }
  EXPECT_GE(accepted, 600 * 98 / 100);
  EXPECT_LE(accepted, 600 * 102 / 100);
}

TEST_P(LimiterContractTest, OfferedTwiceTheTpmLimitForSixtySecondsAcceptsWithinTwoPercent) {
  auto r = requestFor(tenant());
  r.api_key_id = "key_t";
  r.api_key = {.tpm = 60'000};
  r.estimated_tokens = 200;
  std::uint64_t accepted_tokens = 0;
  for (int i = 0; i < 600; ++i) {  // 2,000 tokens/s for 60 s against 1,000/s
    Decision d = limiter().admit(r);
    if (d.admitted()) {
      accepted_tokens += 200;
      ASSERT_TRUE(d.reservation.settle(200));
    }
    clock().advance(milliseconds(100));
  }
  EXPECT_GE(accepted_tokens, 60'000u * 98 / 100);
  EXPECT_LE(accepted_tokens, 60'000u * 102 / 100);
}

struct Sample {
  std::uint64_t reserved = 0;
  std::uint64_t actual = 0;
  std::int64_t admit_begin = 0;
  std::int64_t admit_end = 0;
  std::int64_t settle_end = 0;
};

// 50 threads race for a 100,000-token quota. Returns the accepted samples; every rejection must
// be kQuotaExceeded. `overshoot` makes actual usage exceed the reservation for some requests.
std::vector<Sample> raceForQuota(Limiter& limiter, const std::string& tenant, bool overshoot) {
  constexpr int kThreads = 50;
  constexpr int kAttempts = 60;
  std::atomic<std::int64_t> seq{0};
  std::atomic<int> wrong_rejections{0};
  std::vector<std::vector<Sample>> per_thread(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      std::uniform_int_distribution<std::uint64_t> estimate(500, 3000);
      std::uniform_real_distribution<double> usage(0.5, overshoot ? 1.5 : 1.0);
      AdmissionRequest r;
      r.tenant_id = tenant;
      r.tenant_monthly_quota = 100'000;
      for (int i = 0; i < kAttempts; ++i) {
        r.estimated_tokens = estimate(rng);
        Sample s;
        s.reserved = r.estimated_tokens;
        s.admit_begin = seq.fetch_add(1);
        Decision d = limiter.admit(r);
        s.admit_end = seq.fetch_add(1);
        if (!d.admitted()) {
          if (d.rejection->code != ErrorCode::kQuotaExceeded) {
            ++wrong_rejections;
          }
          continue;
        }
        s.actual = static_cast<std::uint64_t>(static_cast<double>(s.reserved) * usage(rng));
        if (!d.reservation.settle(s.actual)) {
          ++wrong_rejections;
        }
        s.settle_end = seq.fetch_add(1);
        per_thread[static_cast<std::size_t>(t)].push_back(s);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong_rejections.load(), 0);
  std::vector<Sample> all;
  for (auto& v : per_thread) {
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

std::uint64_t acceptedUsage(const std::vector<Sample>& samples) {
  std::uint64_t total = 0;
  for (const Sample& s : samples) {
    total += s.actual;
  }
  return total;
}

// The documented bound: quota + Σ over requests in flight at the last admission of
// max(0, actual − reserved). The last admission A is one whose admit() ended after every
// admit() began; "in flight at A" is over-approximated by "settle ended after A's admit began".
std::uint64_t overshootBound(const std::vector<Sample>& samples) {
  std::int64_t last_begin = 0;
  for (const Sample& s : samples) {
    last_begin = std::max(last_begin, s.admit_begin);
  }
  std::uint64_t worst = 0;
  for (const Sample& a : samples) {
    if (a.admit_end < last_begin) {
      continue;  // cannot be the last admission
    }
    std::uint64_t excess = 0;
    for (const Sample& s : samples) {
      if (s.settle_end > a.admit_begin && s.actual > s.reserved) {
        excess += s.actual - s.reserved;
      }
    }
    worst = std::max(worst, excess);
  }
  return worst;
}

TEST_P(LimiterContractTest, FiftyConcurrentClientsNeverExceedTheQuota) {
  const auto samples = raceForQuota(limiter(), tenant(), /*overshoot=*/false);
  const std::uint64_t used = acceptedUsage(samples);
  EXPECT_LE(used, 100'000u);
  // And the quota was not left mostly unused: the smallest estimate (500) no longer fits, and
  // settles refunded at most half of each reservation.
  EXPECT_GE(used, 100'000u / 2);
  auto r = requestFor(tenant());
  r.tenant_monthly_quota = 100'000;
  r.estimated_tokens = 100'000 - used + 1;
  EXPECT_FALSE(limiter().admit(r).admitted());
  r.estimated_tokens = 100'000 - used;
  EXPECT_TRUE(limiter().admit(r).admitted());
}

TEST_P(LimiterContractTest, FiftyConcurrentClientsStayWithinTheDocumentedOvershootBound) {
  const auto samples = raceForQuota(limiter(), tenant(), /*overshoot=*/true);
  const std::uint64_t used = acceptedUsage(samples);
  const std::uint64_t bound = overshootBound(samples);
  EXPECT_LE(used, 100'000u + bound) << "bound " << bound;
  EXPECT_LE(bound, 50u * 1500u);  // at most 50 in flight, each at most 1,500 over
  EXPECT_GE(used, 100'000u * 9 / 10);
}

}  // namespace
}  // namespace livery::limits::contract
