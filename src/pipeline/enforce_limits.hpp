#pragma once

#include "pipeline/stage.hpp"

namespace livery {
class Counter;
class MetricsRegistry;
}  // namespace livery
namespace livery::limits {
class Limiter;
struct AdmissionRequest;
struct Decision;
}  // namespace livery::limits

namespace livery::pipeline {

// One atomic admission per request for every limit that applies (tenant/key RPM and TPM, the
// tenant's and the key's monthly quota), reserving prompt estimate + max completion tokens. A
// rejection is 429 (rate_limit_exceeded with Retry-After, or insufficient_quota) with the
// x-ratelimit-* headers; nothing is consumed. The reservation is settled by meter.cpp with the
// actual usage. A blocking limiter (Redis) runs on the blocking pool.
class EnforceLimitsStage final : public Stage {
 public:
  EnforceLimitsStage(limits::Limiter& limiter,
                     net::thread_pool& blocking,
                     std::uint32_t default_completion_reserve,
                     MetricsRegistry& metrics);
  std::string_view name() const override { return "enforce_limits"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  // The in-memory limiter's path runs without suspending, outside any coroutine frame (see
  // enforce_limits.cpp); a blocking limiter's goes through admitOffloaded.
  limits::AdmissionRequest admissionOf(const RequestContext& ctx) const;
  Result<void> apply(RequestContext& ctx, limits::Decision decision);
  Result<void> admitNow(RequestContext& ctx);
  net::awaitable<Result<void>> admitOffloaded(RequestContext& ctx);

  limits::Limiter& limiter_;
  net::thread_pool& blocking_;
  std::uint32_t default_completion_reserve_;
  Counter& admitted_;
  Counter& rate_limited_;
  Counter& quota_exceeded_;
  Counter& degraded_;
};

}  // namespace livery::pipeline
