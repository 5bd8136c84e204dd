#include "limits/limiter.hpp"

#include <gtest/gtest.h>

#include "limits/gcra.hpp"

namespace livery::limits {
namespace {

using std::chrono::milliseconds;

TEST(LimiterTest, FormatsResetDurationsLikeOpenAi) {
  EXPECT_EQ(formatResetDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatResetDuration(milliseconds(-5)), "0s");
  EXPECT_EQ(formatResetDuration(milliseconds(20)), "20ms");
  EXPECT_EQ(formatResetDuration(milliseconds(1000)), "1s");
  EXPECT_EQ(formatResetDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(formatResetDuration(milliseconds(8640)), "8.64s");
  EXPECT_EQ(formatResetDuration(milliseconds(360'000)), "6m0s");
  EXPECT_EQ(formatResetDuration(milliseconds(3'723'004)), "1h2m3.004s");
}

TEST(LimiterTest, NamesMonthPeriodsInUtc) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar literals
  EXPECT_EQ(monthPeriod(sys_days{2026y / January / 31} + 23h + 59min + 59s), "2026-01");
  EXPECT_EQ(monthPeriod(sys_days{2026y / February / 1}), "2026-02");
  EXPECT_EQ(monthPeriod(sys_days{2026y / December / 31} + 23h), "2026-12");
}

TEST(LimiterTest, NamesEveryLimit) {
  EXPECT_EQ(toString({LimitScope::kTenant, LimitKind::kRequestsPerMinute}), "tenant_rpm");
  EXPECT_EQ(toString({LimitScope::kApiKey, LimitKind::kTokensPerMinute}), "api_key_tpm");
  EXPECT_EQ(toString({LimitScope::kEndUser, LimitKind::kRequestsPerMinute}), "end_user_rpm");
  EXPECT_EQ(toString({LimitScope::kTenant, LimitKind::kMonthlyTokens}), "tenant_monthly_tokens");
}

TEST(LimiterTest, RejectionErrorsCarryOpenAiCodesAndRetryAfter) {
  Error rate = rateLimitedError({LimitScope::kApiKey, LimitKind::kTokensPerMinute},
                                std::chrono::milliseconds(1200));
  EXPECT_EQ(rate.code, ErrorCode::kRateLimited);
  EXPECT_EQ(rate.openai_code, "rate_limit_exceeded");
  EXPECT_EQ(rate.retry_after_s, 2);
  EXPECT_NE(rate.client_message.find("tokens per minute"), std::string::npos);
  EXPECT_EQ(rateLimitedError({}, std::chrono::nanoseconds(1)).retry_after_s, 1);

  Error quota = quotaExceededError({LimitScope::kTenant, LimitKind::kMonthlyTokens});
  EXPECT_EQ(quota.code, ErrorCode::kQuotaExceeded);
  EXPECT_EQ(quota.openai_code, "insufficient_quota");
  EXPECT_EQ(httpStatus(quota), 429);
}

TEST(GcraTest, AdmitsTheBurstThenExactlyTheRate) {
  const Gcra g = Gcra::forRate(600, 1.0, 1e9);  // 10/s, burst 1 s
  std::int64_t tat = 0;
  std::int64_t now = 0;
  int burst = 0;
  while (true) {
    auto o = g.check(tat, now, 1);
    if (!o.allowed) {
      EXPECT_EQ(o.retry_after, 100'000'000);
      break;
    }
    tat = o.new_tat;
    ++burst;
  }
  EXPECT_EQ(burst, 10);
  int steady = 0;
  for (int ms = 1; ms <= 10'000; ++ms) {  // 10 s, one attempt per millisecond
    now = std::int64_t{ms} * 1'000'000;
    auto o = g.check(tat, now, 1);
    if (o.allowed) {
      tat = o.new_tat;
      ++steady;
    }
  }
  EXPECT_EQ(steady, 100);
}

TEST(GcraTest, ToleranceIsAtLeastOneInterval) {
  const Gcra g = Gcra::forRate(6, 1.0, 1e6);  // one per 10 s: a 1 s burst still admits one
  EXPECT_EQ(g.tolerance, 10'000'000);
  EXPECT_TRUE(g.check(0, 0, 1).allowed);
}

}  // namespace
}  // namespace livery::limits
