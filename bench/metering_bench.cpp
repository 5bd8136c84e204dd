// Metering plus limit checks per request, and the ledger's sustained throughput (issue 7:
// "metering plus limit checks add at most 5 µs of CPU per request; the ledger sustains 20,000
// records/s on SQLite").
//
// Per request, on the I/O thread, the gateway runs (pipeline/enforce_limits.cpp, meter.cpp):
//   EnforceLimitsStage::onRequest   one InMemoryLimiter::admit over the plan's limits (tenant
//                                   rpm + tpm + monthly quota, key rpm + tpm), reserving
//                                   prompt estimate + max_tokens
//   MeterStage::commit              the usage record (MeterStage::recordOf, cost estimate from
//                                   the built-in PriceTable) handed to Ledger::commit, awaited
//                                   until the SQLite group commit made it durable
//   MeterStage::onComplete          Reservation::settle with the actual tokens, SpikeDetector,
//                                   the key's last-used touch (limits::KeyTouches, the coalescer
//                                   app::ControlEvents uses; ControlEvents itself needs the whole
//                                   control plane, so the benchmark drains the touches with its
//                                   own flusher thread every 2 s, as ControlEvents' worker does)
// The benchmarks run exactly these calls on --tenants tenants (default 10,000) with 10 keys each,
// --inflight concurrent requests (default 128) on one io_context on the benchmark thread, and
// report the benchmark thread's CPU time (Google Benchmark's CPU column) per request:
//
//   BM_MeteringSuccessPath/sync:{full,normal}  the three calls above (durable commit awaited)
//   BM_MeteringErrorPath/sync:{full,normal}    admit + onComplete with Ledger::submit (an upstream
//                                              error: record queued, reservation refunded)
//   BM_RequestSetupBaseline                    what the loops pay besides metering and limits
//                                              (Exchange, RequestContext, principal and chat
//                                              fields, request id): subtract it for the net cost
//   BM_LedgerThroughput/sync:{full,normal}     records/s made durable by the Ledger's writer over
//                                              SQLite (producer: Ledger::submit, bounded queue)
//
// Counters: cpu_per_req (this thread; sys_per_req: its kernel part), other_cpu_per_req (every other
// thread of the process, mostly the ledger writer in SQLite), req_per_s (wall clock, one I/O
// thread), batch_avg. Smoke run (ctest -L bench-smoke): --tenants=200 --benchmark_min_time=0.01.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/thread_pool.hpp>
#include <stdlib.h>  // mkdtemp
#include <sys/resource.h>

#include "bench_support.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "limits/in_memory_limiter.hpp"
#include "limits/key_touches.hpp"
#include "limits/spike_detector.hpp"
#include "metering/ledger.hpp"
#include "metering/price_table.hpp"
#include "pipeline/enforce_limits.hpp"
#include "pipeline/meter.hpp"
#include "pipeline/ports.hpp"
#include "scratch_dir.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/usage_store.hpp"

namespace livery::bench {
namespace {

// The usage table as the ledger's sink (what app/gateway.cpp's StoreLedgerSink does).
class UsageSink final : public metering::LedgerSink {
 public:
  explicit UsageSink(storage::UsageStore& usage) : usage_(usage) {}
  Result<void> writeBatch(std::span<const storage::UsageRecord> records) override {
    auto r = usage_.insertBatch(records);
    if (!r) {
      return r.error();
    }
    return {};
  }

 private:
  storage::UsageStore& usage_;
};

// app::ControlEvents as the request thread sees it: apiKeyUsed() is a limits::KeyTouches::touch
// (the very class ControlEvents uses), drained by a flusher thread every 2 s as ControlEvents'
// worker does (kFlushInterval); the drained touches are only counted here, not written to a key
// store. Spikes and credential events are counted only (none happen in this benchmark).
class TouchEvents final : public pipeline::ControlPlaneEvents {
 public:
  explicit TouchEvents(const Clock& clock) : clock_(clock), flusher_([this] { flushLoop(); }) {}
  ~TouchEvents() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    flusher_.join();
  }
  TouchEvents(const TouchEvents&) = delete;
  TouchEvents& operator=(const TouchEvents&) = delete;

