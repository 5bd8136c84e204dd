#pragma once

// An in-process cache of unwrapped data keys (DEKs), so a request does not pay a KMS/HSM round
// trip to decrypt its tenant's provider key. Never shared across processes and never persisted
// (no Redis, no disk). The decrypted provider key itself is never cached: the vault decrypts it
// per request (a ~1 µs AES-GCM call) and the caller wipes it after use.
//
// Bounds, after the AWS Encryption SDK's caching thresholds (research/security.md §1.1, R7);
// an entry is evicted as soon as it breaches any of them, and its key bytes are wiped:
//   max_age      time since the DEK was unwrapped (default 5 min). Bounds how long plaintext
//                key material lives in memory, how long a KMS outage is masked for a hot
//                credential, and how long a retired/revoked KEK keeps "working" in memory.
//   max_uses     lookups served by one unwrap, counting the unwrap itself (default 100,000:
//                about 100 s of a 1,000 req/s credential); forces a periodic KMS re-check.
//   max_entries  distinct DEKs held (default 10,000 ≈ a few MB); least recently used first out.
// Any of them set to 0 disables caching altogether (every open unwraps through the KMS).
// Defaults live in src/config/config.hpp (DekCacheConfig); the reasoning is in
// docs/design/envelope-encryption.md.
//
// Keying: (tenant id, credential id, provider, KEK id, KEK version, wrapped DEK bytes), all
// compared exactly. Two credentials can never share an entry, a re-encrypted credential (new
// DEK, new wrapped bytes) never hits its predecessor's entry, and a rewrapped row gets a new
// entry.
//
// Wiping: entries hold the DEK through a shared_ptr; eviction drops the cache's reference and
// the bytes are wiped (SecretBytes destructor) when the last in-flight user releases theirs, so
// a request that is decrypting right now is never handed freed memory.
//
// Thread-safety: all methods are safe to call concurrently. The cache is split into shards,
// each behind its own mutex; a lookup holds one shard lock for a hash-map probe.
// Expired entries are dropped when touched, when a shard inserts, and by sweep(), which the
// owner should call periodically (e.g. every max_age / 4) so idle DEKs do not outlive max_age.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::crypto {

struct DekCacheLimits {
  std::chrono::nanoseconds max_age = std::chrono::minutes(5);
  std::uint64_t max_uses = 100'000;
  std::size_t max_entries = 10'000;

  bool enabled() const noexcept { return max_age.count() > 0 && max_uses > 0 && max_entries > 0; }
};

// Identifies one wrapped DEK of one credential. Views must stay valid for the call only.
struct DekCacheKey {
  std::string_view tenant_id;
  std::string_view credential_id;
  std::string_view provider;
  std::string_view kek_id;
  std::uint32_t kek_version = 0;
  std::span<const unsigned char> wrapped_dek;
};

class DekCache {
 public:
  static constexpr std::size_t kDefaultShards = 16;

  // `shards` is clamped to [1, max_entries]; tests use 1 for exact LRU order.
  DekCache(DekCacheLimits limits, const Clock& clock, std::size_t shards = kDefaultShards);
  ~DekCache();
  DekCache(const DekCache&) = delete;
  DekCache& operator=(const DekCache&) = delete;

  bool enabled() const noexcept { return limits_.enabled(); }
  const DekCacheLimits& limits() const noexcept { return limits_; }

  // The cached DEK, or nullptr (miss, expired, use budget spent, or caching disabled). A hit
  // counts one use.
  std::shared_ptr<const SecretBytes> get(const DekCacheKey& key);

  // Caches a DEK that was just unwrapped (and used once). No-op when disabled or when
  // max_uses <= 1. Replaces an existing entry for the same key.
  void put(const DekCacheKey& key, SecretBytes dek);

  // The cached DEK (a hit counts one use) or, on a miss, the result of `unwrap`, cached when it
  // succeeds. Concurrent misses of one key share a single `unwrap` (single flight): the first
  // caller runs it and the others wait for its DEK or its error, so a cold credential under a
  // burst of requests costs one KMS round trip, not one per request. With caching disabled or
  // max_uses <= 1 every call runs `unwrap` itself. Blocking while another caller's unwrap runs:
  // call it where a KMS call may block.
  Result<std::shared_ptr<const SecretBytes>> getOrUnwrap(
      const DekCacheKey& key, const std::function<Result<SecretBytes>()>& unwrap);

  // Drops every entry of one credential (credential replaced or deleted, tenant suspended).
  std::size_t invalidateCredential(std::string_view tenant_id, std::string_view credential_id);
  // Drops every entry of one tenant.
  std::size_t invalidateTenant(std::string_view tenant_id);
  // Drops every entry wrapped under one KEK version (the version is being retired).
  std::size_t invalidateKekVersion(std::string_view kek_id, std::uint32_t kek_version);
  void clear();
  // Drops expired entries; returns how many.
  std::size_t sweep();

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t inserts = 0;
    std::uint64_t evictions = 0;       // expiry, use budget, capacity and invalidation
    std::uint64_t shared_unwraps = 0;  // misses served by another caller's unwrap (single flight)
    std::size_t size = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const SecretBytes> dek;
    Clock::SteadyTime unwrapped_at;
    std::uint64_t uses = 0;
    std::string tenant_id;
    std::string credential_id;
    std::string kek_id;
    std::uint32_t kek_version = 0;
    std::list<std::string>::iterator lru;  // position in Shard::lru (front = most recent)
  };
  struct Shard {
    mutable std::mutex mu;  // guards map, lru and the counters below
    std::unordered_map<std::string, Entry> map;
    std::list<std::string> lru;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t inserts = 0;
    std::uint64_t evictions = 0;
  };

  // One unwrap in progress, which concurrent misses of its key wait for.
  struct Flight {
    std::condition_variable done_cv;
    bool done = false;
    std::optional<Result<std::shared_ptr<const SecretBytes>>> result;
  };

  static std::string encodeKey(const DekCacheKey& key);
  // get() by encoded key; `count_miss` false for the single flight's second look.
  std::shared_ptr<const SecretBytes> lookup(const std::string& encoded, bool count_miss);
  void putShared(const DekCacheKey& key,
                 std::string encoded,
                 std::shared_ptr<const SecretBytes> value);
  Shard& shardFor(const std::string& encoded);
  bool expired(const Entry& e, Clock::SteadyTime now) const;
  // Requires the shard lock.
  void evictLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it);
  template <class Pred>
  std::size_t evictIf(Pred pred);

  const DekCacheLimits limits_;
  const Clock& clock_;
  std::size_t per_shard_capacity_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  mutable std::mutex
      flights_mu_;  // guards flights_, shared_unwraps_ and every Flight's done/result
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::uint64_t shared_unwraps_ = 0;  // guarded by flights_mu_
};

}  // namespace livery::crypto
