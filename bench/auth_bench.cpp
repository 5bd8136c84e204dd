// Authentication with a realistic key population (issue 4: "with 1,000,000 keys loaded,
// authenticating a key (checksum, HMAC, lookup) costs under 2 µs; memory per key is reported").
//
// The world is built once, before any benchmark runs: --keys keys (default 1,000,000) over
// keys/10 tenants, loaded the way IndexSync::loadAll does it (storage::ApiKey →
// tenancy::keyEntryFrom → KeyIndex::put, no reserve()), with real CSPRNG tokens and real
// HMAC-SHA-256 hashes under a random pepper. The resident-set growth and the malloc growth
// across the key load, divided by the number of keys, are reported as the counters
// rss_B_per_key and heap_B_per_key on every benchmark.
//
// The requests cycle through --samples (default 65,536) different keys spread evenly over the
// index, so lookups miss the CPU caches as they would with real traffic.
//
//   BM_AuthenticateStage_ValidKey        pipeline::AuthenticateStage::onRequest, the code the
//                                        gateway runs (Host resolution, Bearer parsing, format +
//                                        checksum, HMAC, index lookup, Principal)  target < 2 µs
//   BM_AuthenticateAndResolveTenant      + pipeline::ResolveTenantStage (tenant by id, host
//                                        check on <slug>.<base domain>, suspension)
//   BM_AuthenticateStage_UnknownKey      well-formed key with a valid checksum, not in the index
//   BM_AuthenticateStage_BadChecksum     one character changed: refused before any HMAC/lookup
//   BM_RequestContextBaseline            what the loops above pay besides authentication
//                                        (Exchange + RequestContext + one trivial co_await)
//   BM_ApiKeyParse / BM_KeyHasherHash / BM_KeyIndexFind[Miss]: the three steps alone
//
// Smoke run (ctest -L bench-smoke): --keys=20000 --samples=1024 --benchmark_min_time=0.01.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_support.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "crypto/api_key.hpp"
#include "crypto/random.hpp"
#include "pipeline/authenticate.hpp"
#include "pipeline/ports.hpp"
#include "tenancy/directory.hpp"
#include "tenancy/key_index.hpp"
#include "tenancy/tenant_state.hpp"
#include "whitelabel/host.hpp"

namespace livery::bench {
namespace {

constexpr std::string_view kBaseDomain = "livery.test";

// API-key requests never reach these; a call would mean the benchmark measures the wrong path.
class RefusingJwt final : public pipeline::JwtAuthenticator {
 public:
  net::awaitable<Result<std::string>> verify(const tenancy::TenantState& /*tenant*/,
                                             std::string_view /*token*/) override {
    co_return fail(ErrorCode::kUnauthenticated, "no JWT in this benchmark");
  }
};

class NoSessions final : public pipeline::SessionAuthenticator {
 public:
  net::awaitable<std::optional<Result<SessionPrincipal>>> authenticate(
      const http::Request& /*request*/) override {
    co_return std::nullopt;
  }
};

// One prepared request: its headers as the HTTP server would hand them to the pipeline.
struct Sample {
  std::string token;
  http::Request request;
};

http::Request requestWith(const std::string& token, const std::string& host) {
  http::Request r;
  r.method = http::Method::kPost;
  r.method_text = "POST";
  r.target = "/v1/chat/completions";
  r.remote_ip = "203.0.113.7";
  r.headers.add("host", host);
  r.headers.add("user-agent", "OpenAI/Python 1.40.0");
  r.headers.add("content-type", "application/json");
  r.headers.add("authorization", "Bearer " + token);
  return r;
}

struct LoadReport {
  std::size_t keys = 0;
  std::size_t tenants = 0;
  double rss_per_key = 0;
  double heap_per_key = 0;
  double load_seconds = 0;
};

class AuthWorld {
 public:
  AuthWorld(std::size_t key_count, std::size_t sample_count)
      : hosts_(check(whitelabel::HostResolver::create(kBaseDomain, {}), "host resolver")) {
    std::vector<unsigned char> bytes(crypto::KeyHasher::kMinPepperBytes);
    check(random_.fill(bytes), "pepper");
    auto pepper = SecretBytes::copyOf(std::span<const unsigned char>(bytes));
    hasher_.emplace(check(crypto::KeyHasher::create(pepper), "key hasher"));
    const std::size_t tenant_count = std::max<std::size_t>(1, key_count / 10);
    loadTenants(tenant_count);
    loadKeys(key_count, tenant_count, sample_count);
    authenticate_ = std::make_unique<pipeline::AuthenticateStage>(
        *hasher_, keys_, tenants_, hosts_, jwt_, sessions_, clock_, metrics_);
    resolve_ = std::make_unique<pipeline::ResolveTenantStage>(tenants_);
  }

