#include "crypto/dek_cache.hpp"

#include <algorithm>
#include <array>
#include <functional>

namespace livery::crypto {
namespace {

void appendLp(std::string& out, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(s);
}

}  // namespace

DekCache::DekCache(DekCacheLimits limits, const Clock& clock, std::size_t shards)
    : limits_(limits), clock_(clock) {
  std::size_t n = std::clamp<std::size_t>(shards, 1, std::max<std::size_t>(limits_.max_entries, 1));
  per_shard_capacity_ = limits_.enabled() ? (limits_.max_entries / n) : 0;
  // max_entries not divisible by n: round down so the total never exceeds max_entries.
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

DekCache::~DekCache() {
  clear();
}

std::string DekCache::encodeKey(const DekCacheKey& key) {
  std::string out;
  out.reserve(5 * 4 + key.tenant_id.size() + key.credential_id.size() + key.provider.size() +
              key.kek_id.size() + 4 + key.wrapped_dek.size());
  appendLp(out, key.tenant_id);
  appendLp(out, key.credential_id);
  appendLp(out, key.provider);
  appendLp(out, key.kek_id);
  out.push_back(static_cast<char>(key.kek_version >> 24));
  out.push_back(static_cast<char>(key.kek_version >> 16));
  out.push_back(static_cast<char>(key.kek_version >> 8));
  out.push_back(static_cast<char>(key.kek_version));
  appendLp(out,
           {reinterpret_cast<const char*>(key.wrapped_dek.data()),  // NOLINT(*-reinterpret-cast)
            key.wrapped_dek.size()});
  return out;
}

DekCache::Shard& DekCache::shardFor(const std::string& encoded) {
  return *shards_[std::hash<std::string>{}(encoded) % shards_.size()];
}

bool DekCache::expired(const Entry& e, Clock::SteadyTime now) const {
  return now - e.unwrapped_at >= limits_.max_age || e.uses >= limits_.max_uses;
}

void DekCache::evictLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it) {
  shard.lru.erase(it->second.lru);
  shard.map.erase(it);  // drops the cache's reference; bytes are wiped with the last one
  ++shard.evictions;
}

std::shared_ptr<const SecretBytes> DekCache::get(const DekCacheKey& key) {
  if (!limits_.enabled()) {
    return nullptr;
  }
  return lookup(encodeKey(key), true);
}

std::shared_ptr<const SecretBytes> DekCache::lookup(const std::string& encoded, bool count_miss) {
  Shard& shard = shardFor(encoded);
  const auto now = clock_.now();
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(encoded);
  if (it == shard.map.end()) {
    shard.misses += count_miss ? 1 : 0;
    return nullptr;
  }
  Entry& e = it->second;
  if (expired(e, now)) {
    evictLocked(shard, it);
    shard.misses += count_miss ? 1 : 0;
    return nullptr;
  }
  ++e.uses;
  ++shard.hits;
  shard.lru.splice(shard.lru.begin(), shard.lru, e.lru);
  return e.dek;
}

void DekCache::put(const DekCacheKey& key, SecretBytes dek) {
  if (!limits_.enabled() || limits_.max_uses <= 1 || per_shard_capacity_ == 0) {
    return;  // `dek` is wiped on return
  }
  putShared(key, encodeKey(key), std::make_shared<const SecretBytes>(std::move(dek)));
}

Result<std::shared_ptr<const SecretBytes>> DekCache::getOrUnwrap(
    const DekCacheKey& key, const std::function<Result<SecretBytes>()>& unwrap) {
  using Shared = std::shared_ptr<const SecretBytes>;
  const auto run = [&]() -> Result<Shared> {
    auto dek = unwrap();
    if (!dek) {
      return dek.error();
    }
    return std::make_shared<const SecretBytes>(std::move(*dek));
  };
  if (!limits_.enabled() || limits_.max_uses <= 1 || per_shard_capacity_ == 0) {
    return run();  // nothing is cached, so nothing is shared either
  }
  std::string encoded = encodeKey(key);
  if (auto hit = lookup(encoded, true)) {
    return hit;
  }
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(flights_mu_);
    auto [it, leader] = flights_.try_emplace(encoded);
    if (!leader) {
      auto joined = it->second;
      joined->done_cv.wait(lock, [&] { return joined->done; });
      ++shared_unwraps_;
      return *joined->result;
    }
    it->second = std::make_shared<Flight>();
    flight = it->second;
  }
  // Finishes the flight whatever happens below, so no waiter sleeps forever.
  std::optional<Result<Shared>> outcome;
  struct Finish {
    DekCache& self;
    const std::string& encoded;
    Flight& flight;
    std::optional<Result<Shared>>& outcome;
    ~Finish() {
      {
        std::lock_guard lock(self.flights_mu_);
        flight.result =
            outcome ? *outcome
                    : Result<Shared>(
                          fail(ErrorCode::kInternal, "internal error", "dek cache: unwrap threw"));
        flight.done = true;
        self.flights_.erase(encoded);
      }
      flight.done_cv.notify_all();
    }
  } finish{*this, encoded, *flight, outcome};
  // A leader that finished between our miss and our flight already cached the DEK.
  if (auto hit = lookup(encoded, false)) {
    outcome = Result<Shared>(hit);
    return hit;
  }
  outcome = run();
  if (*outcome) {
    putShared(key, encoded, **outcome);
  }
  return *outcome;
}

