#include "limits/in_memory_limiter.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "limits/gcra.hpp"

namespace livery::limits {
namespace {

constexpr double kNsPerSecond = 1e9;

std::uint8_t tagOf(LimitScope scope, LimitKind kind) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(scope) * 3U + static_cast<unsigned>(kind));
}
bool isQuotaTag(std::uint8_t tag) {
  return tag % 3U == static_cast<unsigned>(LimitKind::kMonthlyTokens);
}

// An entry's identity. The hash is computed once per admission from the tenant's and the id's
// hashes (each string is hashed once, not once per limit).
struct KeyView {
  std::string_view tenant;
  std::string_view id;
  std::uint8_t tag = 0;
  std::size_t hash = 0;
};

std::size_t hashOf(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

KeyView keyOf(std::string_view tenant,
              std::size_t tenant_hash,
              std::string_view id,
              std::size_t id_hash,
              std::uint8_t tag) {
  std::size_t h = tenant_hash;
  h ^= id_hash + std::size_t{0x9e3779b97f4a7c15ULL} + (h << 6) + (h >> 2);
  h ^= (static_cast<std::size_t>(tag) + 1U) * std::size_t{0xff51afd7ed558ccdULL};
  return {tenant, id, tag, h};
}

struct Key {
  std::string tenant;
  std::string id;
  std::uint8_t tag = 0;
  std::size_t hash = 0;
  explicit Key(const KeyView& v) : tenant(v.tenant), id(v.id), tag(v.tag), hash(v.hash) {}
  KeyView view() const { return {tenant, id, tag, hash}; }
};

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(const KeyView& k) const noexcept { return k.hash; }
  std::size_t operator()(const Key& k) const noexcept { return k.hash; }
};

struct KeyEq {
  using is_transparent = void;
  static bool same(const KeyView& a, const KeyView& b) noexcept {
    return a.hash == b.hash && a.tag == b.tag && a.id == b.id && a.tenant == b.tenant;
  }
  bool operator()(const Key& a, const Key& b) const noexcept { return same(a.view(), b.view()); }
  bool operator()(const Key& a, const KeyView& b) const noexcept { return same(a.view(), b); }
  bool operator()(const KeyView& a, const Key& b) const noexcept { return same(a, b.view()); }
};

// One stored limit. Rate entries use `tat`; quota entries use the other fields.
struct Entry {
  std::int64_t tat = 0;        // theoretical arrival time, ns of Clock::now()
  std::int32_t month = 0;      // quota period as year * 12 + month - 1
  std::uint64_t used = 0;      // settled tokens in `month`
  std::uint64_t reserved = 0;  // tokens reserved by pending reservations in `month`
};

std::int64_t nanosOf(Clock::SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int32_t monthIndex(Clock::WallTime t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) -
         1;
}

// "YYYY-MM" → month index; -1 when malformed.
std::int32_t monthIndex(std::string_view period) {
  if (period.size() != 7 || period[4] != '-') {
    return -1;
  }
  int year = 0;
  int month = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == 4) {
      continue;
    }
    const char c = period[i];
    if (c < '0' || c > '9') {
      return -1;
    }
    (i < 4 ? year : month) = (i < 4 ? year : month) * 10 + (c - '0');
  }
  if (month < 1 || month > 12) {
    return -1;
  }
  return year * 12 + month - 1;
}

struct ScopeView {
  LimitScope scope;
  std::string_view id;
  RateLimits rates;
  std::uint64_t quota;
};

std::string_view idOf(const ReservationTicket& t, std::size_t scope) {
  switch (static_cast<LimitScope>(scope)) {
    case LimitScope::kTenant:
      return {};
    case LimitScope::kApiKey:
      return t.api_key_id;
    case LimitScope::kEndUser:
      return t.end_user;
  }
  return {};
}

}  // namespace

struct alignas(64) InMemoryLimiter::Shard {
  std::mutex mu;  // guards entries, next_sweep and sweep_above
  std::unordered_map<Key, Entry, KeyHash, KeyEq> entries;
  std::int64_t next_sweep = 0;  // steady ns of the next periodic sweep
  std::size_t sweep_above = 0;  // sweep early once entries exceed this

  Entry& findOrCreate(const KeyView& k) {
    auto it = entries.find(k);
    if (it == entries.end()) {
      it = entries.emplace(Key(k), Entry{}).first;
    }
    return it->second;
  }
  Entry* find(const KeyView& k) {
    auto it = entries.find(k);
    return it == entries.end() ? nullptr : &it->second;
  }

