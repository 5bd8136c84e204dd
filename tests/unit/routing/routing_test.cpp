#include <map>

#include <gtest/gtest.h>

#include "routing/cooldown.hpp"
#include "routing/planner.hpp"
#include "support/fake_clock.hpp"

namespace livery::routing {
namespace {

using namespace std::chrono_literals;

storage::Deployment dep(std::string name, int priority, int weight = 1) {
  storage::Deployment d;
  d.name = std::move(name);
  d.priority = priority;
  d.weight = weight;
  return d;
}

TEST(CooldownTrackerTest, TripsAfterConsecutiveFailuresThenProbesHalfOpen) {
  testing::FakeClock clock;
  CooldownTracker t(clock, {.failures_to_trip = 3, .cooldown = 30s});
  EXPECT_TRUE(t.admit("tnt", "d1"));
  t.recordFailure("tnt", "d1");
  t.recordFailure("tnt", "d1");
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kClosed);
  t.recordFailure("tnt", "d1");
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kOpen);
  EXPECT_FALSE(t.admit("tnt", "d1"));
  EXPECT_TRUE(t.admit("other-tenant", "d1"));  // per tenant
  clock.advance(31s);
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kHalfOpen);
  EXPECT_TRUE(t.admit("tnt", "d1"));   // the probe
  EXPECT_FALSE(t.admit("tnt", "d1"));  // only one probe at a time
  t.recordSuccess("tnt", "d1");
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kClosed);
  EXPECT_TRUE(t.admit("tnt", "d1"));
}

TEST(CooldownTrackerTest, AFailedProbeReopensAndRetryAfterExtendsTheCooldown) {
  testing::FakeClock clock;
  CooldownTracker t(clock, {.failures_to_trip = 1, .cooldown = 10s});
  t.recordFailure("tnt", "d1", 60s);
  clock.advance(11s);
  EXPECT_FALSE(t.admit("tnt", "d1"));  // Retry-After: 60 outlasts the 10 s cooldown
  clock.advance(50s);
  EXPECT_TRUE(t.admit("tnt", "d1"));
  t.recordFailure("tnt", "d1");
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kOpen);
}

TEST(CooldownTrackerTest, SuccessResetsTheFailureCount) {
  testing::FakeClock clock;
  CooldownTracker t(clock, {.failures_to_trip = 2, .cooldown = 10s});
  t.recordFailure("tnt", "d1");
  t.recordSuccess("tnt", "d1");
  t.recordFailure("tnt", "d1");
  EXPECT_EQ(t.state("tnt", "d1"), CooldownTracker::State::kClosed);
}

TEST(PlannerTest, OrdersByPriorityAndSkipsCooledDownDeployments) {
  testing::FakeClock clock;
  CooldownTracker cd(clock, {.failures_to_trip = 1, .cooldown = 10s});
  storage::Route r;
  r.deployments = {dep("c", 2), dep("a", 0), dep("b", 1)};
  auto plan = planRoute("tnt", r, cd, 42);
  ASSERT_EQ(plan.order.size(), 3u);
  EXPECT_EQ(plan.order[0]->name, "a");
  EXPECT_EQ(plan.order[1]->name, "b");
  EXPECT_EQ(plan.order[2]->name, "c");
  cd.recordFailure("tnt", "a");
  plan = planRoute("tnt", r, cd, 42);
  ASSERT_EQ(plan.order.size(), 2u);
  EXPECT_EQ(plan.order[0]->name, "b");
  cd.recordFailure("tnt", "b");
  cd.recordFailure("tnt", "c");
  plan = planRoute("tnt", r, cd, 42);
  EXPECT_TRUE(plan.order.empty());
  EXPECT_TRUE(plan.all_cooling_down);
}