void DekCache::putShared(const DekCacheKey& key,
                         std::string encoded,
                         std::shared_ptr<const SecretBytes> value) {
  Shard& shard = shardFor(encoded);
  const auto now = clock_.now();
  std::lock_guard lock(shard.mu);
  if (auto old = shard.map.find(encoded); old != shard.map.end()) {
    evictLocked(shard, old);
  }
  // Make room: drop the least recently used entries.
  while (!shard.lru.empty() && shard.map.size() >= per_shard_capacity_) {
    auto victim = shard.map.find(shard.lru.back());
    evictLocked(shard, victim);
  }
  // Opportunistic expiry of a few cold entries (bounded work per insert; sweep() does the rest).
  constexpr std::size_t kExpiryProbe = 8;
  std::array<std::unordered_map<std::string, Entry>::iterator, kExpiryProbe> victims;
  std::size_t n_victims = 0;
  auto pos = shard.lru.end();
  for (std::size_t probed = 0; pos != shard.lru.begin() && probed < kExpiryProbe; ++probed) {
    --pos;
    auto candidate = shard.map.find(*pos);
    if (expired(candidate->second, now)) {
      victims[n_victims++] = candidate;
    }
  }
  for (std::size_t i = 0; i < n_victims; ++i) {
    evictLocked(shard, victims[i]);  // other map iterators stay valid across erase
  }
  shard.lru.push_front(encoded);
  Entry entry;
  entry.dek = std::move(value);
  entry.unwrapped_at = now;
  entry.uses = 1;  // the unwrap that produced it served one request
  entry.tenant_id.assign(key.tenant_id);
  entry.credential_id.assign(key.credential_id);
  entry.kek_id.assign(key.kek_id);
  entry.kek_version = key.kek_version;
  entry.lru = shard.lru.begin();
  shard.map.emplace(std::move(encoded), std::move(entry));
  ++shard.inserts;
}

template <class Pred>
std::size_t DekCache::evictIf(Pred pred) {
  std::size_t n = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    for (auto it = shard->map.begin(); it != shard->map.end();) {
      if (pred(it->second)) {
        shard->lru.erase(it->second.lru);
        it = shard->map.erase(it);
        ++shard->evictions;
        ++n;
      } else {
        ++it;
      }
    }
  }
  return n;
}

std::size_t DekCache::invalidateCredential(std::string_view tenant_id,
                                           std::string_view credential_id) {
  return evictIf(
      [&](const Entry& e) { return e.tenant_id == tenant_id && e.credential_id == credential_id; });
}

std::size_t DekCache::invalidateTenant(std::string_view tenant_id) {
  return evictIf([&](const Entry& e) { return e.tenant_id == tenant_id; });
}

std::size_t DekCache::invalidateKekVersion(std::string_view kek_id, std::uint32_t kek_version) {
  return evictIf(
      [&](const Entry& e) { return e.kek_id == kek_id && e.kek_version == kek_version; });
}

void DekCache::clear() {
  evictIf([](const Entry&) { return true; });
}

std::size_t DekCache::sweep() {
  const auto now = clock_.now();
  return evictIf([&](const Entry& e) { return expired(e, now); });
}

DekCache::Stats DekCache::stats() const {
  Stats s;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    s.hits += shard->hits;
    s.misses += shard->misses;
    s.inserts += shard->inserts;
    s.evictions += shard->evictions;
    s.size += shard->map.size();
  }
  std::lock_guard lock(flights_mu_);
  s.shared_unwraps = shared_unwraps_;
  return s;
}

}  // namespace livery::crypto
