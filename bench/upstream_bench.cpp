// Upstream client round trips against the in-process fake provider over loopback keep-alive:
// a small GET, a non-streaming chat completion, a 20-chunk stream and a 1 MiB request body.
// The fake runs on its own thread, so "CPU" (this thread) is mostly the client's cost and
// "Time" is the round trip.
#include <future>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/secret.hpp"
#include "support/fake_upstream.hpp"
#include "upstream/http_client.hpp"
#include "upstream/resolver.hpp"

namespace {

using namespace livery;  // NOLINT(google-build-using-namespace): benchmark file

struct Rig {
  Rig() {
    cfg.allow_http_hosts = {"127.0.0.1"};
    cfg.allow_private_hosts = {"127.0.0.1"};
    client = std::move(
        upstream::HttpClient::create(io.get_executor(), cfg, resolver, metrics, clock).value());
  }
  net::io_context io;
  SystemClock clock;
  MetricsRegistry metrics;
  upstream::StaticResolver resolver;
  config::UpstreamConfig cfg;
  testing::FakeUpstream fake;
  SecretBytes key = SecretBytes::copyOf("sk-fake-openai-key");
  std::unique_ptr<upstream::HttpClient> client;
};

upstream::Request makeRequest(Rig& rig, std::string path, std::string body) {
  upstream::Request r;
  r.method = body.empty() ? "GET" : "POST";
  r.url = rig.fake.baseUrl() + path;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  r.auth = upstream::AuthInjection{"Authorization", "Bearer ", &rig.key};
  return r;
}

// Runs every iteration inside one coroutine on this thread.
void runLoop(benchmark::State& state, Rig& rig, const upstream::Request& proto, bool stream) {
  auto loop =
      [](benchmark::State& st, Rig& r, upstream::Request p, bool s) -> net::awaitable<void> {
    for (auto _ : st) {
      auto res = co_await r.client->send(p);
      if (!res) {
        st.SkipWithError(res.error().client_message.c_str());
        co_return;
      }
      std::size_t bytes = 0;
      if (s) {
        for (;;) {
          auto piece = co_await (*res)->readSome();
          if (!piece || piece->empty()) {
            break;
          }
          bytes += piece->size();
        }
      } else {
        auto body = co_await (*res)->readAll();
        bytes = body ? body->size() : 0;
      }
      benchmark::DoNotOptimize(bytes);
    }
  };
  auto fut = net::co_spawn(rig.io, loop(state, rig, proto, stream), net::use_future);
  // run_one() rather than run(): the client's idle-sweep timer would keep run() busy.
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    rig.io.run_one();
  }
  fut.get();
  state.counters["pool_misses"] =
      static_cast<double>(rig.metrics.counter("livery_upstream_pool_misses_total", "").value());
}

void BM_KeepAliveGetModels(benchmark::State& state) {
  Rig rig;
  runLoop(state, rig, makeRequest(rig, "/v1/models", ""), false);
}
BENCHMARK(BM_KeepAliveGetModels)->UseRealTime();

void BM_KeepAliveChatCompletion(benchmark::State& state) {
  Rig rig;
  runLoop(state,
          rig,
          makeRequest(rig,
                      "/v1/chat/completions",
                      R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})"),
          false);
}
BENCHMARK(BM_KeepAliveChatCompletion)->UseRealTime();

void BM_KeepAliveStream20Chunks(benchmark::State& state) {
  Rig rig;
  rig.fake.setReply(std::string(200, 'x'), 20);
  runLoop(state,
          rig,
          makeRequest(
              rig,
              "/v1/chat/completions",
              R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})"),
          true);
}
BENCHMARK(BM_KeepAliveStream20Chunks)->UseRealTime();

void BM_KeepAlive1MiBRequestBody(benchmark::State& state) {
  Rig rig;
  std::string body = R"({"model":"text-embedding-3-small","input":")";
  body.append(1 << 20, 'a');
  body += R"("})";
  runLoop(state, rig, makeRequest(rig, "/v1/embeddings", body), false);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_KeepAlive1MiBRequestBody)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
