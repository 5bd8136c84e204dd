#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/clock.hpp"
#include "limits/limiter.hpp"

namespace livery::limits {

struct InMemoryLimiterOptions {
  double burst_seconds = 1.0;  // GCRA burst tolerance (config limits.burst_seconds)
  std::size_t shards = 64;     // a tenant's entries all live in one shard (one lock per admit)
  // Soft bound on stored entries across all shards. Idle entries (a rate limit with no debt, a
  // quota of a past month or with nothing used) are evicted first; beyond the bound, rate-limit
  // entries with the least debt are forgotten (lenient). Quota entries of the current month are
  // never forgotten: they are bounded by the tenants and keys that have a quota.
  std::size_t max_entries = 1'000'000;
  std::chrono::seconds sweep_interval{60};  // per shard, amortised over admissions
};

// The embedded, single-node Limiter: per-tenant sharded hash maps under mutexes, GCRA rate
// limits over the injected Clock's steady time, monthly quotas keyed by the UTC month of its wall
// time. Never blocks on I/O (isBlocking() is false); an admission takes one shard lock.
// Thread-safe. State is in memory only: seedQuotaUsage() restores the month's usage (from the
// usage ledger) after a restart. `clock` must outlive the limiter.
class InMemoryLimiter final : public Limiter {
 public:
  explicit InMemoryLimiter(const Clock& clock, InMemoryLimiterOptions options = {});
  ~InMemoryLimiter() override;
  InMemoryLimiter(const InMemoryLimiter&) = delete;
  InMemoryLimiter& operator=(const InMemoryLimiter&) = delete;

  [[nodiscard]] Decision admit(const AdmissionRequest& request) override;
  bool isBlocking() const noexcept override { return false; }

  // Sets the tokens already used in `period` ("YYYY-MM") by a quota: scope kTenant (id ignored)
  // or kApiKey (id = the key id). Reservations in flight are kept.
  void seedQuotaUsage(LimitScope scope,
                      std::string_view tenant_id,
                      std::string_view id,
                      std::string_view period,
                      std::uint64_t used_tokens);

  [[nodiscard]] Result<QuotaUsage> quotaUsage(LimitScope scope,
                                              std::string_view tenant_id,
                                              std::string_view id,
                                              std::string_view period) override;

  // Entries currently stored (for tests and a gauge).
  std::size_t entryCount() const;

 protected:
  Result<void> finish(const ReservationTicket& ticket,
                      std::optional<std::uint64_t> actual_tokens) override;

 private:
  struct Shard;
  Shard& shardFor(std::size_t tenant_hash) const;

  const Clock& clock_;
  const InMemoryLimiterOptions options_;
  std::unique_ptr<Shard[]> shards_;  // options_.shards of them
};

}  // namespace livery::limits
