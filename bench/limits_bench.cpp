// Admission cost of the limiters: the in-memory limiter with five limits (the embedded default's
// hot path), the spike detector, and the Redis limiter's round trip (LIVERY_TEST_REDIS_URL; the
// benchmark reports an error and is skipped when it is unset).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "limits/in_memory_limiter.hpp"
#include "limits/redis/redis_limiter.hpp"
#include "limits/spike_detector.hpp"

namespace {

using livery::limits::AdmissionRequest;
using livery::limits::Decision;

// Realistic ids: 30-character tenant and key ids (no small-string optimisation).
const std::string kTenant = "tnt_2f9cabcdefghijklmnopqrstuv";
const std::string kKey = "key_7d1cabcdefghijklmnopqrstuv";

// Five limits: tenant rpm + tpm + monthly quota, key rpm + tpm; never exhausted.
AdmissionRequest fiveLimits(const std::string& tenant) {
  AdmissionRequest r;
  r.tenant_id = tenant;
  r.api_key_id = kKey;
  r.tenant = {.rpm = 4'000'000'000U, .tpm = 4'000'000'000U};
  r.api_key = {.rpm = 4'000'000'000U, .tpm = 4'000'000'000U};
  r.tenant_monthly_quota = 1ULL << 62;
  r.estimated_tokens = 10;  // small enough that 4e9 tpm never rejects at millions per second
  return r;
}

// admit() + settle(): the whole per-request cost of the limits on the embedded default.
void BM_InMemoryAdmitAndSettleFiveLimits(benchmark::State& state) {
  static livery::SystemClock clock;  // NOLINT: shared by the benchmark threads
  static livery::limits::InMemoryLimiter* limiter = nullptr;  // NOLINT
  if (state.thread_index() == 0) {
    limiter = new livery::limits::InMemoryLimiter(clock);
  }
  // Threads use distinct tenants when range(0) is 1, one shared tenant otherwise.
  const std::string tenant =
      state.range(0) == 1 ? kTenant + std::to_string(state.thread_index()) : kTenant;
  const AdmissionRequest r = fiveLimits(tenant);
  for (auto _ : state) {
    Decision d = limiter->admit(r);
    if (!d.admitted()) {
      state.SkipWithError("a limit rejected: the benchmark would measure rejections");
      break;
    }
    benchmark::DoNotOptimize(d.reservation.settle(8));
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete limiter;
    limiter = nullptr;
  }
}
BENCHMARK(BM_InMemoryAdmitAndSettleFiveLimits)->Arg(0)->Threads(1);
BENCHMARK(BM_InMemoryAdmitAndSettleFiveLimits)->Arg(0)->Threads(2);
BENCHMARK(BM_InMemoryAdmitAndSettleFiveLimits)->Arg(1)->Threads(2);

// Four rate limits and no quota: what a request without a plan quota pays.
void BM_InMemoryAdmitAndSettleRateLimitsOnly(benchmark::State& state) {
  livery::SystemClock clock;
  livery::limits::InMemoryLimiter limiter(clock);
  AdmissionRequest r = fiveLimits(kTenant);
  r.tenant_monthly_quota = 0;
  for (auto _ : state) {
    Decision d = limiter.admit(r);
    if (!d.admitted()) {
      state.SkipWithError("a limit rejected: the benchmark would measure rejections");
      break;
    }
    benchmark::DoNotOptimize(d.reservation.settle(8));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InMemoryAdmitAndSettleRateLimitsOnly);

void BM_SpikeDetectorRecord(benchmark::State& state) {
  livery::SystemClock clock;
  livery::limits::SpikeDetector detector(clock, {});
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.record(kTenant, 1, 1200));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpikeDetectorRecord);

// Redis admission latency per request (one EVALSHA round trip; with a quota, the settle is a
// second one). Reports the median and p99 in microseconds.
void redisAdmission(benchmark::State& state, bool with_quota) {
  const char* url = std::getenv("LIVERY_TEST_REDIS_URL");  // NOLINT(concurrency-mt-unsafe)
  if (url == nullptr || *url == '\0') {
    state.SkipWithError("set LIVERY_TEST_REDIS_URL (tools/with_services.sh) to run");
    for (auto _ : state) {
    }
    return;
  }
  auto endpoint = livery::limits::parseRedisUrl(url);
  if (!endpoint) {
    state.SkipWithError("LIVERY_TEST_REDIS_URL is not a redis:// URL");
    for (auto _ : state) {
    }
    return;
  }
  livery::SystemClock clock;
  livery::Logger logger(std::make_shared<livery::MemoryLogSink>(), livery::LogLevel::kWarn, clock);
  livery::MetricsRegistry metrics;
  livery::limits::RedisLimiter limiter(std::move(*endpoint), {}, clock, logger, metrics);
  // AdmissionRequest borrows its strings: the tenant id must outlive it.
  const std::string tenant = kTenant + (with_quota ? "q" : "r");
  AdmissionRequest r = fiveLimits(tenant);
  if (!with_quota) {
    r.tenant_monthly_quota = 0;
  }
  std::vector<double> admit_us;
  std::vector<double> total_us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Decision d = limiter.admit(r);
    const auto t1 = std::chrono::steady_clock::now();
    if (!d.admitted() || d.degraded) {
      state.SkipWithError("Redis admission failed or degraded");
      break;
    }
    benchmark::DoNotOptimize(d.reservation.settle(8));
    const auto t2 = std::chrono::steady_clock::now();
    admit_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    total_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
  }
  const auto pct = [](std::vector<double>& v, double p) {
    if (v.empty()) {
      return 0.0;
    }
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
  };
  state.counters["admit_p50_us"] = pct(admit_us, 0.5);
  state.counters["admit_p99_us"] = pct(admit_us, 0.99);
  state.counters["admit_settle_p50_us"] = pct(total_us, 0.5);
  state.counters["admit_settle_p99_us"] = pct(total_us, 0.99);
  state.SetItemsProcessed(state.iterations());
}
void BM_RedisAdmitFourRateLimits(benchmark::State& state) {
  redisAdmission(state, false);
}
void BM_RedisAdmitAndSettleFiveLimits(benchmark::State& state) {
  redisAdmission(state, true);
}
BENCHMARK(BM_RedisAdmitFourRateLimits)->UseRealTime();
BENCHMARK(BM_RedisAdmitAndSettleFiveLimits)->UseRealTime();

}  // namespace
