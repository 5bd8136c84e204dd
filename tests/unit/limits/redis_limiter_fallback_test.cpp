// RedisLimiter with Redis unreachable (a closed loopback port): the documented fallback.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "limits/redis/redis_limiter.hpp"
#include "support/fake_clock.hpp"

namespace livery::limits {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kCanary = "redis-pw-canary-7f3a9c";

// A loopback port nobody listens on: bound, then closed.
std::uint16_t closedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // NOLINT
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);  // NOLINT
  ::close(fd);
  return ntohs(addr.sin_port);
}

class RedisLimiterFallbackTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisLimiter> make(RedisLimiterOptions options = {}) {
    auto endpoint = parseRedisUrl("redis://:" + std::string(kCanary) +
                                  "@127.0.0.1:" + std::to_string(closedPort()));
    EXPECT_TRUE(endpoint);
    return std::make_unique<RedisLimiter>(
        std::move(*endpoint), std::move(options), clock_, logger_, metrics_);
  }

  void expectNoCanary() {
    EXPECT_EQ(sink_->joined().find(kCanary), std::string::npos);
    EXPECT_EQ(metrics_.render().find(kCanary), std::string::npos);
  }

  livery::testing::FakeClock clock_;
  std::shared_ptr<MemoryLogSink> sink_ = std::make_shared<MemoryLogSink>();
  Logger logger_{sink_, LogLevel::kInfo, clock_};
  MetricsRegistry metrics_;
};

TEST_F(RedisLimiterFallbackTest, IsBlocking) {
  EXPECT_TRUE(make()->isBlocking());
}

TEST_F(RedisLimiterFallbackTest, RateLimitsFallBackToAPerNodeLimiter) {
  auto limiter = make();
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.tenant = {.rpm = 60};
  Decision first = limiter->admit(r);
  ASSERT_TRUE(first.admitted());
  EXPECT_TRUE(first.degraded);
  EXPECT_TRUE(limiter->degraded());
  ASSERT_TRUE(first.headers.requests.has_value());
  Decision second = limiter->admit(r);
  ASSERT_FALSE(second.admitted());
  EXPECT_TRUE(second.degraded);
  EXPECT_EQ(second.rejection->code, ErrorCode::kRateLimited);
  EXPECT_EQ(second.rejection->retry_after_s, 1);
  EXPECT_TRUE(first.reservation.settle(0));  // settles on the fallback, locally

  EXPECT_EQ(limiter->stats().fallback_decisions.value(), 2u);
  EXPECT_EQ(limiter->stats().degraded.value(), 1);
  EXPECT_EQ(limiter->stats().redis_errors.value(), 1u);  // the second call did not retry Redis
  expectNoCanary();
}

TEST_F(RedisLimiterFallbackTest, QuotasFailClosedByDefault) {
  auto limiter = make();
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.tenant_monthly_quota = 1000;
  r.estimated_tokens = 10;
  Decision d = limiter->admit(r);
  ASSERT_FALSE(d.admitted());
  EXPECT_TRUE(d.degraded);
  EXPECT_EQ(d.rejection->code, ErrorCode::kUnavailable);
  EXPECT_EQ(d.rejection->retry_after_s, 1);
  EXPECT_FALSE(d.rejected_by.has_value());
  EXPECT_EQ(d.rejection->client_message.find(kCanary), std::string::npos);
  EXPECT_EQ(d.rejection->log_detail.find(kCanary), std::string::npos);

  AdmissionRequest key_quota;
  key_quota.tenant_id = "tnt_a";
  key_quota.api_key_id = "key_1";
  key_quota.api_key_monthly_quota = 1000;
  EXPECT_EQ(limiter->admit(key_quota).rejection->code, ErrorCode::kUnavailable);
  expectNoCanary();
}

TEST_F(RedisLimiterFallbackTest, QuotasFailOpenWhenConfigured) {
  auto limiter = make({.quota_failure_mode = QuotaFailureMode::kOpen});
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.tenant_monthly_quota = 1000;
  r.tenant = {.tpm = 6000};
  r.estimated_tokens = 5000;  // more than the quota: not enforced while Redis is down
  Decision d = limiter->admit(r);
  ASSERT_TRUE(d.admitted());
  EXPECT_TRUE(d.degraded);
  EXPECT_FALSE(d.headers.quota_remaining_tokens.has_value());
  EXPECT_TRUE(d.reservation.settle(10));
}

TEST_F(RedisLimiterFallbackTest, TheFallbackEnforcesItsShareOfEachLimit) {
  auto limiter = make({.fallback_share = 0.25});
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  r.tenant = {.rpm = 2400};  // 40/s with a 1 s burst; a quarter of it is a burst of 10
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter->admit(r).admitted() ? 1 : 0;
  }
  EXPECT_EQ(admitted, 10);
}

TEST_F(RedisLimiterFallbackTest, RetriesRedisAfterTheRetryIntervalAndLogsAtAMeasuredPace) {
  auto limiter =
      make({.retry_interval = milliseconds(1000), .degraded_log_interval = milliseconds(30'000)});
  AdmissionRequest r;
  r.tenant_id = "tnt_a";
  for (int i = 0; i < 5; ++i) {
    (void)limiter->admit(r);
  }
  EXPECT_EQ(limiter->stats().redis_errors.value(), 1u);
  clock_.advance(milliseconds(1000));
  (void)limiter->admit(r);
  EXPECT_EQ(limiter->stats().redis_errors.value(), 2u);
  EXPECT_EQ(limiter->stats().fallback_decisions.value(), 6u);

  auto count = [&] {
    std::size_t n = 0;
    for (const auto& line : sink_->lines()) {
      n += line.find("limits_redis_degraded") != std::string::npos ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count(), 1u);  // the second failure fell within the log interval
  clock_.advance(milliseconds(30'000));
  (void)limiter->admit(r);
  EXPECT_EQ(count(), 2u);
  const std::string text = sink_->joined();
  EXPECT_NE(text.find("127.0.0.1"), std::string::npos);  // the endpoint, without credentials
  EXPECT_NE(text.find("\"fallback_decisions\""), std::string::npos);
  expectNoCanary();
}

}  // namespace
}  // namespace livery::limits