  pipeline::AuthenticateStage& authenticate() { return *authenticate_; }
  pipeline::ResolveTenantStage& resolve() { return *resolve_; }
  const crypto::KeyHasher& hasher() const { return *hasher_; }
  const tenancy::KeyIndex& keys() const { return keys_; }
  const std::vector<Sample>& valid() const { return valid_; }
  const std::vector<Sample>& unknown() const { return unknown_; }
  const std::vector<Sample>& badChecksum() const { return bad_checksum_; }
  const LoadReport& report() const { return report_; }

 private:
  void loadTenants(std::size_t n) {
    IdGenerator ids;
    tenant_ids_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto st = std::make_shared<tenancy::TenantState>();
      st->tenant.id = ids.next("tnt");
      st->tenant.slug = "tenant" + std::to_string(i);
      st->tenant.display_name = "Tenant " + std::to_string(i);
      st->tenant.plan_id = "pro";
      st->limits = {.monthly_token_quota = 10'000'000, .rpm = 600, .tpm = 1'000'000};
      st->branding.tenant_id = st->tenant.id;
      st->branding.display_name = st->tenant.display_name;
      tenant_ids_.push_back(st->tenant.id);
      tenants_.put(std::move(st));
    }
    report_.tenants = n;
  }

  void loadKeys(std::size_t n, std::size_t tenant_count, std::size_t sample_count) {
    sample_count = std::max<std::size_t>(1, std::min(sample_count, n));
    const std::size_t stride = n / sample_count;
    valid_.reserve(sample_count);
    std::vector<std::pair<std::string, std::size_t>> sampled;  // token, tenant index
    sampled.reserve(sample_count);
    IdGenerator ids;
    const auto started = std::chrono::steady_clock::now();
    const std::size_t rss0 = residentBytes();
    const std::size_t heap0 = heapBytes();
    for (std::size_t i = 0; i < n; ++i) {
      auto token = check(crypto::api_key::generate(crypto::TokenKind::kLive, random_), "token");
      auto digest = check(hasher_->hash(token.reveal()), "hash");
      storage::ApiKey k;
      k.id = ids.next("key");
      k.tenant_id = tenant_ids_[i % tenant_count];
      k.name = "bench";
      k.hash.assign(digest.begin(), digest.end());
      k.last4 = crypto::api_key::last4(token.reveal());
      k.environment = "live";
      k.limits.rpm = 60;
      k.limits.tpm = 100'000;
      k.created_at = 1;
      keys_.put(tenancy::toKeyHash(k.hash), tenancy::keyEntryFrom(k));
      if (i % stride == 0 && sampled.size() < sample_count) {
        sampled.emplace_back(std::string(token.reveal()), i % tenant_count);
      }
    }
    const std::size_t rss1 = residentBytes();
    const std::size_t heap1 = heapBytes();
    const auto took = std::chrono::steady_clock::now() - started;
    // The samples are built after the measurement so that they do not count as index memory.
    for (auto& [token, tenant] : sampled) {
      auto host = "tenant" + std::to_string(tenant) + "." + std::string(kBaseDomain);
      valid_.push_back(Sample{token, requestWith(token, host)});
      // The last character is a checksum digit: changing it always breaks the checksum.
      std::string bad = token;
      bad.back() = bad.back() == 'A' ? 'B' : 'A';
      bad_checksum_.push_back(Sample{bad, requestWith(bad, host)});
      if (unknown_.size() < 4096) {
        auto stranger =
            check(crypto::api_key::generate(crypto::TokenKind::kLive, random_), "token");
        std::string s(stranger.reveal());
        unknown_.push_back(Sample{s, requestWith(s, host)});
      }
    }
    report_.keys = keys_.size();
    report_.rss_per_key =
        static_cast<double>(rss1 > rss0 ? rss1 - rss0 : 0) / static_cast<double>(n);
    report_.heap_per_key =
        static_cast<double>(heap1 > heap0 ? heap1 - heap0 : 0) / static_cast<double>(n);
    report_.load_seconds = std::chrono::duration<double>(took).count();
  }

