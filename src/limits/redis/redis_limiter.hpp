#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "limits/in_memory_limiter.hpp"
#include "limits/limiter.hpp"
#include "limits/redis/redis_pool.hpp"
#include "limits/redis/redis_url.hpp"

namespace livery::limits {

// What admission does about quotas while Redis is unreachable (config limits.quota_failure_mode).
enum class QuotaFailureMode {
  kClosed,  // requests with a quota are refused with kUnavailable (503, Retry-After: 1)
  kOpen,    // quotas are not enforced; rate limits still apply per node
};

// Which clock the scripts use for rate limits and reservation expiry.
enum class RedisTimeSource {
  kServer,       // Redis TIME inside the script: one clock for the whole fleet (production)
  kClientClock,  // the injected Clock's wall time, passed in (tests with a FakeClock)
};

struct RedisLimiterOptions {
  std::size_t pool_size = 4;               // config redis.pool_size
  std::chrono::milliseconds timeout{200};  // config redis.timeout: connect, command, pool wait
  double burst_seconds = 1.0;              // config limits.burst_seconds
  QuotaFailureMode quota_failure_mode = QuotaFailureMode::kClosed;
  std::string key_prefix = "lv";  // keys are "<prefix>:{<tenant_id>}:…"
  // A reservation not settled within this time is released by the next admission of its quota
  // (a node that died holding it). Must exceed the longest request (routing.total_deadline).
  std::chrono::milliseconds reservation_ttl = std::chrono::minutes(15);
  // Quota hashes outlive their month by at least this long after their last write.
  std::chrono::milliseconds quota_key_ttl = std::chrono::hours(24 * 40);
  // After a connection failure Redis is not tried again for this long (requests use the
  // fallback meanwhile instead of each waiting for a timeout).
  std::chrono::milliseconds retry_interval{1000};
  // At most one degradation warning per interval (with the count of fallback decisions).
  std::chrono::milliseconds degraded_log_interval{30'000};
  // Share of each rate limit the per-node fallback enforces; 1/N for N nodes keeps the fleet
  // total near the limit while Redis is down. 1.0 is lenient (N× the limit at worst).
  double fallback_share = 1.0;
  RedisTimeSource time_source = RedisTimeSource::kServer;
};

// The fleet-wide Limiter: GCRA rate limits and quota reservations in Redis, one atomic Lua script
// per operation (admit, settle/cancel; EVALSHA with an EVAL fallback on NOSCRIPT), keys
// namespaced by tenant with a Redis Cluster hash tag so one request's keys share a slot:
//   <prefix>:{<tenant>}:rl:<t|k|u>:<rpm|tpm>[:<id>]       GCRA theoretical arrival time (µs)
//   <prefix>:{<tenant>}:q:<t|k>:<YYYY-MM>[:<id>]          hash {used, reserved, r:<rid>}
//   <prefix>:{<tenant>}:qr:<t|k>:<YYYY-MM>[:<id>]         zset of reservation ids by expiry
// The month comes from the injected Clock's UTC wall time (nodes' clocks only matter within
// their skew of a month boundary); rate limits use Redis TIME (see RedisTimeSource).
//
// Blocking: admit() and Reservation::settle/cancel do network round trips (isBlocking() is
// true); run them on a thread pool. Thread-safe. When Redis is unreachable (connect failure,
// timeout, script error), rate limits fall back to a per-node InMemoryLimiter (at
// fallback_share of each limit) and quotas follow quota_failure_mode; a rate-limited warning is
// logged and livery_limits_redis_* metrics move. Reservations made during the outage are the
// fallback's and settle locally. A reservation whose settle cannot reach Redis expires after
// reservation_ttl; its actual usage is then missing from the Redis counter (the usage ledger
// still has it). The endpoint's password never appears in logs, errors or metrics.
// `clock`, `logger` and `metrics` must outlive the limiter.
class RedisLimiter final : public Limiter {
 public:
  RedisLimiter(RedisEndpoint endpoint,
               RedisLimiterOptions options,
               const Clock& clock,
               Logger& logger,
               MetricsRegistry& metrics);
  ~RedisLimiter() override;
  RedisLimiter(const RedisLimiter&) = delete;
  RedisLimiter& operator=(const RedisLimiter&) = delete;

  [[nodiscard]] Decision admit(const AdmissionRequest& request) override;
  bool isBlocking() const noexcept override { return true; }
  // kUnavailable while Redis is down or unreadable (the fallback holds no quota state).
  [[nodiscard]] Result<QuotaUsage> quotaUsage(LimitScope scope,
                                              std::string_view tenant_id,
                                              std::string_view id,
                                              std::string_view period) override;

  // True while Redis is considered down (decisions come from the fallback).
  bool degraded() const noexcept { return degraded_.load(std::memory_order_relaxed); }

  struct Stats {
    Counter& redis_errors;        // failed Redis calls (connect, timeout, script error)
    Counter& fallback_decisions;  // admissions decided without Redis
    Counter& settle_failures;     // settles/cancels that could not reach Redis
    Counter& script_loads;        // NOSCRIPT answered by EVAL
    Gauge& degraded;              // 1 while Redis is considered down
  };
  const Stats& stats() const noexcept { return stats_; }

 protected:
  Result<void> finish(const ReservationTicket& ticket,
                      std::optional<std::uint64_t> actual_tokens) override;

 private:
  struct ScriptCall;
  Result<RedisReplyPtr> evalScript(ScriptCall& call, bool& transport_failure);
  Decision fallback(const AdmissionRequest& request, std::string_view why);
  void onFailure(const Error& error, bool transport_failure);
  void onSuccess();
  bool isDown() const;
  std::string nowArg() const;
  std::string rateKey(std::string_view tenant, LimitId id, std::string_view key_id) const;
  std::string quotaKey(std::string_view kind,
                       std::string_view tenant,
                       LimitScope scope,
                       std::string_view period,
                       std::string_view key_id) const;

  const RedisLimiterOptions options_;
  const Clock& clock_;
  Logger& logger_;
  Stats stats_;
  RedisPool pool_;
  InMemoryLimiter fallback_;
  const std::string endpoint_text_;       // describe(): no credentials
  const std::string reservation_prefix_;  // random per limiter instance
  std::atomic<std::uint64_t> next_reservation_{0};
  std::atomic<std::int64_t> down_until_ns_{0};  // steady ns; Redis is skipped before this
  std::atomic<bool> degraded_{false};
  std::atomic<std::int64_t> last_degraded_log_ns_{INT64_MIN};
  std::atomic<std::uint64_t> fallbacks_since_log_{0};
};

}  // namespace livery::limits
