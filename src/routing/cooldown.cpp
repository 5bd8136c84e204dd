#include "routing/cooldown.hpp"

#include <functional>

namespace livery::routing {

CooldownTracker::CooldownTracker(const Clock& clock, CooldownPolicy policy)
    : clock_(clock), policy_(policy) {}

std::string CooldownTracker::keyOf(std::string_view tenant_id, std::string_view deployment) {
  std::string k;
  k.reserve(tenant_id.size() + deployment.size() + 1);
  k.append(tenant_id).push_back('\x1f');
  k.append(deployment);
  return k;
}

CooldownTracker::Shard& CooldownTracker::shardOf(const std::string& key) const {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

bool CooldownTracker::admit(std::string_view tenant_id, std::string_view deployment) {
  auto key = keyOf(tenant_id, deployment);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end() || !it->second.open) {
    return true;
  }
  auto& e = it->second;
  auto now = clock_.now();
  if (now < e.open_until) {
    return false;
  }
  // Half-open: one probe at a time; a probe that never reported back (its request was
  // abandoned) frees the slot after one more cooldown period.
  if (e.probe_in_flight && now - e.probe_started < policy_.cooldown) {
    return false;
  }
  e.probe_in_flight = true;
  e.probe_started = now;
  return true;
}

void CooldownTracker::recordSuccess(std::string_view tenant_id, std::string_view deployment) {
  auto key = keyOf(tenant_id, deployment);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mu);
  shard.map.erase(key);  // closed and forgotten: the common case costs no memory
}

void CooldownTracker::recordFailure(std::string_view tenant_id,
                                    std::string_view deployment,
                                    std::chrono::milliseconds retry_after) {
  auto key = keyOf(tenant_id, deployment);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mu);
  if (shard.map.size() >= policy_.max_entries / kShards && shard.map.find(key) == shard.map.end()) {
    // Bounded memory: drop closed entries (they only count failures) to make room.
    std::erase_if(shard.map, [](const auto& kv) { return !kv.second.open; });
    if (shard.map.size() >= policy_.max_entries / kShards) {
      return;
    }
  }
  auto& e = shard.map[key];
  auto now = clock_.now();
  ++e.consecutive_failures;
  bool was_probe = e.open && e.probe_in_flight;
  if (was_probe || e.consecutive_failures >= policy_.failures_to_trip) {
    e.open = true;
    e.probe_in_flight = false;
    auto hold = std::max(policy_.cooldown, retry_after);
    e.open_until = now + hold;
  }
}

CooldownTracker::State CooldownTracker::state(std::string_view tenant_id,
                                              std::string_view deployment) const {
  auto key = keyOf(tenant_id, deployment);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end() || !it->second.open) {
    return State::kClosed;
  }
  return clock_.now() < it->second.open_until ? State::kOpen : State::kHalfOpen;
}

}  // namespace livery::routing
