#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"

namespace livery::routing {

struct CooldownPolicy {
  int failures_to_trip = 3;                    // consecutive failures
  std::chrono::milliseconds cooldown{30'000};  // skipped for this long
  std::size_t max_entries = 100'000;           // bounded memory
};

// Circuit breaker per (tenant, deployment): after `failures_to_trip` consecutive failures the
// deployment is skipped for `cooldown`; then one probe request is let through (half-open); a
// success closes the circuit, a failure trips it again. Per tenant on purpose: one tenant's
// broken key must not take another tenant's deployment of the same model out of rotation.
// A Retry-After longer than the cooldown extends it. Thread-safe (sharded mutexes).
class CooldownTracker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CooldownTracker(const Clock& clock, CooldownPolicy policy);

  // True when a request may use the deployment now. In half-open state only one caller gets
  // true until that probe reports back.
  bool admit(std::string_view tenant_id, std::string_view deployment);
  void recordSuccess(std::string_view tenant_id, std::string_view deployment);
  void recordFailure(std::string_view tenant_id,
                     std::string_view deployment,
                     std::chrono::milliseconds retry_after = std::chrono::milliseconds(0));
  State state(std::string_view tenant_id, std::string_view deployment) const;

 private:
  struct Entry {
    int consecutive_failures = 0;
    Clock::SteadyTime open_until{};
    bool open = false;
    bool probe_in_flight = false;
    Clock::SteadyTime probe_started{};
  };
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;  // guards map
    std::unordered_map<std::string, Entry> map;
  };
  static std::string keyOf(std::string_view tenant_id, std::string_view deployment);
  Shard& shardOf(const std::string& key) const;

  const Clock& clock_;
  CooldownPolicy policy_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace livery::routing
