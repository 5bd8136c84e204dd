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

net::awaitable<Result<void>> EnforceLimitsStage::onRequest(RequestContext& ctx) {
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
  limits::Decision decision;
  if (limiter_.isBlocking()) {
    decision = co_await offload(blocking_, [&] { return limiter_.admit(req); });
  } else {
    decision = limiter_.admit(req);
  }
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
    co_return *decision.rejection;
  }
  admitted_.inc();
  ctx.reservation = std::move(decision.reservation);
  co_return Result<void>{};
}

}  // namespace livery::pipeline
