// The routing and fallback decision (issue 6: "the routing and fallback decision itself costs
// under 10 µs per attempt"): routing::planRoute over a CooldownTracker, and after a failed
// attempt CooldownTracker::recordFailure + routing::decideNext, after a successful one
// recordSuccess, which is exactly what pipeline/dispatch.cpp calls around each upstream attempt
// (the upstream I/O, the request translation and the log line are not part of the decision).
//
// The route is the mission's example for each of --tenants tenants (default 10,000):
//   priority 0  openai-gpt-4o        (openai, weight 1)
//   priority 1  anthropic-claude     (anthropic, weight 1)
//   priority 2  ollama-llama3        (ollama, weight 1)
// The tracker keeps state for every tenant, and time moves on (a FakeClock advanced by
// --step_us per request, default 10 µs: 100,000 requests/s spread over the tenants), so
// cooldowns expire, half-open probes run and fail again as they would in production.
//
//   BM_PlanRoute/cooling:N             planRoute alone; N of the 3 deployments cooling down
//   BM_AttemptFailed                   recordFailure(429, Retry-After 2 s) + decideNext
//   BM_AttemptSucceeded                recordSuccess
//   BM_FallbackChain/fail_pct:P        whole requests: plan, then attempts down the plan where
//                                      openai and anthropic fail with probability P% (429 and
//                                      timeout), ollama answers; time and counters per attempt
//
// Smoke run (ctest -L bench-smoke): --tenants=500 --benchmark_min_time=0.01.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_support.hpp"
#include "core/ids.hpp"
#include "routing/cooldown.hpp"
#include "routing/planner.hpp"
#include "storage/model.hpp"
#include "support/fake_clock.hpp"