  SystemClock clock_;
  MetricsRegistry metrics_;
  crypto::OpenSslRandom random_;
  std::optional<crypto::KeyHasher> hasher_;
  tenancy::KeyIndex keys_;
  tenancy::TenantDirectory tenants_{std::string(kBaseDomain)};
  whitelabel::HostResolver hosts_;
  RefusingJwt jwt_;
  NoSessions sessions_;
  std::unique_ptr<pipeline::AuthenticateStage> authenticate_;
  std::unique_ptr<pipeline::ResolveTenantStage> resolve_;
  std::vector<std::string> tenant_ids_;
  std::vector<Sample> valid_;
  std::vector<Sample> unknown_;
  std::vector<Sample> bad_checksum_;
  LoadReport report_;
};

void addCounters(benchmark::State& state, const AuthWorld& world) {
  const auto& r = world.report();
  state.counters["keys"] = static_cast<double>(r.keys);
  state.counters["rss_B_per_key"] = r.rss_per_key;
  state.counters["heap_B_per_key"] = r.heap_per_key;
  state.SetItemsProcessed(state.iterations());
}

enum class Expect { kAuthenticated, kRefused };

http::Exchange exchangeFor(const Sample& sample, http::StreamWriter& writer) {
  // The stages only read the request; Exchange holds it by non-const reference.
  return http::Exchange{const_cast<http::Request&>(sample.request),  // NOLINT
                        writer,
                        "req_bench",
                        {},
                        {},
                        0,
                        {},
                        {},
                        {},
                        0};
}

// The benchmark loop runs inside one coroutine, so each iteration co_awaits the stages exactly
// as Pipeline::run does (one awaitable frame per stage call, from Asio's recycling allocator).
// `world` and `samples` outlive the coroutine (runCoroutine returns when it has finished).
net::awaitable<void> stageLoop(benchmark::State& state,
                               AuthWorld& world,
                               const std::vector<Sample>& samples,
                               bool with_tenant,
                               Expect expect) {
  NullStreamWriter writer;
  std::size_t i = 0;
  for (auto _ : state) {
    http::Exchange ex = exchangeFor(samples[i], writer);
    pipeline::RequestContext ctx(ex);
    auto r = co_await world.authenticate().onRequest(ctx);
    if (r && with_tenant) {
      r = co_await world.resolve().onRequest(ctx);
    }
    if (static_cast<bool>(r) != (expect == Expect::kAuthenticated)) {
      state.SkipWithError(r ? "a refused key authenticated" : "a valid key was refused");
      break;
    }
    benchmark::DoNotOptimize(ctx.principal);
    if (++i == samples.size()) {
      i = 0;
    }
  }
}

// A trivial stage: what the loops above cost without authentication.
net::awaitable<Result<void>> trivialStage(pipeline::RequestContext& ctx) {
  ctx.host = "x";
  co_return Result<void>{};
}

net::awaitable<void> baselineLoop(benchmark::State& state, const std::vector<Sample>& samples) {
  NullStreamWriter writer;
  std::size_t i = 0;
  for (auto _ : state) {
    http::Exchange ex = exchangeFor(samples[i], writer);
    pipeline::RequestContext ctx(ex);
    auto r = co_await trivialStage(ctx);
    benchmark::DoNotOptimize(r);
    if (++i == samples.size()) {
      i = 0;
    }
  }
}

std::vector<tenancy::KeyHash> hashesOf(const AuthWorld& world, const std::vector<Sample>& samples) {
  std::vector<tenancy::KeyHash> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    auto d = check(world.hasher().hash(s.token), "hash");
    tenancy::KeyHash h{};
    std::copy(d.begin(), d.end(), h.begin());
    out.push_back(h);
  }
  return out;
}