  void credentialRefused(const std::string&, const std::string&, int) override {}
  void credentialWorked(const std::string&, const std::string&) override {}
  void apiKeyUsed(const std::string& tenant_id, const std::string& key_id) override {
    (void)touches_.touch(tenant_id, key_id, clock_.unixMillis());
  }
  void usageSpike(const std::string&, std::string_view, std::uint64_t, std::uint64_t) override {
    spikes_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  static constexpr auto kFlushInterval = std::chrono::seconds(2);  // as app/control_events.cpp
  void flushLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, kFlushInterval, [&] { return stopping_; });
      lock.unlock();
      drained_ += touches_.drain().size();
      lock.lock();
    }
  }

  const Clock& clock_;
  limits::KeyTouches touches_{100'000};  // ControlEvents' kMaxPending
  std::atomic<std::uint64_t> spikes_{0};
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t drained_ = 0;  // flusher thread only
  std::thread flusher_;        // last: starts once the members above exist
};

// A "pro" plan generous enough that the benchmark's traffic (hundreds of thousands of requests
// per second over the tenants) is never rejected: every limit is checked, none refuses.
constexpr tenancy::EffectiveLimits kPlan{
    .monthly_token_quota = 100'000'000'000ULL, .rpm = 10'000'000, .tpm = 4'000'000'000U};
constexpr std::uint32_t kKeyRpm = 10'000'000;
constexpr std::uint32_t kKeyTpm = 4'000'000'000U;
constexpr std::uint32_t kDefaultCompletionReserve =
    1024;  // config limits.default_completion_reserve

struct Actor {
  tenancy::TenantStatePtr tenant;
  pipeline::Principal principal;
  std::string end_user;
};

class MeteringWorld {
 public:
  MeteringWorld(std::size_t tenant_count, storage::SqliteSync sync)
      : log_(std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock_),
        db_(check(
            storage::SqliteDatabase::open(
                storage::SqliteOptions{.path = dir_.file("usage.db"), .synchronous = sync}, clock_),
            "sqlite")),
        usage_(*db_, clock_),
        sink_(usage_),
        ledger_(sink_, metering::LedgerOptions{}, log_, metrics_),
        limiter_(clock_),
        spikes_(clock_, limits::SpikeDetectorOptions{}),
        prices_(metering::PriceTable::builtin()),
        events_(clock_),
        enforce_(limiter_, blocking_, kDefaultCompletionReserve, metrics_),
        meter_(ledger_, prices_, spikes_, events_, blocking_, false, clock_, log_) {
    IdGenerator ids;
    for (std::size_t t = 0; t < tenant_count; ++t) {
      auto st = std::make_shared<tenancy::TenantState>();
      st->tenant.id = ids.next("tnt");
      st->tenant.slug = "tenant" + std::to_string(t);
      st->tenant.plan_id = "pro";
      st->limits = kPlan;
      tenancy::TenantStatePtr tenant = std::move(st);
      for (int k = 0; k < 10; ++k) {
        Actor a;
        a.tenant = tenant;
        a.principal.tenant_id = tenant->tenant.id;
        a.principal.api_key_id = ids.next("key");
        tenancy::KeyEntry e;
        e.id = a.principal.api_key_id;
        e.tenant_id = tenant->tenant.id;
        e.rpm = kKeyRpm;
        e.tpm = kKeyTpm;
        a.principal.key = std::move(e);
        a.end_user = k % 3 == 0 ? std::string() : "user-" + std::to_string(t * 10 + k);
        actors_.push_back(std::move(a));
      }
    }
    // Keys in a shuffled order, so consecutive requests hit different tenants' shards.
    std::uint64_t s = 99;
    for (std::size_t i = actors_.size(); i > 1; --i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      std::swap(actors_[i - 1], actors_[static_cast<std::size_t>(s >> 33) % i]);
    }
    ledger_.onCommitted([this](std::span<const storage::UsageRecord> records) {
      {
        std::lock_guard lock(committed_mu_);
        committed_ += records.size();
        ++batches_;
      }
      committed_cv_.notify_all();
    });
    ledger_.start();
  }
  ~MeteringWorld() {
    ledger_.stop();
    blocking_.join();
  }
  MeteringWorld(const MeteringWorld&) = delete;
  MeteringWorld& operator=(const MeteringWorld&) = delete;

