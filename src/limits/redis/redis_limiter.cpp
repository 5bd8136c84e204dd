#include "limits/redis/redis_limiter.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "core/ids.hpp"
#include "limits/gcra.hpp"
#include "limits/redis/scripts.hpp"

namespace livery::limits {
namespace {

constexpr double kMicrosPerSecond = 1e6;

std::int64_t steadyNanos(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch())
      .count();
}

char scopeChar(LimitScope scope) {
  switch (scope) {
    case LimitScope::kTenant:
      return 't';
    case LimitScope::kApiKey:
      return 'k';
    case LimitScope::kEndUser:
      return 'u';
  }
  return '?';
}

std::uint32_t scaled(std::uint32_t limit, double share) {
  if (limit == 0) {
    return 0;
  }
  const double v = std::ceil(static_cast<double>(limit) * std::clamp(share, 0.0, 1.0));
  return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(v));
}

}  // namespace

// One EVALSHA: "EVALSHA" <sha> <numkeys> keys... args... (strings owned here).
struct RedisLimiter::ScriptCall {
  const redis_scripts::Script& script;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

RedisLimiter::RedisLimiter(RedisEndpoint endpoint,
                           RedisLimiterOptions options,
                           const Clock& clock,
                           Logger& logger,
                           MetricsRegistry& metrics)
    : options_(std::move(options)),
      clock_(clock),
      logger_(logger),
      stats_{metrics.counter("livery_limits_redis_errors_total",
                             "Redis limiter calls that failed (connect, timeout, script error)"),
             metrics.counter("livery_limits_redis_fallback_decisions_total",
                             "Admissions decided without Redis (per-node fallback)"),
             metrics.counter("livery_limits_redis_settle_failures_total",
                             "Reservation settles or cancels that could not reach Redis"),
             metrics.counter("livery_limits_redis_script_loads_total",
                             "Scripts sent with EVAL after a NOSCRIPT reply"),
             metrics.gauge("livery_limits_redis_degraded",
                           "1 while Redis is unreachable and limits use the per-node fallback")},
      pool_(endpoint.clone(), options_.pool_size, options_.timeout),
      fallback_(clock, InMemoryLimiterOptions{.burst_seconds = options_.burst_seconds}),
      endpoint_text_(endpoint.describe()),
      reservation_prefix_(randomId("rsv")) {}

RedisLimiter::~RedisLimiter() = default;

std::string RedisLimiter::nowArg() const {
  if (options_.time_source == RedisTimeSource::kServer) {
    return {};
  }
  return std::to_string(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.wallNow().time_since_epoch())
          .count());
}

std::string RedisLimiter::rateKey(std::string_view tenant,
                                  LimitId id,
                                  std::string_view key_id) const {
  const std::string_view kind = id.kind == LimitKind::kRequestsPerMinute ? "rpm" : "tpm";
  if (id.scope == LimitScope::kTenant) {
    return fmt::format("{}:{{{}}}:rl:t:{}", options_.key_prefix, tenant, kind);
  }
  return fmt::format(
      "{}:{{{}}}:rl:{}:{}:{}", options_.key_prefix, tenant, scopeChar(id.scope), kind, key_id);
}

std::string RedisLimiter::quotaKey(std::string_view kind,
                                   std::string_view tenant,
                                   LimitScope scope,
                                   std::string_view period,
                                   std::string_view key_id) const {
  if (scope == LimitScope::kTenant) {
    return fmt::format("{}:{{{}}}:{}:t:{}", options_.key_prefix, tenant, kind, period);
  }
  return fmt::format(
      "{}:{{{}}}:{}:{}:{}:{}", options_.key_prefix, tenant, kind, scopeChar(scope), period, key_id);
}

bool RedisLimiter::isDown() const {
  return steadyNanos(clock_) < down_until_ns_.load(std::memory_order_relaxed);
}

void RedisLimiter::onFailure(const Error& error, bool transport_failure) {
  stats_.redis_errors.inc();
  if (transport_failure) {
    const auto retry_ns = std::chrono::nanoseconds(options_.retry_interval).count();
    down_until_ns_.store(steadyNanos(clock_) + retry_ns, std::memory_order_relaxed);
    if (!degraded_.exchange(true, std::memory_order_relaxed)) {
      stats_.degraded.set(1);
    }
  }
  const std::int64_t now = steadyNanos(clock_);
  std::int64_t last = last_degraded_log_ns_.load(std::memory_order_relaxed);
  const auto interval = std::chrono::nanoseconds(options_.degraded_log_interval).count();
  if ((last == INT64_MIN || now - last >= interval) &&
      last_degraded_log_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    LIVERY_LOG(logger_,
               Warn,
               "limits_redis_degraded",
               {"endpoint", endpoint_text_},
               {"error", error.log_detail},
               {"fallback_decisions", fallbacks_since_log_.exchange(0, std::memory_order_relaxed)},
               {"quota_failure_mode",
                options_.quota_failure_mode == QuotaFailureMode::kClosed ? "closed" : "open"});
  }
}