  // Drops entries whose state equals a fresh one; then, above `cap`, the rate entries with the
  // least debt. Caller holds mu.
  void sweep(std::int64_t now, std::int32_t month, std::size_t cap) {
    std::erase_if(entries, [&](const auto& kv) {
      const Entry& e = kv.second;
      if (isQuotaTag(kv.first.tag)) {
        return e.month < month || (e.used == 0 && e.reserved == 0);
      }
      return e.tat <= now;
    });
    if (entries.size() <= cap) {
      return;
    }
    const std::size_t target = cap - cap / 10;  // hysteresis: do not sweep on every insert
    std::vector<std::int64_t> tats;
    tats.reserve(entries.size());
    for (const auto& [k, e] : entries) {
      if (!isQuotaTag(k.tag)) {
        tats.push_back(e.tat);
      }
    }
    std::size_t excess = entries.size() - target;
    if (excess > tats.size()) {
      excess = tats.size();
    }
    if (excess == 0) {
      return;
    }
    std::nth_element(
        tats.begin(), tats.begin() + static_cast<std::ptrdiff_t>(excess - 1), tats.end());
    const std::int64_t threshold = tats[excess - 1];
    std::size_t removed = 0;
    std::erase_if(entries, [&](const auto& kv) {
      if (removed < excess && !isQuotaTag(kv.first.tag) && kv.second.tat <= threshold) {
        ++removed;
        return true;
      }
      return false;
    });
  }
};

InMemoryLimiter::InMemoryLimiter(const Clock& clock, InMemoryLimiterOptions options)
    : clock_(clock),
      options_([&] {
        options.shards = std::max<std::size_t>(options.shards, 1);
        options.max_entries = std::max<std::size_t>(options.max_entries, options.shards);
        return options;
      }()),
      shards_(std::make_unique<Shard[]>(options_.shards)) {}

InMemoryLimiter::~InMemoryLimiter() = default;

InMemoryLimiter::Shard& InMemoryLimiter::shardFor(std::size_t tenant_hash) const {
  return shards_[tenant_hash % options_.shards];
}

