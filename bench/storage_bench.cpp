// Storage micro-benchmarks.
//   BM_UsageInsertBatch     usage ledger writes: records/s with batches of 500 (the metering
//                           flusher's shape), SQLite synchronous=FULL (the default) and NORMAL;
//                           PostgreSQL too when LIVERY_TEST_PG_URL is set.
//   BM_ApiKeyForEachActive  loading the in-memory key index: every active key streamed out of
//                           the store (N = 10,000 and 1,000,000 keys; PostgreSQL 1,000,000
//                           when LIVERY_TEST_PG_URL is set).
// Smoke run (ctest -L bench-smoke): the small cases with --benchmark_min_time=0.01.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>  // mkdtemp

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "scratch_dir.hpp"
#include "storage/api_key_store.hpp"
#include "storage/postgres/pg_database.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "storage/usage_store.hpp"

namespace livery::storage {
namespace {

using bench::ScratchDir;

template <class T>
T check(Result<T> r) {
  if (!r) {
    throw std::runtime_error(r.error().client_message + ": " + r.error().log_detail);
  }
  return std::move(*r);
}

void check(Result<void> r) {
  if (!r) {
    throw std::runtime_error(r.error().client_message + ": " + r.error().log_detail);
  }
}

std::unique_ptr<Database> openSqlite(const ScratchDir& dir, SqliteSync sync, const Clock& clock) {
  return check(SqliteDatabase::open(
      SqliteOptions{.path = dir.file("bench.db"), .synchronous = sync}, clock));
}

std::vector<UsageRecord> usageBatch(std::size_t n, std::uint64_t& next_id, Millis now) {
  std::vector<UsageRecord> batch;
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t id = next_id++;
    batch.push_back(UsageRecord{.request_id = fmt::format("req_{:012}", id),
                                .tenant_id = fmt::format("tnt_{:03}", id % 50),
                                .api_key_id = fmt::format("key_{:05}", id % 5000),
                                .end_user = id % 3 == 0 ? "" : fmt::format("user-{}", id % 700),
                                .model = id % 2 == 0 ? "gpt-4o" : "claude-sonnet",
                                .deployment = "openai-gpt-4o",
                                .provider = "openai",
                                .prompt_tokens = 400 + id % 300,
                                .completion_tokens = 120 + id % 90,
                                .latency_ms = 900,
                                .ttft_ms = 210,
                                .status = 200,
                                .outcome = "ok",
                                .attempts = 1,
                                .cost_micro_usd = 2150,
                                .streamed = true,
                                .created_at = now + static_cast<Millis>(id)});
  }
  return batch;
}

void runUsageInsert(benchmark::State& state, Database& db, const Clock& clock) {
  UsageStore usage(db, clock);
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  std::uint64_t next_id = 0;
  const Millis now = clock.unixMillis();
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = usageBatch(batch_size, next_id, now);
    state.ResumeTiming();
    auto n = usage.insertBatch(batch);
    if (!n || *n != batch_size) {
      state.SkipWithError("insertBatch failed");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.counters["records_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(state.range(0)),
      benchmark::Counter::kIsRate);
}

void BM_UsageInsertBatch_SqliteFull(benchmark::State& state) {
  SystemClock clock;
  ScratchDir dir;
  auto db = openSqlite(dir, SqliteSync::kFull, clock);
  runUsageInsert(state, *db, clock);
}
BENCHMARK(BM_UsageInsertBatch_SqliteFull)->Arg(500)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_UsageInsertBatch_SqliteNormal(benchmark::State& state) {
  SystemClock clock;
  ScratchDir dir;
  auto db = openSqlite(dir, SqliteSync::kNormal, clock);
  runUsageInsert(state, *db, clock);
}
BENCHMARK(BM_UsageInsertBatch_SqliteNormal)->Arg(500)->UseRealTime()->Unit(benchmark::kMillisecond);

// Runs `body(db, clock)` on a fresh schema of the database LIVERY_TEST_PG_URL names.
template <class Body>
void withPgSchema(const std::string& url, Body body) {
  SystemClock clock;
  const std::string schema = "lvb_" + randomId("s").substr(2);
  PgOptions admin_options;
  admin_options.url = SecretBytes::copyOf(url);
  admin_options.run_migrations = false;
  auto admin = check(PgDatabase::open(std::move(admin_options), clock));
  check(admin->withConnection(
      [&](Connection& c) { return c.execScript(fmt::format("CREATE SCHEMA {}", schema)); }));
  {
    PgOptions options;
    options.url = SecretBytes::copyOf(url);
    options.schema = schema;
    auto db = check(PgDatabase::open(std::move(options), clock));
    body(*db, clock);
  }
  check(admin->withConnection(
      [&](Connection& c) { return c.execScript(fmt::format("DROP SCHEMA {} CASCADE", schema)); }));
}

void BM_UsageInsertBatch_Postgres(benchmark::State& state, const std::string& url) {
  withPgSchema(url, [&](Database& db, const Clock& clock) { runUsageInsert(state, db, clock); });
}

// Loads `total` keys over 50 tenants (not timed), then times streaming them all out.
void runKeyLoad(benchmark::State& state, Database& db, const Clock& clock) {
  const auto total = static_cast<std::size_t>(state.range(0));
  {
    auto conn = check(db.acquire());
    for (int t = 0; t < 50; ++t) {
      const std::string id = fmt::format("tnt_{:03}", t);
      const std::string slug = fmt::format("t{}", t);
      check(conn->exec(
          "INSERT INTO tenants (id, slug, display_name, status, created_at, updated_at, revision) "
          "VALUES (?, ?, ?, 'active', 1, 1, 1)",
          {id, slug, slug}));
    }
  }
  ApiKeyStore keys(db, clock);
  constexpr std::size_t kChunk = 20'000;
  std::vector<ApiKey> chunk;
  for (std::size_t start = 0; start < total; start += kChunk) {
    chunk.clear();
    for (std::size_t i = start; i < std::min(total, start + kChunk); ++i) {
      const std::string material = fmt::format("hash-{:032}", i);
      chunk.push_back(ApiKey{.id = fmt::format("key_{:010}", i),
                             .tenant_id = fmt::format("tnt_{:03}", i % 50),
                             .name = "bulk",
                             .hash = std::vector<unsigned char>(material.begin(), material.end()),
                             .last4 = "abcd",
                             .environment = "live",
                             .scopes = {},
                             .limits = {.rpm = 60, .tpm = 10'000},
                             .created_at = 1});
    }
    check(keys.insertMany(chunk));
  }
  for (auto _ : state) {
    auto n = keys.forEachActive([](ApiKey&& k) {
      benchmark::DoNotOptimize(k.hash.data());
      return true;
    });
    if (!n || *n != total) {
      state.SkipWithError("forEachActive did not deliver every key");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// Synchronous NORMAL only speeds up the (untimed) bulk load; reads do not fsync.
void BM_ApiKeyForEachActive_Sqlite(benchmark::State& state) {
  SystemClock clock;
  ScratchDir dir;
  auto db = openSqlite(dir, SqliteSync::kNormal, clock);
  runKeyLoad(state, *db, clock);
}

BENCHMARK(BM_ApiKeyForEachActive_Sqlite)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ApiKeyForEachActive_Sqlite)
    ->Arg(1'000'000)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_ApiKeyForEachActive_Postgres(benchmark::State& state, const std::string& url) {
  withPgSchema(url, [&](Database& db, const Clock& clock) { runKeyLoad(state, db, clock); });
}

}  // namespace
}  // namespace livery::storage

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  const char* pg = std::getenv("LIVERY_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe)
  if (pg != nullptr && *pg != '\0') {
    benchmark::RegisterBenchmark("BM_UsageInsertBatch_Postgres",
                                 livery::storage::BM_UsageInsertBatch_Postgres,
                                 std::string(pg))
        ->Arg(500)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_ApiKeyForEachActive_Postgres",
                                 livery::storage::BM_ApiKeyForEachActive_Postgres,
                                 std::string(pg))
        ->Arg(1'000'000)
        ->Iterations(3)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
