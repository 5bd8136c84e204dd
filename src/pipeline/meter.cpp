#include "pipeline/meter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "limits/spike_detector.hpp"
#include "metering/ledger.hpp"
#include "metering/price_table.hpp"

namespace livery::pipeline {

MeterStage::MeterStage(metering::Ledger& ledger,
                       const metering::PriceTable& prices,
                       limits::SpikeDetector& spikes,
                       ControlPlaneEvents& events,
                       net::thread_pool& blocking,
                       bool limiter_blocks,
                       const Clock& clock,
                       Logger& log)
    : ledger_(ledger),
      prices_(prices),
      spikes_(spikes),
      events_(events),
      blocking_(blocking),
      limiter_blocks_(limiter_blocks),
      clock_(clock),
      log_(log) {}

storage::UsageRecord MeterStage::recordOf(const RequestContext& ctx) const {
  const auto& o = ctx.outcome;
  storage::UsageRecord r;
  r.request_id = ctx.ex.request_id;
  r.tenant_id = ctx.tenant ? ctx.tenant->tenant.id : std::string();
  if (ctx.principal) {
    r.api_key_id = ctx.principal->api_key_id;
  }
  r.end_user = ctx.end_user;
  r.model = ctx.model;
  r.deployment = o.deployment;
  r.provider = o.provider;
  r.prompt_tokens = o.usage.prompt_tokens;
  r.completion_tokens = o.usage.completion_tokens;
  r.cached_tokens = o.usage.cached_tokens;
  r.reasoning_tokens = o.usage.reasoning_tokens;
  auto now = clock_.now();
  r.latency_ms = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - ctx.started).count());
  if (o.first_token_at) {
    r.ttft_ms = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(*o.first_token_at - ctx.started)
            .count());
  }
  r.status = o.status;
  r.outcome = o.result;
  r.attempts = o.attempts;
  r.fallback_reason = o.fallback_reason;
  r.streamed = o.streamed;
  r.created_at = ctx.started_unix_ms;
  // Priced by the deployment's upstream model when known (what the tenant's key was billed
  // for), else by the requested name.
  metering::TokenUsage tu{o.usage.prompt_tokens, o.usage.completion_tokens, o.usage.cached_tokens};
  std::string_view priced =
      o.upstream_model.empty() ? std::string_view(ctx.model) : std::string_view(o.upstream_model);
  r.cost_micro_usd = prices_.costMicroUsd(priced, tu).value_or(0);
  return r;
}

namespace {
// The coroutine part of commit(): its frame holds the ledger's awaitable and the result, not the
// usage record (built and handed to the ledger by the plain function below).
net::awaitable<Result<void>> awaitCommitted(RequestContext& ctx, net::awaitable<Result<void>> op) {
  auto r = co_await std::move(op);
  if (r) {
    ctx.outcome.committed = true;
  }
  co_return r;
}
}  // namespace

net::awaitable<Result<void>> MeterStage::commit(RequestContext& ctx) {
  return awaitCommitted(ctx, ledger_.commit(recordOf(ctx)));
}

void MeterStage::onComplete(RequestContext& ctx) noexcept {
  try {
    if (!ctx.tenant) {
      return;  // unauthenticated or unknown tenant: nothing to attribute usage to
    }
    auto& o = ctx.outcome;
    if (!o.committed) {
      // Errors, rate-limited and aborted requests are recorded too (without waiting).
      ledger_.submit(recordOf(ctx));
    }
    // Settle the reservation with what was really used. No upstream call: refund everything.
    if (ctx.reservation.pending()) {
      std::uint64_t actual = o.usage.prompt_tokens + o.usage.completion_tokens;
      bool refund = !o.upstream_called && !o.mock;
      if (limiter_blocks_) {
        net::post(blocking_, [res = std::move(ctx.reservation), actual, refund]() mutable {
          (void)(refund ? res.cancel() : res.settle(actual));
        });
      } else {
        (void)(refund ? ctx.reservation.cancel() : ctx.reservation.settle(actual));
      }
    }
    if (o.upstream_called || o.mock) {
      auto alert = spikes_.record(
          ctx.tenant->tenant.id, 1, o.usage.prompt_tokens + o.usage.completion_tokens);
      if (alert) {
        events_.usageSpike(
            alert->tenant_id, alert->metric, alert->window_requests, alert->window_tokens);
      }
    }
    // Internal calls (prompt evaluation) carry a pseudo key id that names no stored key.
    if (ctx.principal && !ctx.principal->api_key_id.empty() &&
        ctx.principal->kind != Principal::Kind::kInternal) {
      events_.apiKeyUsed(ctx.tenant->tenant.id, ctx.principal->api_key_id);
    }
  } catch (const std::exception& e) {
    LIVERY_LOG(log_, Error, "meter_failed", {"request_id", ctx.ex.request_id}, {"error", e.what()});
  }
}

}  // namespace livery::pipeline