Decision InMemoryLimiter::admit(const AdmissionRequest& request) {
  Decision decision;
  if (request.tenant_id.empty()) {
    decision.rejection =
        fail(ErrorCode::kInternal, "internal error", "limits: admit without tenant");
    return decision;
  }
  const std::int64_t now = nanosOf(clock_.now());
  const std::uint64_t estimate = request.estimated_tokens;

  const std::array<ScopeView, kScopeCount> scopes = {{
      {LimitScope::kTenant, {}, request.tenant, request.tenant_monthly_quota},
      {LimitScope::kApiKey, request.api_key_id, request.api_key, request.api_key_monthly_quota},
      {LimitScope::kEndUser, request.end_user, request.end_user_limits, 0},
  }};

  struct RateSlot {
    LimitId id;
    KeyView key;
    std::uint32_t limit = 0;
    std::uint64_t cost = 0;
    Gcra gcra;
    Entry* entry = nullptr;
    Gcra::Outcome outcome;
  };
  struct QuotaSlot {
    LimitId id;
    KeyView key;
    std::uint64_t limit = 0;
    Entry* entry = nullptr;
  };
  std::array<RateSlot, 2 * kScopeCount> rates;
  std::array<QuotaSlot, 2> quotas;
  std::size_t n_rates = 0;
  std::size_t n_quotas = 0;
  const std::size_t tenant_hash = hashOf(request.tenant_id);
  const auto key = [&](LimitScope scope, LimitKind kind, std::string_view id, std::size_t h) {
    return keyOf(request.tenant_id, tenant_hash, id, h, tagOf(scope, kind));
  };
  for (const ScopeView& s : scopes) {
    if (s.scope != LimitScope::kTenant && s.id.empty()) {
      continue;
    }
    if (s.rates.rpm == 0 && s.rates.tpm == 0 && s.quota == 0) {
      continue;
    }
    const std::size_t id_hash = hashOf(s.id);
    if (s.rates.rpm > 0) {
      rates[n_rates++] = {{s.scope, LimitKind::kRequestsPerMinute},
                          key(s.scope, LimitKind::kRequestsPerMinute, s.id, id_hash),
                          s.rates.rpm,
                          1,
                          Gcra::forRate(s.rates.rpm, options_.burst_seconds, kNsPerSecond)};
    }
    if (s.rates.tpm > 0) {
      rates[n_rates++] = {{s.scope, LimitKind::kTokensPerMinute},
                          key(s.scope, LimitKind::kTokensPerMinute, s.id, id_hash),
                          s.rates.tpm,
                          estimate,
                          Gcra::forRate(s.rates.tpm, options_.burst_seconds, kNsPerSecond)};
    }
    if (s.quota > 0 && n_quotas < quotas.size()) {
      quotas[n_quotas++] = {{s.scope, LimitKind::kMonthlyTokens},
                            key(s.scope, LimitKind::kMonthlyTokens, s.id, id_hash),
                            s.quota};
    }
  }

  // The wall clock is read only when a quota applies (its month names the period).
  const Clock::WallTime wall = n_quotas > 0 ? clock_.wallNow() : Clock::WallTime{};
  const std::int32_t month = n_quotas > 0 ? monthIndex(wall) : 0;

  std::optional<LimitId> rate_rejected;
  std::int64_t retry_after = 0;
  std::optional<LimitId> quota_rejected;
  {
    Shard& shard = shardFor(tenant_hash);
    std::lock_guard lock(shard.mu);
    const std::size_t cap = options_.max_entries / options_.shards;
    if (now >= shard.next_sweep || shard.entries.size() > shard.sweep_above) {
      shard.sweep(now, n_quotas > 0 ? month : monthIndex(clock_.wallNow()), cap);
      shard.next_sweep = now + std::chrono::nanoseconds(options_.sweep_interval).count();
      // If quota entries alone exceed the cap, do not sweep again on every insert.
      shard.sweep_above = std::max(cap, shard.entries.size() + cap / 10);
    }
    for (std::size_t i = 0; i < n_rates; ++i) {
      RateSlot& r = rates[i];
      r.entry = &shard.findOrCreate(r.key);
      r.outcome = r.gcra.check(r.entry->tat, now, r.cost);
      if (!r.outcome.allowed && r.outcome.retry_after >= retry_after) {
        rate_rejected = r.id;
        retry_after = r.outcome.retry_after;
      }
    }
    for (std::size_t i = 0; i < n_quotas; ++i) {
      QuotaSlot& q = quotas[i];
      q.entry = &shard.findOrCreate(q.key);
      Entry& e = *q.entry;
      if (e.month != month) {  // a new month: the quota starts afresh
        e = Entry{0, month, 0, 0};
      }
      const std::uint64_t taken = e.used + e.reserved;
      if (!quota_rejected && (taken > q.limit || estimate > q.limit - taken)) {
        quota_rejected = q.id;
      }
    }
    const bool admitted = !rate_rejected && !quota_rejected;
    if (admitted) {
      for (std::size_t i = 0; i < n_rates; ++i) {
        rates[i].entry->tat = rates[i].outcome.new_tat;
      }
      for (std::size_t i = 0; i < n_quotas; ++i) {
        quotas[i].entry->reserved += estimate;
      }
    }
    for (std::size_t i = 0; i < n_rates; ++i) {
      const RateSlot& r = rates[i];
      auto v = r.gcra.headerValues(r.limit, r.entry->tat - now, kNsPerSecond);
      auto& slot = r.id.kind == LimitKind::kRequestsPerMinute ? decision.headers.requests
                                                              : decision.headers.tokens;
      if (!slot || v.remaining < slot->remaining) {
        slot = v;
      }
    }
    for (std::size_t i = 0; i < n_quotas; ++i) {
      const Entry& e = *quotas[i].entry;
      const std::uint64_t taken = e.used + e.reserved;
      const std::uint64_t left = taken >= quotas[i].limit ? 0 : quotas[i].limit - taken;
      auto& slot = decision.headers.quota_remaining_tokens;
      slot = slot ? std::min(*slot, left) : left;
    }
  }

  if (quota_rejected) {
    decision.rejection = quotaExceededError(*quota_rejected);
    decision.rejected_by = quota_rejected;
    return decision;
  }
  if (rate_rejected) {
    decision.rejection = rateLimitedError(*rate_rejected, std::chrono::nanoseconds(retry_after));
    decision.rejected_by = rate_rejected;
    return decision;
  }
  ReservationTicket ticket;
  ticket.tenant_id.assign(request.tenant_id);
  ticket.estimated_tokens = estimate;
  for (std::size_t i = 0; i < n_rates; ++i) {
    if (rates[i].id.kind == LimitKind::kTokensPerMinute) {
      ticket.rates[static_cast<std::size_t>(rates[i].id.scope)].tpm = rates[i].limit;
    }
  }
  if (ticket.rates[static_cast<std::size_t>(LimitScope::kApiKey)].tpm > 0 ||
      request.api_key_monthly_quota > 0) {
    ticket.api_key_id.assign(request.api_key_id);
  }
  if (ticket.rates[static_cast<std::size_t>(LimitScope::kEndUser)].tpm > 0) {
    ticket.end_user.assign(request.end_user);
  }
  for (std::size_t i = 0; i < n_quotas; ++i) {
    (quotas[i].id.scope == LimitScope::kTenant ? ticket.quota_tenant : ticket.quota_api_key) = true;
  }
  if (n_quotas > 0) {
    ticket.period = monthPeriod(wall);
  }
  decision.reservation = makeReservation(*this, std::move(ticket));
  return decision;
}

