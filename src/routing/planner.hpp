#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "storage/model.hpp"

namespace livery::routing {

class CooldownTracker;

// Orders a route's deployments for one request: ascending priority; deployments of equal
// priority are load-balanced by weight (a weighted random order, so every request spreads the
// same way as the weights). Deployments in cool-down are left out; when every deployment is
// cooling down the plan is empty and `all_cooling_down` is set. Pure apart from the cooldown
// check; `seed` comes from the caller's random source.
struct Plan {
  std::vector<const storage::Deployment*> order;
  bool all_cooling_down = false;
};

Plan planRoute(const std::string& tenant_id,
               const storage::Route& route,
               CooldownTracker& cooldowns,
               std::uint64_t seed);

// What went wrong in one attempt, as the retry policy needs it (mapped from the provider
// adapter's classification or the upstream client's error).
struct AttemptFailure {
  bool retryable = false;          // 429, 5xx, timeout, connection failure
  bool fallback_eligible = false;  // another deployment may succeed (never a bad request)
  bool context_window_exceeded = false;
  bool credential_refused = false;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string reason;  // short, e.g. "429", "timeout", "connect"
};

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds retry_after_cap{10'000};
};

enum class NextStep { kNextDeployment, kRetrySame, kStop };

struct StepDecision {
  NextStep step = NextStep::kStop;
  std::chrono::milliseconds delay{0};
};

// After a failed attempt: fall back to the next deployment when there is one and the failure
// allows it (immediately: another provider does not share this one's rate limit); retry the last
// deployment with exponential backoff and full jitter, honouring Retry-After up to the cap, when
// it was the last one; stop on a request error, when attempts run out or the remaining time
// cannot cover the wait. A context-window failure moves only to a deployment with a larger
// configured window (the caller passes whether one remains).
StepDecision decideNext(const AttemptFailure& failure,
                        const RetryPolicy& policy,
                        int attempts_made,
                        bool more_deployments,
                        bool larger_context_remains,
                        std::chrono::milliseconds time_left,
                        std::uint64_t random);

}  // namespace livery::routing