  const Clock& clock() const { return clock_; }
  metering::Ledger& ledger() { return ledger_; }
  pipeline::EnforceLimitsStage& enforce() { return enforce_; }
  pipeline::MeterStage& meter() { return meter_; }
  const std::vector<Actor>& actors() const { return actors_; }

  std::uint64_t committed() const {
    std::lock_guard lock(committed_mu_);
    return committed_;
  }
  std::uint64_t batches() const {
    std::lock_guard lock(committed_mu_);
    return batches_;
  }
  void waitCommitted(std::uint64_t n) {
    std::unique_lock lock(committed_mu_);
    committed_cv_.wait(lock, [&] { return committed_ >= n; });
  }

 private:
  ScratchDir dir_;
  SystemClock clock_;
  Logger log_;
  MetricsRegistry metrics_;
  std::unique_ptr<storage::SqliteDatabase> db_;
  storage::UsageStore usage_;
  UsageSink sink_;
  metering::Ledger ledger_;
  limits::InMemoryLimiter limiter_;
  limits::SpikeDetector spikes_;
  metering::PriceTable prices_;
  TouchEvents events_;
  net::thread_pool blocking_{1};  // unused: the in-memory limiter does not block
  pipeline::EnforceLimitsStage enforce_;
  pipeline::MeterStage meter_;
  std::vector<Actor> actors_;

  mutable std::mutex committed_mu_;  // guards committed_, batches_
  std::condition_variable committed_cv_;
  std::uint64_t committed_ = 0;
  std::uint64_t batches_ = 0;
};

// The calling thread's system (kernel) CPU time: wake-ups of other threads (futex) and of this
// one show up here, separately from the user-space work of metering.
std::int64_t threadSysNanos() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<std::int64_t>(ru.ru_stime.tv_sec) * 1'000'000'000 +
         static_cast<std::int64_t>(ru.ru_stime.tv_usec) * 1'000;
}

std::int64_t processCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

enum class Path { kBaseline, kSuccess, kError };

// What the parser and authentication leave in the context before enforce_limits runs.
void prepare(pipeline::RequestContext& ctx, const Actor& a, const Clock& clock) {
  ctx.started = clock.now();
  ctx.started_unix_ms = clock.unixMillis();
  ctx.principal = a.principal;
  ctx.tenant = a.tenant;
  ctx.model = "gpt-4o";
  ctx.end_user = a.end_user;
  ctx.chat.model = "gpt-4o";
  ctx.chat.max_tokens = 512;
  ctx.chat.prompt_tokens_estimate = 420;
}

// What dispatch leaves in the outcome after a successful or failed upstream call.
void answered(pipeline::RequestContext& ctx, bool ok) {
  auto& o = ctx.outcome;
  o.upstream_called = true;
  o.attempts = 1;
  o.deployment = "openai-gpt-4o";
  o.provider = "openai";
  o.upstream_model = "gpt-4o";
  if (ok) {
    o.status = 200;
    o.usage.prompt_tokens = 412;
    o.usage.completion_tokens = 187;
    o.usage.cached_tokens = 128;
    o.streamed = true;
    o.first_token_at = ctx.started + std::chrono::milliseconds(180);
  } else {
    o.status = 502;
    o.result = "error";
    o.fallback_reason = "openai-gpt-4o=502";
  }
}

struct Shared {
  MeteringWorld& world;
  Path path;
  std::size_t remaining = 0;  // requests still to start in this wave
  std::size_t next_actor = 0;
  IdGenerator ids;
  std::uint64_t failures = 0;
};

// One client: runs requests until the wave is used up. All clients share one thread. `s`
// outlives every client (meteringLoop runs the io_context to completion before it returns).
net::awaitable<void> client(Shared& s) {
  NullStreamWriter writer;
  http::Request request;
  while (s.remaining > 0) {
    --s.remaining;
    const Actor& a = s.world.actors()[s.next_actor];
    if (++s.next_actor == s.world.actors().size()) {
      s.next_actor = 0;
    }
    http::Exchange ex{request, writer, {}, {}, {}, 0, {}, {}, {}, 0};
    ex.request_id = s.ids.nextTimed("req", s.world.clock().unixMillis());
    pipeline::RequestContext ctx(ex);
    prepare(ctx, a, s.world.clock());
    if (s.path == Path::kBaseline) {
      benchmark::DoNotOptimize(ctx.principal);
      continue;
    }
    auto admitted = co_await s.world.enforce().onRequest(ctx);
    if (!admitted) {
      ++s.failures;
      continue;
    }
    answered(ctx, s.path == Path::kSuccess);
    if (s.path == Path::kSuccess) {
      auto committed = co_await s.world.meter().commit(ctx);
      if (!committed) {
        ++s.failures;
      }
    }
    s.world.meter().onComplete(ctx);
  }
}