void RedisLimiter::onSuccess() {
  if (degraded_.load(std::memory_order_relaxed) &&
      degraded_.exchange(false, std::memory_order_relaxed)) {
    stats_.degraded.set(0);
    down_until_ns_.store(0, std::memory_order_relaxed);
    LIVERY_LOG(logger_, Info, "limits_redis_recovered", {"endpoint", endpoint_text_});
  }
}

Result<RedisReplyPtr> RedisLimiter::evalScript(ScriptCall& call, bool& transport_failure) {
  transport_failure = false;
  bool exhausted = false;
  auto lease = pool_.acquire(exhausted);
  if (!lease) {
    // A failed connect means Redis is down: skip it for a while. An exhausted pool means this
    // node is saturated, not that Redis is gone: only this call falls back.
    transport_failure = !exhausted;
    return lease.error();
  }
  const std::string numkeys = std::to_string(call.keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + call.keys.size() + call.args.size());
  argv.emplace_back("EVALSHA");
  argv.emplace_back(call.script.sha1);
  argv.emplace_back(numkeys);
  argv.insert(argv.end(), call.keys.begin(), call.keys.end());
  argv.insert(argv.end(), call.args.begin(), call.args.end());

  auto reply = (*lease)->command(argv);
  if (reply && (*reply)->type == REDIS_REPLY_ERROR &&
      std::string_view((*reply)->str, (*reply)->len).starts_with("NOSCRIPT")) {
    stats_.script_loads.inc();
    argv[0] = "EVAL";
    argv[1] = call.script.source;
    reply = (*lease)->command(argv);
  }
  if (!reply) {
    transport_failure = true;
    return reply.error();
  }
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis {}: script error: {}",
                            endpoint_text_,
                            std::string_view((*reply)->str, (*reply)->len)));
  }
  return reply;
}

Decision RedisLimiter::fallback(const AdmissionRequest& request, std::string_view why) {
  stats_.fallback_decisions.inc();
  fallbacks_since_log_.fetch_add(1, std::memory_order_relaxed);
  const bool has_quota = request.tenant_monthly_quota > 0 ||
                         (!request.api_key_id.empty() && request.api_key_monthly_quota > 0);
  if (has_quota && options_.quota_failure_mode == QuotaFailureMode::kClosed) {
    Decision d;
    d.degraded = true;
    d.rejection = fail(ErrorCode::kUnavailable,
                       "Usage limits cannot be checked right now. Please retry shortly.",
                       fmt::format("limits: quotas fail closed ({})", why))
                      .withRetryAfter(1);
    return d;
  }
  AdmissionRequest local = request;
  local.tenant_monthly_quota = 0;
  local.api_key_monthly_quota = 0;
  for (RateLimits* r : {&local.tenant, &local.api_key, &local.end_user_limits}) {
    r->rpm = scaled(r->rpm, options_.fallback_share);
    r->tpm = scaled(r->tpm, options_.fallback_share);
  }
  Decision d = fallback_.admit(local);
  d.degraded = true;
  return d;
}

