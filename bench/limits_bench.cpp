// Admission cost of the limiters: the in-memory limiter with five limits (the embedded default's
// hot path), the spike detector, the key-touch coalescer, and the Redis limiter's round trip
// (LIVERY_TEST_REDIS_URL; the benchmark reports an error and is skipped when it is unset). The
// *ManyKeys / *ManyTenants variants spread the calls over 100 or 10,000 tenants × 10 keys in a
// shuffled order: at 10,000 tenants they measure each structure's cache misses.
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
#include "limits/key_touches.hpp"
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

// One request's admit() + settle(). A rejection ends the benchmark with an error: it would
// measure the rejection path instead.
bool admitAndSettle(benchmark::State& state,
                    livery::limits::InMemoryLimiter& limiter,
                    const AdmissionRequest& r) {
  Decision d = limiter.admit(r);
  if (!d.admitted()) {
    state.SkipWithError("a limit rejected: the benchmark would measure rejections");
    return false;
  }
  benchmark::DoNotOptimize(d.reservation.settle(8));
  return true;
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
    if (!admitAndSettle(state, *limiter, r)) {
      break;
    }
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
    if (!admitAndSettle(state, limiter, r)) {
      break;
    }
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

// The same per-request calls spread over range(0) tenants × 10 keys, visited in a shuffled order
// (what a busy multi-tenant gateway does): the working set no longer fits in cache, so these
// measure the memory stalls of each structure, not its instructions.
struct ManyKeys {
  std::vector<std::string> tenants;
  std::vector<std::pair<std::size_t, std::string>> keys;  // (tenant index, key id)
  explicit ManyKeys(std::size_t tenant_count) {
    for (std::size_t t = 0; t < tenant_count; ++t) {
      tenants.push_back("tnt_" + std::to_string(1'000'000'000 + t) + "abcdefghijklmnop");
      for (int k = 0; k < 10; ++k) {
        keys.emplace_back(t,
                          "key_" + std::to_string(1'000'000'000 + t * 10 + k) + "qrstuvwxyzabcdef");
      }
    }
    std::uint64_t s = 7;
    for (std::size_t i = keys.size(); i > 1; --i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      std::swap(keys[i - 1], keys[static_cast<std::size_t>(s >> 33) % i]);
    }
  }
};

void BM_InMemoryAdmitAndSettleManyKeys(benchmark::State& state) {
  const ManyKeys world(static_cast<std::size_t>(state.range(0)));
  livery::SystemClock clock;
  livery::limits::InMemoryLimiter limiter(clock);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [t, key] = world.keys[i];
    i = i + 1 == world.keys.size() ? 0 : i + 1;
    AdmissionRequest r = fiveLimits(world.tenants[t]);
    r.api_key_id = key;
    if (!admitAndSettle(state, limiter, r)) {
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InMemoryAdmitAndSettleManyKeys)->ArgName("tenants")->Arg(100)->Arg(10'000);

void BM_SpikeDetectorRecordManyTenants(benchmark::State& state) {
  const ManyKeys world(static_cast<std::size_t>(state.range(0)));
  livery::SystemClock clock;
  livery::limits::SpikeDetector detector(clock, {});
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t t = world.keys[i].first;
    i = i + 1 == world.keys.size() ? 0 : i + 1;
    benchmark::DoNotOptimize(detector.record(world.tenants[t], 1, 1200));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpikeDetectorRecordManyTenants)->ArgName("tenants")->Arg(100)->Arg(10'000);

// The last-used touch of app::ControlEvents::apiKeyUsed (drained every 200,000 touches here,
// about every 2 s at the gateway's rate, as the flusher does).
void BM_KeyTouchesManyKeys(benchmark::State& state) {
  const ManyKeys world(static_cast<std::size_t>(state.range(0)));
  livery::limits::KeyTouches touches(100'000);
  std::size_t i = 0;
  std::int64_t n = 0;
  for (auto _ : state) {
    const auto& [t, key] = world.keys[i];
    i = i + 1 == world.keys.size() ? 0 : i + 1;
    benchmark::DoNotOptimize(touches.touch(world.tenants[t], key, ++n));
    if (n % 200'000 == 0) {
      state.PauseTiming();
      benchmark::DoNotOptimize(touches.drain());
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyTouchesManyKeys)->ArgName("tenants")->Arg(100)->Arg(10'000);

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
