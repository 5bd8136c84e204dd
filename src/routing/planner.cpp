#include "routing/planner.hpp"

#include <algorithm>
#include <map>

#include "routing/cooldown.hpp"

namespace livery::routing {

namespace {

// splitmix64: a small, well-distributed step for the weighted shuffle.
std::uint64_t nextRandom(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Plan planRoute(const std::string& tenant_id,
               const storage::Route& route,
               CooldownTracker& cooldowns,
               std::uint64_t seed) {
  std::map<std::int32_t, std::vector<const storage::Deployment*>> by_priority;
  for (const auto& d : route.deployments) {
    by_priority[d.priority].push_back(&d);
  }
  Plan plan;
  std::uint64_t state = seed;
  for (auto& [priority, group] : by_priority) {
    // Weighted random order without replacement (Efraimidis-Spirakis with integer weights):
    // repeatedly pick one with probability weight / remaining weight.
    while (!group.empty()) {
      std::uint64_t total = 0;
      for (const auto* d : group) {
        total += static_cast<std::uint64_t>(std::max(1, d->weight));
      }
      std::uint64_t pick = nextRandom(state) % total;
      std::size_t chosen = 0;
      for (std::size_t i = 0; i < group.size(); ++i) {
        auto w = static_cast<std::uint64_t>(std::max(1, group[i]->weight));
        if (pick < w) {
          chosen = i;
          break;
        }
        pick -= w;
      }
      const auto* d = group[chosen];
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
      if (cooldowns.admit(tenant_id, d->name)) {
        plan.order.push_back(d);
      }
    }
  }
  plan.all_cooling_down = plan.order.empty() && !route.deployments.empty();
  return plan;
}

StepDecision decideNext(const AttemptFailure& failure,
                        const RetryPolicy& policy,
                        int attempts_made,
                        bool more_deployments,
                        bool larger_context_remains,
                        std::chrono::milliseconds time_left,
                        std::uint64_t random) {
  if (attempts_made >= policy.max_attempts) {
    return {NextStep::kStop, {}};
  }
  if (failure.context_window_exceeded) {
    return {larger_context_remains ? NextStep::kNextDeployment : NextStep::kStop, {}};
  }
  if (!failure.fallback_eligible && !failure.retryable) {
    return {NextStep::kStop, {}};  // the request itself is at fault: no fallback (issue 6)
  }
  if (more_deployments && (failure.fallback_eligible || failure.credential_refused)) {
    return {NextStep::kNextDeployment, {}};
  }
  if (!failure.retryable || failure.credential_refused) {
    return {NextStep::kStop, {}};
  }
  // Retry the last deployment: exponential backoff with full jitter, at least Retry-After.
  auto exp = policy.backoff_base * (1LL << std::min(attempts_made - 1, 16));
  auto ceiling = std::min<std::chrono::milliseconds>(exp, policy.backoff_max);
  auto jitter = std::chrono::milliseconds(
      ceiling.count() > 0
          ? static_cast<std::int64_t>(random % static_cast<std::uint64_t>(ceiling.count() + 1))
          : 0);
  auto delay = jitter;
  if (failure.retry_after) {
    if (*failure.retry_after > policy.retry_after_cap) {
      return {NextStep::kStop, {}};  // the provider asks for longer than we may wait
    }
    delay = std::max(delay, *failure.retry_after);
  }
  if (delay >= time_left) {
    return {NextStep::kStop, {}};
  }
  return {NextStep::kRetrySame, delay};
}

}  // namespace livery::routing