Decision RedisLimiter::admit(const AdmissionRequest& request) {
  if (request.tenant_id.empty()) {
    Decision d;
    d.rejection = fail(ErrorCode::kInternal, "internal error", "limits: admit without tenant");
    return d;
  }
  if (isDown()) {
    return fallback(request, "redis marked down");
  }
  const std::uint64_t estimate = request.estimated_tokens;
  struct RateSlot {
    LimitId id;
    std::uint32_t limit;
    Gcra gcra;
  };
  struct QuotaSlot {
    LimitId id;
    std::uint64_t limit;
  };
  std::vector<RateSlot> rates;
  std::vector<QuotaSlot> quotas;
  rates.reserve(2 * kScopeCount);
  ScriptCall call{redis_scripts::admit(), {}, {}};
  call.keys.reserve(2 * kScopeCount + 4);
  call.args.reserve(6 + 4 * kScopeCount + 4);
  std::vector<std::string> rate_args;
  const std::array<std::pair<LimitScope, std::string_view>, kScopeCount> ids = {{
      {LimitScope::kTenant, {}},
      {LimitScope::kApiKey, request.api_key_id},
      {LimitScope::kEndUser, request.end_user},
  }};
  const std::array<RateLimits, kScopeCount> limits = {
      request.tenant, request.api_key, request.end_user_limits};
  for (std::size_t s = 0; s < kScopeCount; ++s) {
    const auto [scope, id] = ids.at(s);
    if (scope != LimitScope::kTenant && id.empty()) {
      continue;
    }
    for (const LimitKind kind : {LimitKind::kRequestsPerMinute, LimitKind::kTokensPerMinute}) {
      const std::uint32_t limit =
          kind == LimitKind::kRequestsPerMinute ? limits.at(s).rpm : limits.at(s).tpm;
      if (limit == 0) {
        continue;
      }
      const LimitId lid{scope, kind};
      const Gcra g = Gcra::forRate(limit, options_.burst_seconds, kMicrosPerSecond);
      const std::uint64_t cost = kind == LimitKind::kRequestsPerMinute ? 1 : estimate;
      rates.push_back({lid, limit, g});
      call.keys.push_back(rateKey(request.tenant_id, lid, id));
      rate_args.push_back(std::to_string(g.increment(cost)));
      rate_args.push_back(std::to_string(g.tolerance));
    }
  }
  const std::string period = monthPeriod(clock_.wallNow());
  const auto addQuota = [&](LimitScope scope, std::string_view id, std::uint64_t limit) {
    quotas.push_back({{scope, LimitKind::kMonthlyTokens}, limit});
    call.keys.push_back(quotaKey("q", request.tenant_id, scope, period, id));
    call.keys.push_back(quotaKey("qr", request.tenant_id, scope, period, id));
  };
  if (request.tenant_monthly_quota > 0) {
    addQuota(LimitScope::kTenant, {}, request.tenant_monthly_quota);
  }
  if (!request.api_key_id.empty() && request.api_key_monthly_quota > 0) {
    addQuota(LimitScope::kApiKey, request.api_key_id, request.api_key_monthly_quota);
  }
  const std::string rid =
      quotas.empty() ? std::string("-")
                     : fmt::format("{}.{}",
                                   reservation_prefix_,
                                   next_reservation_.fetch_add(1, std::memory_order_relaxed));
  call.args.push_back(nowArg());
  call.args.push_back(std::to_string(rates.size()));
  call.args.push_back(std::to_string(quotas.size()));
  call.args.push_back(rid);
  call.args.push_back(std::to_string(
      std::chrono::duration_cast<std::chrono::microseconds>(options_.reservation_ttl).count()));
  call.args.push_back(std::to_string(options_.quota_key_ttl.count()));
  for (auto& a : rate_args) {
    call.args.push_back(std::move(a));
  }
  for (const QuotaSlot& q : quotas) {
    call.args.push_back(std::to_string(q.limit));
    call.args.push_back(std::to_string(estimate));
  }

  bool transport_failure = false;
  auto reply = evalScript(call, transport_failure);
  if (reply) {
    const redisReply& r = **reply;
    const std::size_t expected = 3 + rates.size() + quotas.size();
    bool well_formed = r.type == REDIS_REPLY_ARRAY && r.elements == expected;
    for (std::size_t i = 0; well_formed && i < expected; ++i) {
      well_formed = r.element[i]->type == REDIS_REPLY_INTEGER;
    }
    if (!well_formed) {
      reply = fail(ErrorCode::kUnavailable,
                   "limits store unavailable",
                   fmt::format("redis {}: unexpected admit reply", endpoint_text_));
    }
  }
  if (!reply) {
    onFailure(reply.error(), transport_failure);
    return fallback(request, transport_failure ? "redis unreachable" : "redis error");
  }
  onSuccess();

  const redisReply& r = **reply;
  const auto at = [&](std::size_t i) {
    return r.element[i]->integer;
  };
  const long long status = at(0);
  const auto index = static_cast<std::size_t>(std::max<long long>(at(1), 1) - 1);
  Decision decision;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    const RateSlot& s = rates[i];
    auto v = s.gcra.headerValues(s.limit, at(3 + i), kMicrosPerSecond);
    auto& slot = s.id.kind == LimitKind::kRequestsPerMinute ? decision.headers.requests
                                                            : decision.headers.tokens;
    if (!slot || v.remaining < slot->remaining) {
      slot = v;
    }
  }
  for (std::size_t j = 0; j < quotas.size(); ++j) {
    const auto left = static_cast<std::uint64_t>(std::max<long long>(at(3 + rates.size() + j), 0));
    auto& slot = decision.headers.quota_remaining_tokens;
    slot = slot ? std::min(*slot, left) : left;
  }
  if (status == 2 && index < quotas.size()) {
    decision.rejection = quotaExceededError(quotas[index].id);
    decision.rejected_by = quotas[index].id;
    return decision;
  }
  if (status == 1 && index < rates.size()) {
    decision.rejection =
        rateLimitedError(rates[index].id, std::chrono::microseconds(std::max<long long>(at(2), 0)));
    decision.rejected_by = rates[index].id;
    return decision;
  }
  ReservationTicket ticket;
  ticket.tenant_id.assign(request.tenant_id);
  ticket.api_key_id.assign(request.api_key_id);
  ticket.end_user.assign(request.end_user);
  ticket.estimated_tokens = estimate;
  ticket.period = period;
  ticket.backend_id = rid;
  for (const RateSlot& s : rates) {
    if (s.id.kind == LimitKind::kTokensPerMinute) {
      ticket.rates[static_cast<std::size_t>(s.id.scope)].tpm = s.limit;
    }
  }
  for (const QuotaSlot& q : quotas) {
    (q.id.scope == LimitScope::kTenant ? ticket.quota_tenant : ticket.quota_api_key) = true;
  }
  decision.reservation = makeReservation(*this, std::move(ticket));
  return decision;
}