void keyIndexFind(benchmark::State& state,
                  const AuthWorld& world,
                  const std::vector<Sample>& samples,
                  bool present) {
  const auto hashes = hashesOf(world, samples);
  std::size_t i = 0;
  for (auto _ : state) {
    auto entry = world.keys().find(hashes[i]);
    if (entry.has_value() != present) {
      state.SkipWithError("unexpected lookup result");
      break;
    }
    benchmark::DoNotOptimize(entry);
    if (++i == hashes.size()) {
      i = 0;
    }
  }
  addCounters(state, world);
}

void registerBenchmarks(AuthWorld& w) {
  benchmark::RegisterBenchmark("BM_AuthenticateStage_ValidKey", [&w](benchmark::State& state) {
    runCoroutine(stageLoop(state, w, w.valid(), false, Expect::kAuthenticated));
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_AuthenticateAndResolveTenant", [&w](benchmark::State& state) {
    runCoroutine(stageLoop(state, w, w.valid(), true, Expect::kAuthenticated));
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_AuthenticateStage_UnknownKey", [&w](benchmark::State& state) {
    runCoroutine(stageLoop(state, w, w.unknown(), false, Expect::kRefused));
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_AuthenticateStage_BadChecksum", [&w](benchmark::State& state) {
    runCoroutine(stageLoop(state, w, w.badChecksum(), false, Expect::kRefused));
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_RequestContextBaseline", [&w](benchmark::State& state) {
    runCoroutine(baselineLoop(state, w.valid()));
    state.SetItemsProcessed(state.iterations());
  });
  benchmark::RegisterBenchmark("BM_ApiKeyParse", [&w](benchmark::State& state) {
    const auto& samples = w.valid();
    std::size_t i = 0;
    for (auto _ : state) {
      auto parsed = crypto::api_key::parse(samples[i].token);
      benchmark::DoNotOptimize(parsed);
      if (++i == samples.size()) {
        i = 0;
      }
    }
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_KeyHasherHash", [&w](benchmark::State& state) {
    const auto& samples = w.valid();
    std::size_t i = 0;
    for (auto _ : state) {
      auto digest = w.hasher().hash(samples[i].token);
      benchmark::DoNotOptimize(digest);
      if (++i == samples.size()) {
        i = 0;
      }
    }
    addCounters(state, w);
  });
  benchmark::RegisterBenchmark("BM_KeyIndexFind", [&w](benchmark::State& state) {
    keyIndexFind(state, w, w.valid(), true);
  });
  benchmark::RegisterBenchmark("BM_KeyIndexFindMiss", [&w](benchmark::State& state) {
    keyIndexFind(state, w, w.unknown(), false);
  });
}

}  // namespace
}  // namespace livery::bench

int main(int argc, char** argv) {
  const auto keys_flag = livery::bench::takeFlag(argc, argv, "keys");
  const auto samples_flag = livery::bench::takeFlag(argc, argv, "samples");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  const std::size_t keys = keys_flag ? std::stoul(*keys_flag) : 1'000'000;
  const std::size_t samples = samples_flag ? std::stoul(*samples_flag) : 65'536;
  livery::bench::AuthWorld world(keys, samples);
  const auto& r = world.report();
  std::fprintf(stderr,
               "auth_bench: %zu keys over %zu tenants loaded in %.2f s; resident set +%.0f B/key, "
               "malloc +%.0f B/key\n",
               r.keys,
               r.tenants,
               r.load_seconds,
               r.rss_per_key,
               r.heap_per_key);
  livery::bench::registerBenchmarks(world);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