namespace livery::bench {
namespace {

using routing::AttemptFailure;
using routing::NextStep;

struct RoutingWorld {
  explicit RoutingWorld(std::size_t tenant_count, std::chrono::nanoseconds step_per_request)
      : step(step_per_request),
        cooldowns(clock,
                  routing::CooldownPolicy{.failures_to_trip = 3,
                                          .cooldown = std::chrono::seconds(30),
                                          .max_entries = 100'000}) {
    IdGenerator ids;
    tenants.reserve(tenant_count);
    routes.reserve(tenant_count);
    for (std::size_t i = 0; i < tenant_count; ++i) {
      tenants.push_back(ids.next("tnt"));
      storage::Route r;
      r.tenant_id = tenants.back();
      r.model = "gpt-4o";
      r.deployments = {
          {.name = "openai-gpt-4o",
           .provider = "openai",
           .model = "gpt-4o",
           .credential_id = ids.next("cred"),
           .priority = 0,
           .max_context_tokens = 128'000},
          {.name = "anthropic-claude",
           .provider = "anthropic",
           .model = "claude-sonnet-4-20250514",
           .credential_id = ids.next("cred"),
           .priority = 1,
           .max_context_tokens = 200'000},
          {.name = "ollama-llama3",
           .provider = "ollama",
           .model = "llama3",
           .credential_id = ids.next("cred"),
           .priority = 2,
           .max_context_tokens = 8'000},
      };
      routes.push_back(std::move(r));
    }
  }

  // Trips the first `n` deployments of tenant `t` (3 consecutive failures each).
  void coolDown(std::size_t t, int n) {
    for (int d = 0; d < n; ++d) {
      for (int k = 0; k < 3; ++k) {
        cooldowns.recordFailure(tenants[t],
                                routes[t].deployments[static_cast<std::size_t>(d)].name);
      }
    }
  }

  std::chrono::nanoseconds step;
  testing::FakeClock clock;
  routing::CooldownTracker cooldowns;
  routing::RetryPolicy retry;  // the defaults: 4 attempts, 100 ms .. 5 s backoff, 10 s cap
  std::vector<std::string> tenants;
  std::vector<storage::Route> routes;
};

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

AttemptFailure rateLimited() {
  return {.retryable = true,
          .fallback_eligible = true,
          .retry_after = std::chrono::milliseconds(2000),
          .reason = "429"};
}

AttemptFailure timedOut() {
  return {.retryable = true, .fallback_eligible = true, .reason = "timeout"};
}

// planRoute for a fresh tenant set whose first `cooling` deployments are open.
void planRoute(benchmark::State& state, std::size_t tenant_count) {
  const int cooling = static_cast<int>(state.range(0));
  RoutingWorld w(tenant_count, std::chrono::nanoseconds(0));
  for (std::size_t t = 0; t < tenant_count; ++t) {
    w.coolDown(t, cooling);
  }
  std::uint64_t seed = 42;
  std::size_t t = 0;
  std::size_t planned = 0;
  for (auto _ : state) {
    auto plan = routing::planRoute(w.tenants[t], w.routes[t], w.cooldowns, splitmix(seed));
    planned += plan.order.size();
    benchmark::DoNotOptimize(plan);
    if (++t == tenant_count) {
      t = 0;
    }
  }
  if (state.iterations() > 0 && planned != static_cast<std::size_t>(state.iterations()) *
                                               static_cast<std::size_t>(3 - cooling)) {
    state.SkipWithError("the plan does not leave out exactly the cooling deployments");
  }
  state.SetItemsProcessed(state.iterations());
}

void attemptFailed(benchmark::State& state, std::size_t tenant_count) {
  RoutingWorld w(tenant_count, std::chrono::microseconds(10));
  const auto failure = rateLimited();
  std::uint64_t seed = 7;
  std::size_t t = 0;
  for (auto _ : state) {
    const auto& d = w.routes[t].deployments[0];
    w.cooldowns.recordFailure(w.tenants[t], d.name, *failure.retry_after);
    auto next = routing::decideNext(
        failure, w.retry, 1, true, false, std::chrono::seconds(50), splitmix(seed));
    benchmark::DoNotOptimize(next);
    w.clock.advance(w.step);
    if (++t == tenant_count) {
      t = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void attemptSucceeded(benchmark::State& state, std::size_t tenant_count) {
  RoutingWorld w(tenant_count, std::chrono::microseconds(10));
  std::size_t t = 0;
  for (auto _ : state) {
    w.cooldowns.recordSuccess(w.tenants[t], w.routes[t].deployments[2].name);
    if (++t == tenant_count) {
      t = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

struct ChainStats {
  std::uint64_t requests = 0;
  std::uint64_t attempts = 0;
  std::uint64_t fallbacks = 0;
  std::uint64_t retries = 0;
  std::uint64_t all_cooling = 0;
  std::uint64_t failed = 0;
};

// One request down the plan the way DispatchStage::runAttempts walks it. A retry of the same
// deployment (the last one failing) is decided but its backoff is not slept.
void oneRequest(
    RoutingWorld& w, std::size_t t, std::uint64_t fail_pct, std::uint64_t& rng, ChainStats& s) {
  ++s.requests;
  const std::string& tenant = w.tenants[t];
  auto plan = routing::planRoute(tenant, w.routes[t], w.cooldowns, splitmix(rng));
  if (plan.order.empty()) {
    ++s.all_cooling;
    return;
  }
  std::size_t index = 0;
  int attempts = 0;
  std::string fallback_reason;  // the usage record's and response header's reason, as dispatch
  for (;;) {
    const storage::Deployment& d = *plan.order[index];
    ++attempts;
    ++s.attempts;
    const bool last_resort = d.provider == "ollama";
    const bool fails = !last_resort && splitmix(rng) % 100 < fail_pct;
    if (!fails) {
      w.cooldowns.recordSuccess(tenant, d.name);
      benchmark::DoNotOptimize(fallback_reason);
      return;
    }
    const AttemptFailure failure = d.provider == "openai" ? rateLimited() : timedOut();
    if (!fallback_reason.empty()) {
      fallback_reason += "; ";
    }
    fallback_reason += d.name + "=" + failure.reason;
    w.cooldowns.recordFailure(
        tenant, d.name, failure.retry_after.value_or(std::chrono::milliseconds(0)));
    const bool more = index + 1 < plan.order.size();
    bool larger_context = false;
    for (std::size_t i = index + 1; i < plan.order.size(); ++i) {
      if (d.max_context_tokens != 0 && plan.order[i]->max_context_tokens > d.max_context_tokens) {
        larger_context = true;
      }
    }
    auto next = routing::decideNext(
        failure, w.retry, attempts, more, larger_context, std::chrono::seconds(50), splitmix(rng));
    if (next.step == NextStep::kStop) {
      ++s.failed;
      return;
    }
    if (next.step == NextStep::kNextDeployment) {
      ++s.fallbacks;
      ++index;
    } else {
      ++s.retries;
    }
  }
}

// `w` persists across the runs Google Benchmark makes to size the iteration count: time keeps
// moving on, so every run sees the steady state of the same simulated traffic.
void fallbackChain(benchmark::State& state, RoutingWorld& w, std::uint64_t fail_pct) {
  ChainStats s;
  std::uint64_t rng = 1234;
  std::size_t t = 0;
  for (auto _ : state) {
    oneRequest(w, t, fail_pct, rng, s);
    w.clock.advance(w.step);
    if (++t == w.tenants.size()) {
      t = 0;
    }
  }
  // The benchmark's iteration is one request; the per-attempt figure divides by attempts.
  const auto requests = static_cast<double>(s.requests);
  const auto attempts = static_cast<double>(s.attempts);
  state.counters["attempts_per_req"] = s.requests == 0 ? 0.0 : attempts / requests;
  state.counters["per_attempt"] =
      benchmark::Counter(attempts, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["fallback_pct"] =
      s.requests == 0 ? 0.0 : 100.0 * static_cast<double>(s.fallbacks) / requests;
  state.counters["all_cooling_pct"] =
      s.requests == 0 ? 0.0 : 100.0 * static_cast<double>(s.all_cooling) / requests;
  state.SetItemsProcessed(static_cast<std::int64_t>(s.attempts));
}

// Owns the worlds of the chain benchmarks (one per failure rate) for the process lifetime.
struct Worlds {
  std::vector<std::unique_ptr<RoutingWorld>> chains;
};

void registerBenchmarks(Worlds& worlds, std::size_t tenant_count, std::chrono::nanoseconds step) {
  benchmark::RegisterBenchmark(
      "BM_PlanRoute", [tenant_count](benchmark::State& st) { planRoute(st, tenant_count); })
      ->ArgName("cooling")
      ->DenseRange(0, 2);
  benchmark::RegisterBenchmark("BM_AttemptFailed", [tenant_count](benchmark::State& st) {
    attemptFailed(st, tenant_count);
  });
  benchmark::RegisterBenchmark("BM_AttemptSucceeded", [tenant_count](benchmark::State& st) {
    attemptSucceeded(st, tenant_count);
  });
  for (std::uint64_t pct : {0, 30, 100}) {
    worlds.chains.push_back(std::make_unique<RoutingWorld>(tenant_count, step));
    RoutingWorld* w = worlds.chains.back().get();
    const std::string name = "BM_FallbackChain/fail_pct:" + std::to_string(pct);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [w, pct](benchmark::State& st) { fallbackChain(st, *w, pct); });
  }
}

}  // namespace
}  // namespace livery::bench

int main(int argc, char** argv) {
  const auto tenants_flag = livery::bench::takeFlag(argc, argv, "tenants");
  const auto step_flag = livery::bench::takeFlag(argc, argv, "step_us");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  const std::size_t tenants = tenants_flag ? std::stoul(*tenants_flag) : 10'000;
  const auto step = std::chrono::microseconds(step_flag ? std::stol(*step_flag) : 10);
  livery::bench::Worlds worlds;
  livery::bench::registerBenchmarks(worlds, tenants, step);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