Result<QuotaUsage> RedisLimiter::quotaUsage(LimitScope scope,
                                            std::string_view tenant_id,
                                            std::string_view id,
                                            std::string_view period) {
  if (periodIndex(period) < 0) {
    return fail(ErrorCode::kBadRequest, "period must be YYYY-MM");
  }
  if (scope == LimitScope::kTenant) {
    id = {};
  }
  if (isDown()) {
    return fail(ErrorCode::kUnavailable, "limits store unavailable", "redis marked down");
  }
  ScriptCall call{redis_scripts::quotaUsage(), {}, {}};
  call.keys.push_back(quotaKey("q", tenant_id, scope, period, id));
  call.keys.push_back(quotaKey("qr", tenant_id, scope, period, id));
  call.args.push_back(nowArg());
  bool transport_failure = false;
  auto reply = evalScript(call, transport_failure);
  if (!reply) {
    onFailure(reply.error(), transport_failure);
    return reply.error();
  }
  const redisReply& r = **reply;
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[0]->type != REDIS_REPLY_INTEGER ||
      r.element[1]->type != REDIS_REPLY_INTEGER) {
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis {}: unexpected quota usage reply", endpoint_text_));
  }
  onSuccess();
  return QuotaUsage{static_cast<std::uint64_t>(std::max<long long>(r.element[0]->integer, 0)),
                    static_cast<std::uint64_t>(std::max<long long>(r.element[1]->integer, 0))};
}

Result<void> RedisLimiter::finish(const ReservationTicket& ticket,
                                  std::optional<std::uint64_t> actual_tokens) {
  const std::uint64_t actual = actual_tokens.value_or(0);
  const std::uint64_t estimate = ticket.estimated_tokens;
  ScriptCall call{redis_scripts::settle(), {}, {}};
  std::size_t m = 0;
  if (ticket.quota_tenant) {
    call.keys.push_back(quotaKey("q", ticket.tenant_id, LimitScope::kTenant, ticket.period, {}));
    call.keys.push_back(quotaKey("qr", ticket.tenant_id, LimitScope::kTenant, ticket.period, {}));
    ++m;
  }
  if (ticket.quota_api_key) {
    call.keys.push_back(
        quotaKey("q", ticket.tenant_id, LimitScope::kApiKey, ticket.period, ticket.api_key_id));
    call.keys.push_back(
        quotaKey("qr", ticket.tenant_id, LimitScope::kApiKey, ticket.period, ticket.api_key_id));
    ++m;
  }
  std::vector<std::string> deltas;
  const std::array<std::string_view, kScopeCount> ids = {
      std::string_view{}, ticket.api_key_id, ticket.end_user};
  for (std::size_t s = 0; s < kScopeCount && actual != estimate; ++s) {
    const std::uint32_t tpm = ticket.rates[s].tpm;
    if (tpm == 0) {
      continue;
    }
    const Gcra g = Gcra::forRate(tpm, options_.burst_seconds, kMicrosPerSecond);
    const std::int64_t delta =
        actual > estimate ? g.increment(actual - estimate) : -g.increment(estimate - actual);
    if (delta == 0) {
      continue;
    }
    call.keys.push_back(rateKey(
        ticket.tenant_id, {static_cast<LimitScope>(s), LimitKind::kTokensPerMinute}, ids.at(s)));
    deltas.push_back(std::to_string(delta));
  }
  if (call.keys.empty()) {
    return {};
  }
  if (isDown()) {
    stats_.settle_failures.inc();
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                "redis marked down: reservation left to expire");
  }
  call.args.push_back(nowArg());
  call.args.push_back(std::to_string(m));
  call.args.push_back(std::to_string(deltas.size()));
  call.args.push_back(ticket.backend_id);
  call.args.push_back(std::to_string(actual));
  call.args.push_back(std::to_string(options_.quota_key_ttl.count()));
  for (auto& d : deltas) {
    call.args.push_back(std::move(d));
  }
  bool transport_failure = false;
  auto reply = evalScript(call, transport_failure);
  if (!reply) {
    stats_.settle_failures.inc();
    onFailure(reply.error(), transport_failure);
    return reply.error();
  }
  onSuccess();
  return {};
}

}  // namespace livery::limits