Result<void> InMemoryLimiter::finish(const ReservationTicket& ticket,
                                     std::optional<std::uint64_t> actual_tokens) {
  const std::uint64_t actual = actual_tokens.value_or(0);
  const std::uint64_t estimate = ticket.estimated_tokens;
  const bool adjust_rates =
      actual != estimate &&
      (ticket.rates[0].tpm > 0 || ticket.rates[1].tpm > 0 || ticket.rates[2].tpm > 0);
  if (!adjust_rates && !ticket.quota_tenant && !ticket.quota_api_key) {
    return {};  // nothing was reserved
  }
  const std::int32_t month = monthIndex(ticket.period);
  const std::size_t tenant_hash = hashOf(ticket.tenant_id);
  const auto key = [&](std::size_t scope, LimitKind kind) {
    const std::string_view id = idOf(ticket, scope);
    return keyOf(
        ticket.tenant_id, tenant_hash, id, hashOf(id), tagOf(static_cast<LimitScope>(scope), kind));
  };

  Shard& shard = shardFor(tenant_hash);
  std::lock_guard lock(shard.mu);
  for (std::size_t s = 0; adjust_rates && s < kScopeCount; ++s) {
    const std::uint32_t tpm = ticket.rates[s].tpm;
    if (tpm == 0) {
      continue;
    }
    const Gcra g = Gcra::forRate(tpm, options_.burst_seconds, kNsPerSecond);
    const KeyView k = key(s, LimitKind::kTokensPerMinute);
    if (actual < estimate) {
      if (Entry* e = shard.find(k)) {
        e->tat -= g.increment(estimate - actual);
      }
    } else {
      Entry& e = shard.findOrCreate(k);
      e.tat = std::max(e.tat, nanosOf(clock_.now())) + g.increment(actual - estimate);
    }
  }
  const auto settleQuota = [&](LimitScope scope) {
    Entry* e = shard.find(key(static_cast<std::size_t>(scope), LimitKind::kMonthlyTokens));
    if (e == nullptr || e->month != month) {
      return;  // the reservation's month is over: a new month starts afresh
    }
    e->reserved -= std::min(e->reserved, estimate);
    e->used += actual;
  };
  if (ticket.quota_tenant) {
    settleQuota(LimitScope::kTenant);
  }
  if (ticket.quota_api_key) {
    settleQuota(LimitScope::kApiKey);
  }
  return {};
}

void InMemoryLimiter::seedQuotaUsage(LimitScope scope,
                                     std::string_view tenant_id,
                                     std::string_view id,
                                     std::string_view period,
                                     std::uint64_t used_tokens) {
  const std::int32_t month = monthIndex(period);
  if (month < 0) {
    return;
  }
  if (scope == LimitScope::kTenant) {
    id = {};
  }
  const std::size_t tenant_hash = hashOf(tenant_id);
  Shard& shard = shardFor(tenant_hash);
  std::lock_guard lock(shard.mu);
  Entry& e = shard.findOrCreate(
      keyOf(tenant_id, tenant_hash, id, hashOf(id), tagOf(scope, LimitKind::kMonthlyTokens)));
  if (e.month > month) {
    return;  // already tracking a later month
  }
  if (e.month != month) {
    e = Entry{0, month, 0, 0};
  }
  e.used = used_tokens;
}

std::size_t InMemoryLimiter::entryCount() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].entries.size();
  }
  return n;
}

}  // namespace livery::limits
