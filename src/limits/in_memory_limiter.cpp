#include "limits/in_memory_limiter.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "limits/gcra.hpp"
#include "limits/same_bytes.hpp"

namespace livery::limits {
namespace {

constexpr double kNsPerSecond = 1e9;
constexpr std::size_t kRpm = 0;  // Record::tat index of the requests-per-minute limit
constexpr std::size_t kTpm = 1;  // ... and of the tokens-per-minute limit

std::size_t hashOf(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

// A subject's hash from its tenant's and id's hashes (each string is hashed once per admission),
// finished with a 64-bit mixer so the slot bits are independent of the shard choice.
std::uint64_t subjectHash(std::size_t tenant_hash, std::size_t id_hash, LimitScope scope) {
  std::uint64_t h = tenant_hash;
  h ^= id_hash + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= (static_cast<std::uint64_t>(scope) + 1U) * 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h == 0 ? 1 : h;  // 0 marks an empty slot
}

// One subject's identity in a lookup: a tenant (empty id), one of its API keys or end users.
struct Subject {
  std::uint64_t hash = 0;
  LimitScope scope = LimitScope::kTenant;
  std::string_view tenant;
  std::string_view id;
};

Subject subjectOf(LimitScope scope,
                  std::string_view tenant,
                  std::size_t tenant_hash,
                  std::string_view id) {
  if (scope == LimitScope::kTenant) {
    id = {};
  }
  return {subjectHash(tenant_hash, hashOf(id), scope), scope, tenant, id};
}

// Everything stored for one subject: its two rate limits' theoretical arrival times and its
// monthly quota. One record per subject, so an admission finds all of a tenant's limits with
// one lookup and all of a key's with another. The key bytes (tenant id, then id) live inside the
// record when they fit, so the equality check touches no other cache line. 128 bytes, stored
// inline in the open-addressing table and aligned to 128 so the two cache lines are one pair for
// the hardware's adjacent-line prefetch (measured: about 5% at 10,000 tenants).
struct alignas(128) Record {
  static constexpr std::size_t kInlineKey = 64;

  std::uint64_t hash = 0;        // 0: empty slot
  std::int64_t tat[2] = {0, 0};  // [kRpm], [kTpm]: ns of Clock::now(); <= now: no debt
  std::uint64_t used = 0;        // quota: settled tokens in `month`
  std::uint64_t reserved = 0;    // quota: tokens reserved by pending reservations in `month`
  std::int32_t month = 0;        // quota period as year * 12 + month - 1; 0: no quota state
  LimitScope scope = LimitScope::kTenant;
  std::uint32_t tenant_len = 0;
  std::uint32_t id_len = 0;
  std::unique_ptr<char[]> heap_key;  // the key bytes when longer than kInlineKey
  char inline_key[kInlineKey] = {};

  bool empty() const noexcept { return hash == 0; }
  const char* keyBytes() const noexcept { return heap_key ? heap_key.get() : inline_key; }
  bool matches(const Subject& s) const noexcept {
    if (hash != s.hash || scope != s.scope || tenant_len != s.tenant.size() ||
        id_len != s.id.size()) {
      return false;
    }
    const char* k = keyBytes();
    return sameBytes(k, s.tenant.data(), s.tenant.size()) &&
           sameBytes(k + s.tenant.size(), s.id.data(), s.id.size());
  }
  void assign(const Subject& s) {
    hash = s.hash;
    scope = s.scope;
    tenant_len = static_cast<std::uint32_t>(s.tenant.size());
    id_len = static_cast<std::uint32_t>(s.id.size());
    char* k = inline_key;
    if (s.tenant.size() + s.id.size() > kInlineKey) {
      heap_key = std::make_unique<char[]>(s.tenant.size() + s.id.size());
      k = heap_key.get();
    }
    // An empty string_view may carry a null pointer, which memcpy must not be given even for
    // zero bytes (UBSan in `make test` caught it for the tenant scope's empty id).
    if (!s.tenant.empty()) {
      std::memcpy(k, s.tenant.data(), s.tenant.size());
    }
    if (!s.id.empty()) {
      std::memcpy(k + s.tenant.size(), s.id.data(), s.id.size());
    }
  }
  std::int64_t maxTat() const noexcept { return std::max(tat[kRpm], tat[kTpm]); }
  // Quota usage that is never forgotten: the current month's, once anything is used or reserved.
  bool quotaLive(std::int32_t current_month) const noexcept {
    return month >= current_month && (used != 0 || reserved != 0);
  }
  // Equal to a fresh record at `now`: nothing to remember.
  bool idle(std::int64_t now, std::int32_t current_month) const noexcept {
    return maxTat() <= now && !quotaLive(current_month);
  }
};
static_assert(sizeof(Record) == 128);

std::int64_t nanosOf(Clock::SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int32_t monthIndex(Clock::WallTime t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) -
         1;
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

// Records in an open-addressing table with linear probing (load at most 5/8). Lookups compare
// the 64-bit hash first and the key bytes only on a hash match. Not thread-safe (the shard's
// mutex guards it).
class RecordTable {
 public:
  std::size_t size() const noexcept { return size_; }

  Record* find(const Subject& s) noexcept {
    if (slots_.empty()) {
      return nullptr;
    }
    for (std::size_t i = s.hash & mask_;; i = (i + 1) & mask_) {
      Record& r = slots_[i];
      if (r.empty()) {
        return nullptr;
      }
      if (r.matches(s)) {
        return &r;
      }
    }
  }

  // Makes room for `n` more records now, so pointers returned by up to `n` following
  // findOrCreate() calls stay valid together.
  void reserve(std::size_t n) {
    if ((size_ + n) * 8 > slots_.size() * 5) {
      std::size_t capacity = std::max<std::size_t>(slots_.size(), 16);
      while ((size_ + n) * 8 > capacity * 5) {
        capacity *= 2;
      }
      rebuild(capacity);
    }
  }

  // Requires reserve(1) since the last insertion.
  Record& findOrCreate(const Subject& s) {
    std::size_t i = s.hash & mask_;
    for (;; i = (i + 1) & mask_) {
      Record& r = slots_[i];
      if (r.empty()) {
        break;
      }
      if (r.matches(s)) {
        return r;
      }
    }
    Record& r = slots_[i];
    r.assign(s);
    ++size_;
    return r;
  }

  // Keeps the records for which keep(record) is true (called once per record), in a table at
  // most half full.
  template <class Keep>
  void retain(Keep keep) {
    std::size_t kept = 0;
    for (Record& r : slots_) {
      if (r.empty()) {
        continue;
      }
      if (keep(r)) {
        ++kept;
      } else {
        r = Record{};
      }
    }
    std::size_t capacity = 16;
    while (kept * 2 > capacity) {
      capacity *= 2;
    }
    rebuild(capacity);
  }

  template <class Fn>
  void forEach(Fn fn) const {
    for (const Record& r : slots_) {
      if (!r.empty()) {
        fn(r);
      }
    }
  }

 private:
  // Moves every record into a fresh table of `capacity` slots (a power of two).
  void rebuild(std::size_t capacity) {
    std::vector<Record> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    size_ = 0;
    for (Record& r : old) {
      if (r.empty()) {
        continue;
      }
      std::size_t i = r.hash & mask_;
      while (!slots_[i].empty()) {
        i = (i + 1) & mask_;
      }
      slots_[i] = std::move(r);
      ++size_;
    }
  }

  std::vector<Record> slots_;  // size() is 0 or a power of two
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace

struct alignas(64) InMemoryLimiter::Shard {
  std::mutex mu;  // guards records, next_sweep and sweep_above
  RecordTable records;
  std::int64_t next_sweep = 0;  // steady ns of the next periodic sweep
  std::size_t sweep_above = 0;  // sweep early once records exceed this

  // Drops records whose state equals a fresh one; then, above `cap`, the records with the least
  // rate debt among those holding no live quota usage (lenient: a forgotten rate limit starts
  // afresh). Caller holds mu.
  void sweep(std::int64_t now, std::int32_t month, std::size_t cap) {
    records.retain([&](const Record& r) { return !r.idle(now, month); });
    if (records.size() <= cap) {
      return;
    }
    const std::size_t target = cap - cap / 10;  // hysteresis: do not sweep on every insert
    std::vector<std::int64_t> tats;
    tats.reserve(records.size());
    records.forEach([&](const Record& r) {
      if (!r.quotaLive(month)) {
        tats.push_back(r.maxTat());
      }
    });
    std::size_t excess = records.size() - target;
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
    records.retain([&](const Record& r) {
      if (removed < excess && !r.quotaLive(month) && r.maxTat() <= threshold) {
        ++removed;
        return false;
      }
      return true;
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

  // The limits of one subject that apply to this request, in the order tenant, key, end user.
  struct SubjectSlot {
    LimitScope scope = LimitScope::kTenant;
    Subject subject;
    RateLimits rates;
    std::uint64_t quota = 0;
    Gcra gcra[2];
    Gcra::Outcome outcome[2];
    Record* record = nullptr;
  };
  std::array<SubjectSlot, kScopeCount> slots;
  std::size_t n_slots = 0;
  bool any_quota = false;
  const std::size_t tenant_hash = hashOf(request.tenant_id);
  for (const ScopeView& s : scopes) {
    if (s.scope != LimitScope::kTenant && s.id.empty()) {
      continue;
    }
    if (s.rates.rpm == 0 && s.rates.tpm == 0 && s.quota == 0) {
      continue;
    }
    SubjectSlot& slot = slots[n_slots++];
    slot.scope = s.scope;
    slot.subject = subjectOf(s.scope, request.tenant_id, tenant_hash, s.id);
    slot.rates = s.rates;
    slot.quota = s.quota;
    if (s.rates.rpm > 0) {
      slot.gcra[kRpm] = Gcra::forRate(s.rates.rpm, options_.burst_seconds, kNsPerSecond);
    }
    if (s.rates.tpm > 0) {
      slot.gcra[kTpm] = Gcra::forRate(s.rates.tpm, options_.burst_seconds, kNsPerSecond);
    }
    any_quota = any_quota || s.quota > 0;
  }

  // The wall clock is read only when a quota applies (its month names the period).
  const Clock::WallTime wall = any_quota ? clock_.wallNow() : Clock::WallTime{};
  const std::int32_t month = any_quota ? monthIndex(wall) : 0;

  std::optional<LimitId> rate_rejected;
  std::int64_t retry_after = 0;
  std::optional<LimitId> quota_rejected;
  {
    Shard& shard = shardFor(tenant_hash);
    std::lock_guard lock(shard.mu);
    const std::size_t cap = options_.max_entries / options_.shards;
    if (now >= shard.next_sweep || shard.records.size() > shard.sweep_above) {
      shard.sweep(now, any_quota ? month : monthIndex(clock_.wallNow()), cap);
      shard.next_sweep = now + std::chrono::nanoseconds(options_.sweep_interval).count();
      // If quota records alone exceed the cap, do not sweep again on every insert.
      shard.sweep_above = std::max(cap, shard.records.size() + cap / 10);
    }
    shard.records.reserve(n_slots);  // the record pointers below stay valid together
    const std::uint64_t costs[2] = {1, estimate};
    for (std::size_t i = 0; i < n_slots; ++i) {
      SubjectSlot& s = slots[i];
      s.record = &shard.records.findOrCreate(s.subject);
      const std::uint32_t limits[2] = {s.rates.rpm, s.rates.tpm};
      for (std::size_t k = kRpm; k <= kTpm; ++k) {
        if (limits[k] == 0) {
          continue;
        }
        s.outcome[k] = s.gcra[k].check(s.record->tat[k], now, costs[k]);
        if (!s.outcome[k].allowed && s.outcome[k].retry_after >= retry_after) {
          rate_rejected = LimitId{
              s.scope, k == kRpm ? LimitKind::kRequestsPerMinute : LimitKind::kTokensPerMinute};
          retry_after = s.outcome[k].retry_after;
        }
      }
    }
    for (std::size_t i = 0; i < n_slots; ++i) {
      SubjectSlot& s = slots[i];
      if (s.quota == 0) {
        continue;
      }
      Record& r = *s.record;
      if (r.month != month) {  // a new month: the quota starts afresh
        r.month = month;
        r.used = 0;
        r.reserved = 0;
      }
      const std::uint64_t taken = r.used + r.reserved;
      if (!quota_rejected && (taken > s.quota || estimate > s.quota - taken)) {
        quota_rejected = LimitId{s.scope, LimitKind::kMonthlyTokens};
      }
    }
    const bool admitted = !rate_rejected && !quota_rejected;
    for (std::size_t i = 0; i < n_slots; ++i) {
      SubjectSlot& s = slots[i];
      Record& r = *s.record;
      const std::uint32_t limits[2] = {s.rates.rpm, s.rates.tpm};
      for (std::size_t k = kRpm; k <= kTpm; ++k) {
        if (limits[k] == 0) {
          continue;
        }
        if (admitted) {
          r.tat[k] = s.outcome[k].new_tat;
        }
        auto v = s.gcra[k].headerValues(limits[k], r.tat[k] - now, kNsPerSecond);
        auto& slot = k == kRpm ? decision.headers.requests : decision.headers.tokens;
        if (!slot || v.remaining < slot->remaining) {
          slot = v;
        }
      }
      if (s.quota > 0) {
        if (admitted) {
          r.reserved += estimate;
        }
        const std::uint64_t taken = r.used + r.reserved;
        const std::uint64_t left = taken >= s.quota ? 0 : s.quota - taken;
        auto& slot = decision.headers.quota_remaining_tokens;
        slot = slot ? std::min(*slot, left) : left;
      }
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
  ticket.tenant_hash = tenant_hash;
  ticket.estimated_tokens = estimate;
  for (std::size_t i = 0; i < n_slots; ++i) {
    const SubjectSlot& s = slots[i];
    const auto scope = static_cast<std::size_t>(s.scope);
    ticket.rates[scope].tpm = s.rates.tpm;
    ticket.subject_hash[scope] = s.subject.hash;
    if (s.quota > 0) {
      (s.scope == LimitScope::kTenant ? ticket.quota_tenant : ticket.quota_api_key) = true;
    }
  }
  if (ticket.rates[static_cast<std::size_t>(LimitScope::kApiKey)].tpm > 0 || ticket.quota_api_key) {
    ticket.api_key_id.assign(request.api_key_id);
  }
  if (ticket.rates[static_cast<std::size_t>(LimitScope::kEndUser)].tpm > 0) {
    ticket.end_user.assign(request.end_user);
  }
  if (any_quota) {
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
  const std::int32_t month = periodIndex(ticket.period);
  // The subjects' hashes were computed by admit(); the strings are compared, not hashed again.
  const auto subject = [&](std::size_t scope) {
    return Subject{ticket.subject_hash[scope],
                   static_cast<LimitScope>(scope),
                   ticket.tenant_id,
                   idOf(ticket, scope)};
  };

  Shard& shard = shardFor(ticket.tenant_hash);
  std::lock_guard lock(shard.mu);
  for (std::size_t s = 0; adjust_rates && s < kScopeCount; ++s) {
    const std::uint32_t tpm = ticket.rates[s].tpm;
    if (tpm == 0) {
      continue;
    }
    const Gcra g = Gcra::forRate(tpm, options_.burst_seconds, kNsPerSecond);
    const Subject k = subject(s);
    if (actual < estimate) {
      if (Record* r = shard.records.find(k)) {
        r->tat[kTpm] -= g.increment(estimate - actual);
      }
    } else {
      shard.records.reserve(1);
      Record& r = shard.records.findOrCreate(k);
      r.tat[kTpm] = std::max(r.tat[kTpm], nanosOf(clock_.now())) + g.increment(actual - estimate);
    }
  }
  const auto settleQuota = [&](LimitScope scope) {
    Record* r = shard.records.find(subject(static_cast<std::size_t>(scope)));
    if (r == nullptr || r->month != month) {
      return;  // the reservation's month is over: a new month starts afresh
    }
    r->reserved -= std::min(r->reserved, estimate);
    r->used += actual;
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
  const std::int32_t month = periodIndex(period);
  if (month < 0) {
    return;
  }
  const std::size_t tenant_hash = hashOf(tenant_id);
  Shard& shard = shardFor(tenant_hash);
  std::lock_guard lock(shard.mu);
  shard.records.reserve(1);
  Record& r = shard.records.findOrCreate(subjectOf(scope, tenant_id, tenant_hash, id));
  if (r.month > month) {
    return;  // already tracking a later month
  }
  if (r.month != month) {
    r.month = month;
    r.used = 0;
    r.reserved = 0;
  }
  r.used = used_tokens;
}

Result<QuotaUsage> InMemoryLimiter::quotaUsage(LimitScope scope,
                                               std::string_view tenant_id,
                                               std::string_view id,
                                               std::string_view period) {
  const std::int32_t month = periodIndex(period);
  if (month < 0) {
    return fail(ErrorCode::kBadRequest, "period must be YYYY-MM");
  }
  const std::size_t tenant_hash = hashOf(tenant_id);
  Shard& shard = shardFor(tenant_hash);
  std::lock_guard lock(shard.mu);
  const Record* r = shard.records.find(subjectOf(scope, tenant_id, tenant_hash, id));
  if (r == nullptr || r->month != month) {
    return QuotaUsage{};
  }
  return QuotaUsage{r->used, r->reserved};
}

std::size_t InMemoryLimiter::entryCount() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].records.size();
  }
  return n;
}

}  // namespace livery::limits
