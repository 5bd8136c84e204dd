#include "pipeline/enforce_limits.hpp"

#include <boost/asio/thread_pool.hpp>

#include "core/metrics.hpp"
#include "core/offload.hpp"
#include "limits/limiter.hpp"

namespace livery::pipeline {

EnforceLimitsStage::EnforceLimitsStage(limits::Limiter& limiter,
                                       net::thread_pool& blocking,
                                       std::uint32_t default_completion_reserve,
                                       MetricsRegistry& metrics)
    : limiter_(limiter),
      blocking_(blocking),
      default_completion_reserve_(default_completion_reserve),
      admitted_(metrics.counter(
          "livery_limits_decisions_total", "Admission decisions", {{"decision", "admitted"}})),
      rate_limited_(metrics.counter(
          "livery_limits_decisions_total", "Admission decisions", {{"decision", "rate_limited"}})),
      quota_exceeded_(metrics.counter("livery_limits_decisions_total",
                                      "Admission decisions",
                                      {{"decision", "quota_exceeded"}})),
      degraded_(metrics.counter("livery_limits_degraded_total",
                                "Decisions made without the shared limit store")) {}

limits::AdmissionRequest EnforceLimitsStage::admissionOf(const RequestContext& ctx) const {
  // resolve_tenant and parse_request run first (pipeline.cpp).
  const auto& tenant = *ctx.tenant;
  const auto& principal = *ctx.principal;
  limits::AdmissionRequest req;
  req.tenant_id = tenant.tenant.id;
  req.tenant = {.rpm = tenant.limits.rpm, .tpm = tenant.limits.tpm};
  req.tenant_monthly_quota = tenant.limits.monthly_token_quota;
  if (principal.key) {
    req.api_key_id = principal.key->id;
    req.api_key = {.rpm = principal.key->rpm, .tpm = principal.key->tpm};
    req.api_key_monthly_quota = principal.key->monthly_token_quota;
  }
  req.end_user = ctx.end_user;
  req.estimated_tokens = ctx.endpoint == Endpoint::kChat
                             ? ctx.chat.reservationTokens(default_completion_reserve_)
                             : ctx.embeddings.prompt_tokens_estimate;
  return req;
}

Result<void> EnforceLimitsStage::apply(RequestContext& ctx, limits::Decision decision) {
  ctx.rate_headers = decision.headers;
  if (decision.degraded) {
    degraded_.inc();
  }
  if (!decision.admitted()) {
    if (decision.rejection->code == ErrorCode::kQuotaExceeded) {
      quota_exceeded_.inc();
    } else {
      rate_limited_.inc();
    }
    return *decision.rejection;
  }
  admitted_.inc();
  ctx.reservation = std::move(decision.reservation);
  return {};
}

Result<void> EnforceLimitsStage::admitNow(RequestContext& ctx) {
  return apply(ctx, limiter_.admit(admissionOf(ctx)));
}

net::awaitable<Result<void>> EnforceLimitsStage::admitOffloaded(RequestContext& ctx) {
  const limits::AdmissionRequest req = admissionOf(ctx);
  auto decision = co_await offload(blocking_, [&] { return limiter_.admit(req); });
  co_return apply(ctx, std::move(decision));
}

// The in-memory limiter never blocks: its admission runs in plain functions, so this coroutine's
// frame holds no AdmissionRequest or Decision (GCC 12 keeps every local of a coroutine in its
// heap frame, and Asio recycles frames only up to about 2 KiB: a larger one cost an aligned
// allocation per request; bench/metering_bench.cpp measures it).
net::awaitable<Result<void>> EnforceLimitsStage::onRequest(RequestContext& ctx) {
  if (!limiter_.isBlocking()) {
    co_return admitNow(ctx);
  }
  co_return co_await admitOffloaded(ctx);
}

}  // namespace livery::pipeline