constexpr std::size_t kWave = 1024;  // requests per benchmark iteration

void meteringLoop(benchmark::State& state, MeteringWorld& world, Path path, std::size_t inflight) {
  Shared s{world, path};
  net::io_context io;
  const std::uint64_t committed0 = world.committed();
  const std::uint64_t batches0 = world.batches();
  const auto wall0 = std::chrono::steady_clock::now();
  const std::int64_t thread0 = threadCpuNanos();
  const std::int64_t sys0 = threadSysNanos();
  const std::int64_t process0 = processCpuNanos();
  for (auto _ : state) {
    s.remaining = kWave;
    for (std::size_t c = 0; c < inflight; ++c) {
      net::co_spawn(io, client(s), [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
    }
    io.restart();
    io.run();
    if (path == Path::kError) {
      // Submitted records are written behind the requests: keep the queue bounded like a
      // server whose ledger keeps up (a sleeping thread uses no CPU).
      while (world.ledger().pending() > 20'000) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  const std::int64_t thread_ns = threadCpuNanos() - thread0;
  const std::int64_t sys_ns = threadSysNanos() - sys0;
  const std::int64_t process_ns = processCpuNanos() - process0;
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (s.failures != 0) {
    state.SkipWithError("a request was refused or its usage not committed");
    return;
  }
  const auto requests = static_cast<double>(state.iterations()) * static_cast<double>(kWave);
  state.SetItemsProcessed(static_cast<std::int64_t>(requests));
  state.counters["cpu_per_req_us"] = static_cast<double>(thread_ns) / requests / 1000.0;
  state.counters["sys_per_req_us"] = static_cast<double>(sys_ns) / requests / 1000.0;
  state.counters["other_cpu_per_req_us"] =
      static_cast<double>(process_ns - thread_ns) / requests / 1000.0;
  state.counters["req_per_s"] = requests / wall_s;
  if (path == Path::kSuccess) {
    const auto batches = world.batches() - batches0;
    state.counters["batch_avg"] =
        batches == 0
            ? 0.0
            : static_cast<double>(world.committed() - committed0) / static_cast<double>(batches);
  }
}

// Records as MeterStage::recordOf makes them, spread over the world's keys (tenants, keys and end
// users in the shuffled order of the actors), so the usage table's indexes see realistic keys.
std::vector<storage::UsageRecord> usageRecords(std::size_t n,
                                               IdGenerator& ids,
                                               const MeteringWorld& world,
                                               std::size_t& next_actor) {
  std::vector<storage::UsageRecord> out;
  out.reserve(n);
  const auto now = world.clock().unixMillis();
  const auto& actors = world.actors();
  for (std::size_t i = 0; i < n; ++i) {
    const Actor& a = actors[next_actor];
    if (++next_actor == actors.size()) {
      next_actor = 0;
    }
    out.push_back(storage::UsageRecord{.request_id = ids.nextTimed("req", now),
                                       .tenant_id = a.principal.tenant_id,
                                       .api_key_id = a.principal.api_key_id,
                                       .end_user = a.end_user,
                                       .model = "gpt-4o",
                                       .deployment = "openai-gpt-4o",
                                       .provider = "openai",
                                       .prompt_tokens = 412,
                                       .completion_tokens = 187,
                                       .cached_tokens = 128,
                                       .latency_ms = 900,
                                       .ttft_ms = 180,
                                       .status = 200,
                                       .outcome = "ok",
                                       .attempts = 1,
                                       .cost_micro_usd = 2710,
                                       .streamed = true,
                                       .created_at = now});
  }
  return out;
}

// Records/s durably written: each iteration submits kBurst records (a bounded queue, as the
// gateway's max_pending) and waits until the writer has committed them all.
void ledgerThroughput(benchmark::State& state, MeteringWorld& world) {
  constexpr std::size_t kBurst = 20'000;
  IdGenerator ids;
  std::size_t next_actor = 0;
  std::uint64_t target = world.committed();
  const std::uint64_t batches0 = world.batches();
  const std::uint64_t committed0 = target;
  const std::int64_t other0 = processCpuNanos() - threadCpuNanos();
  for (auto _ : state) {
    state.PauseTiming();
    auto records = usageRecords(kBurst, ids, world, next_actor);
    state.ResumeTiming();
    for (auto& r : records) {
      world.ledger().submit(std::move(r));
    }
    target += kBurst;
    world.waitCommitted(target);
  }
  const std::int64_t other_ns = processCpuNanos() - threadCpuNanos() - other0;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
  // CPU of every other thread (the ledger writer in SQLite) per record made durable.
  state.counters["writer_cpu_per_record_us"] =
      static_cast<double>(other_ns) / static_cast<double>(state.iterations() * kBurst) / 1000.0;
  const auto batches = world.batches() - batches0;
  state.counters["batch_avg"] = batches == 0 ? 0.0
                                             : static_cast<double>(world.committed() - committed0) /
                                                   static_cast<double>(batches);
}

// One world per (benchmark, sync mode), built on first use (a filtered run builds only what it
// runs) and kept for the process lifetime, so the runs Google Benchmark makes to size the
// iteration count share the warm state.
class LazyWorld {
 public:
  LazyWorld(std::size_t tenants, storage::SqliteSync sync) : tenants_(tenants), sync_(sync) {}
  MeteringWorld& get() {
    if (!world_) {
      world_ = std::make_unique<MeteringWorld>(tenants_, sync_);
    }
    return *world_;
  }

 private:
  std::size_t tenants_;
  storage::SqliteSync sync_;
  std::unique_ptr<MeteringWorld> world_;
};

struct Worlds {
  std::vector<std::unique_ptr<LazyWorld>> all;
  LazyWorld* make(std::size_t tenants, storage::SqliteSync sync) {
    all.push_back(std::make_unique<LazyWorld>(tenants, sync));
    return all.back().get();
  }
};

void registerBenchmarks(Worlds& worlds, std::size_t tenants, std::size_t inflight) {
  struct Mode {
    const char* name;
    storage::SqliteSync sync;
  };
  const Mode modes[] = {{"full", storage::SqliteSync::kFull},
                        {"normal", storage::SqliteSync::kNormal}};
  for (const Mode& m : modes) {
    LazyWorld* w = worlds.make(tenants, m.sync);
    benchmark::RegisterBenchmark((std::string("BM_MeteringSuccessPath/sync:") + m.name).c_str(),
                                 [w, inflight](benchmark::State& st) {
                                   meteringLoop(st, w->get(), Path::kSuccess, inflight);
                                 });
    benchmark::RegisterBenchmark((std::string("BM_MeteringErrorPath/sync:") + m.name).c_str(),
                                 [w, inflight](benchmark::State& st) {
                                   meteringLoop(st, w->get(), Path::kError, inflight);
                                 });
  }
  LazyWorld* base = worlds.make(tenants, storage::SqliteSync::kNormal);
  benchmark::RegisterBenchmark("BM_RequestSetupBaseline", [base, inflight](benchmark::State& st) {
    meteringLoop(st, base->get(), Path::kBaseline, inflight);
  });
  for (const Mode& m : modes) {
    LazyWorld* w = worlds.make(tenants, m.sync);
    benchmark::RegisterBenchmark((std::string("BM_LedgerThroughput/sync:") + m.name).c_str(),
                                 [w](benchmark::State& st) { ledgerThroughput(st, w->get()); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace livery::bench

int main(int argc, char** argv) {
  const auto tenants_flag = livery::bench::takeFlag(argc, argv, "tenants");
  const auto inflight_flag = livery::bench::takeFlag(argc, argv, "inflight");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  const std::size_t tenants = tenants_flag ? std::stoul(*tenants_flag) : 10'000;
  const std::size_t inflight = inflight_flag ? std::stoul(*inflight_flag) : 128;
  livery::bench::Worlds worlds;
  livery::bench::registerBenchmarks(worlds, tenants, inflight);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