TEST(PlannerTest, BalancesEqualPrioritiesByWeight) {
  testing::FakeClock clock;
  CooldownTracker cd(clock, {});
  storage::Route r;
  r.deployments = {dep("heavy", 0, 3), dep("light", 0, 1)};
  std::map<std::string, int> first;
  for (std::uint64_t seed = 1; seed <= 8000; ++seed) {
    auto plan = planRoute("tnt", r, cd, seed * 0x9e3779b97f4a7c15ULL);
    ASSERT_EQ(plan.order.size(), 2u);
    ++first[plan.order[0]->name];
  }
  double share = first["heavy"] / 8000.0;
  EXPECT_NEAR(share, 0.75, 0.03);
}

TEST(DecideNextTest, NeverFallsBackOnABadRequest) {
  AttemptFailure bad{.retryable = false, .fallback_eligible = false, .reason = "400"};
  EXPECT_EQ(decideNext(bad, {}, 1, true, false, 10s, 7).step, NextStep::kStop);
}

TEST(DecideNextTest, FallsBackImmediatelyWhenAnotherDeploymentRemains) {
  AttemptFailure rl{.retryable = true, .fallback_eligible = true, .retry_after = 2s};
  auto d = decideNext(rl, {}, 1, true, false, 10s, 7);
  EXPECT_EQ(d.step, NextStep::kNextDeployment);
  EXPECT_EQ(d.delay, 0ms);
}

TEST(DecideNextTest, RetriesTheLastDeploymentHonouringRetryAfterUpToTheCap) {
  RetryPolicy p{.max_attempts = 4, .backoff_base = 100ms, .backoff_max = 1s, .retry_after_cap = 5s};
  AttemptFailure rl{.retryable = true, .fallback_eligible = true, .retry_after = 2s};
  auto d = decideNext(rl, p, 1, false, false, 10s, 7);
  EXPECT_EQ(d.step, NextStep::kRetrySame);
  EXPECT_GE(d.delay, 2s);
  rl.retry_after = 30s;  // beyond the cap: give up and let the client see the 429
  EXPECT_EQ(decideNext(rl, p, 1, false, false, 60s, 7).step, NextStep::kStop);
  rl.retry_after = 2s;  // not enough time left in the request's deadline
  EXPECT_EQ(decideNext(rl, p, 1, false, false, 1s, 7).step, NextStep::kStop);
  EXPECT_EQ(decideNext(rl, p, 4, false, false, 60s, 7).step, NextStep::kStop);  // attempts spent
}

TEST(DecideNextTest, BackoffGrowsExponentiallyWithJitterBelowTheCeiling) {
  RetryPolicy p{.max_attempts = 10, .backoff_base = 100ms, .backoff_max = 1s};
  AttemptFailure err{.retryable = true, .fallback_eligible = true};
  for (std::uint64_t r = 0; r < 200; ++r) {
    auto d1 = decideNext(err, p, 1, false, false, 60s, r);
    auto d3 = decideNext(err, p, 3, false, false, 60s, r);
    auto d9 = decideNext(err, p, 9, false, false, 60s, r);
    EXPECT_LE(d1.delay, 100ms);
    EXPECT_LE(d3.delay, 400ms);
    EXPECT_LE(d9.delay, 1s);
  }
}

TEST(DecideNextTest, ContextWindowFailuresMoveOnlyToALargerWindow) {
  AttemptFailure ctx{
      .retryable = false, .fallback_eligible = false, .context_window_exceeded = true};
  EXPECT_EQ(decideNext(ctx, {}, 1, true, true, 10s, 1).step, NextStep::kNextDeployment);
  EXPECT_EQ(decideNext(ctx, {}, 1, true, false, 10s, 1).step, NextStep::kStop);
}

TEST(DecideNextTest, RefusedCredentialFallsBackButIsNotRetried) {
  AttemptFailure auth{.retryable = false, .fallback_eligible = true, .credential_refused = true};
  EXPECT_EQ(decideNext(auth, {}, 1, true, false, 10s, 1).step, NextStep::kNextDeployment);
  EXPECT_EQ(decideNext(auth, {}, 1, false, false, 10s, 1).step, NextStep::kStop);
}

}  // namespace
}  // namespace livery::routing
