// Issue 6 soak (label slow): 30% of the attempts on a tenant's primary deployment fail at random
// (500, 429 with Retry-After, connection reset, first-byte timeout) at 500 requests/s for 60 s,
// while a healthy deployment remains last in the route. The client must never see an error, and
// the gateway's memory must stay flat.
//
// The gateway is the real `livery` binary (a child process), so the resident set measured is
// the gateway's own; the fake providers and the bounded client pool live in this process.
//
// Memory bound: RSS is sampled every 2 s over the measured 60 s (after a 10 s warm-up at the
// same load, which lets pools, caches and allocator arenas reach their working size). The median
// of the last third of the samples may exceed the median of the first third by at most
// kRssGrowthBound (16 MiB). About 20,000 requests separate the two medians, so a leak of more
// than ~800 bytes per request fails the test; run-to-run noise measured on the dev build is
// ~1-3 MiB. Under AddressSanitizer the child gets a 32 MiB quarantine (instead of 256 MiB):
// the default quarantine keeps filling for longer than the warm-up and would read as growth.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "integration/soak/live_gateway.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::FakeBehaviour;
using testing::FakeUpstream;

constexpr int kRatePerSecond = 500;
constexpr auto kWarmup = 10s;
constexpr auto kMeasured = 60s;

// The measured duration: 60 s, or LIVERY_TEST_SOAK_SECONDS for a quick local run (never shorter
// than the issue asks under `make test`, which does not set it).
std::chrono::seconds measuredDuration() {
  auto v = testing::envOrEmpty("LIVERY_TEST_SOAK_SECONDS");
  return v.empty() ? std::chrono::seconds(kMeasured) : std::chrono::seconds(std::stoi(v));
}
constexpr double kFaultShare = 0.30;
constexpr int kClients = 64;
constexpr auto kSampleEvery = 2s;
constexpr std::uint64_t kRssGrowthBound = 16ULL * 1024 * 1024;
constexpr std::string_view kChatPath = "/v1/chat/completions";

enum class Fault { kNone, kServerError, kRateLimited, kReset, kTimeout };

// The fault schedule of the flaky deployment: the i-th request it receives gets schedule[i].
std::vector<Fault> makeSchedule(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> share(0.0, 1.0);
  std::uniform_int_distribution<int> kind(1, 4);
  std::vector<Fault> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(share(rng) < kFaultShare ? static_cast<Fault>(kind(rng)) : Fault::kNone);
  }
  return out;
}

FakeBehaviour behaviourOf(Fault f) {
  switch (f) {
    case Fault::kNone:
      return FakeBehaviour{};
    case Fault::kServerError:
      return FakeBehaviour::serverError();
    case Fault::kRateLimited:
      return FakeBehaviour::rateLimited(1);
    case Fault::kReset:
      return FakeBehaviour::reset();
    case Fault::kTimeout:
      return FakeBehaviour::hang();
  }
  return FakeBehaviour{};
}

std::string chatBody(std::size_t i, bool stream) {
  return R"({"model":"soak","max_tokens":16,"stream":)" + std::string(stream ? "true" : "false") +
         R"(,"messages":[{"role":"user","content":"soak request )" + std::to_string(i) + R"("}]})";
}

double median(std::vector<std::uint64_t> v) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto mid = v.size() / 2;
  return v.size() % 2 == 1 ? static_cast<double>(v[mid])
                           : (static_cast<double>(v[mid - 1]) + static_cast<double>(v[mid])) / 2;
}

// The value of an unlabelled metric in Prometheus text, 0 when absent.
std::uint64_t metricValue(const std::string& text, std::string_view name) {
  const std::string prefix = "\n" + std::string(name) + " ";
  auto at = text.find(prefix);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + prefix.size()));
}

// Client-side tally, shared by the pool.
struct Tally {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> late{0};  // sent more than 100 ms after its slot
  std::atomic<std::uint64_t> failed_attempts{0};
  std::atomic<std::uint64_t> streams{0};
  std::mutex mu;  // guards examples
  std::vector<std::string> examples;

  void error(std::string what) {
    errors.fetch_add(1);
    std::lock_guard lock(mu);
    if (examples.size() < 10) {
      examples.push_back(std::move(what));
    }
  }
};

std::string asanOptionsForChild() {
  std::string options = testing::envOrEmpty("ASAN_OPTIONS");
  if (!options.empty()) {
    options += ':';
  }
  return options + "quarantine_size_mb=32";
}

TEST(SoakTest, ThirtyPercentUpstreamFailuresAt500RpsForSixtySecondsNoClientErrorFlatMemory) {
  testing::TempDir dir;
  FakeUpstream flaky;
  FakeUpstream healthy;
  testing::LiveGateway gw(dir.file("data"),
                          {"upstream.allow_http_hosts=127.0.0.1",
                           "upstream.allow_private_hosts=127.0.0.1",
                           "upstream.first_byte_timeout=300ms",
                           // Trip the breaker on 8 straight failures (rare at 30%) and let the
                           // deployment back after 1 s, so faults keep flowing all run long and
                           // the half-open path is exercised too.
                           "routing.cooldown_failures=8",
                           "routing.cooldown=1s",
                           "http.access_log=false"});
  auto tenant = gw.createTenant("soak");
  auto flaky_cred =
      gw.addCredential(tenant.id, "openai", "sk-fake-openai-key", "flaky", flaky.baseUrl() + "/v1");
  auto healthy_cred = gw.addCredential(
      tenant.id, "openai", "sk-fake-openai-key", "healthy", healthy.baseUrl() + "/v1");
  gw.setRoute(tenant.id,
              "soak",
              {testing::deployment("flaky", flaky_cred, "gpt-4o-mini", 0),
               testing::deployment("healthy", healthy_cred, "gpt-4o-mini", 1)});
  const std::string key = gw.issueKey(tenant.id);

  const auto measured_duration = measuredDuration();
  const auto total_requests = static_cast<std::size_t>(
      kRatePerSecond * std::chrono::seconds(kWarmup + measured_duration).count());
  // The flaky deployment sees about one request per client request (a failed attempt falls back
  // to the healthy one) plus the upstream client's resends after a reset on a reused connection;
  // a spare tenth keeps the queue from running dry. The seed is printed for reproduction.
  const std::uint64_t seed = std::random_device{}();
  auto schedule = makeSchedule(total_requests + total_requests / 10, seed);
  for (Fault f : schedule) {
    flaky.push(std::string(kChatPath), behaviourOf(f));
  }

  gw.start(2, {{"ASAN_OPTIONS", asanOptionsForChild()}});
  const pid_t pid = gw.pid();

  // RSS sampler: (seconds since start, bytes).
  std::atomic<bool> done{false};
  std::vector<std::pair<double, std::uint64_t>> samples;
  const auto start = std::chrono::steady_clock::now();
  std::thread sampler([&] {
    auto next = start;
    while (!done.load()) {
      samples.emplace_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          testing::residentBytes(pid));
      next += kSampleEvery;
      while (!done.load() && std::chrono::steady_clock::now() < next) {
        std::this_thread::sleep_for(50ms);
      }
    }
  });

  // A bounded pool of keep-alive clients paced on one global schedule: request i is due at
  // start + i / rate. A client that is behind sends at once (and the request counts as late).
  Tally tally;
  std::atomic<std::size_t> next_index{0};
  const auto period = std::chrono::nanoseconds(1'000'000'000 / kRatePerSecond);
  const testing::HeaderList headers{{"Authorization", "Bearer " + key},
                                    {"Content-Type", "application/json"}};
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      testing::TestHttpClient http("127.0.0.1", gw.port());
      for (;;) {
        const std::size_t i = next_index.fetch_add(1);
        if (i >= total_requests) {
          return;
        }
        const auto due = start + period * static_cast<std::int64_t>(i);
        const auto now = std::chrono::steady_clock::now();
        if (now < due) {
          std::this_thread::sleep_until(due);
        } else if (now - due > 100ms) {
          tally.late.fetch_add(1);
        }
        const bool stream = i % 4 == 3;
        try {
          testing::HttpResult r;
          if (stream) {
            r = http.stream(
                "POST",
                kChatPath,
                chatBody(i, true),
                headers,
                [](std::string_view) { return true; },
                10s);
          } else {
            r = http.request("POST", kChatPath, chatBody(i, false), headers, 10s);
          }
          const bool complete =
              stream ? r.body.find("data: [DONE]") != std::string::npos &&
                           r.body.find("chat.completion.chunk") != std::string::npos &&
                           r.body.find("\"error\"") == std::string::npos
                     : r.body.find("\"chat.completion\"") != std::string::npos;
          if (r.status != 200 || !complete) {
            tally.error("request " + std::to_string(i) + ": status " + std::to_string(r.status) +
                        " " + r.body.substr(0, 300));
            continue;
          }
          tally.ok.fetch_add(1);
          tally.streams.fetch_add(stream ? 1 : 0);
          auto attempts = r.headers.get("x-livery-attempts");
          if (!attempts.empty()) {
            tally.failed_attempts.fetch_add(std::stoull(std::string(attempts)) - 1);
          }
        } catch (const std::exception& e) {
          tally.error("request " + std::to_string(i) + ": " + e.what());
          http = testing::TestHttpClient("127.0.0.1", gw.port());
        }
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  sampler.join();

  auto metrics = testing::TestHttpClient("127.0.0.1", gw.port()).get("/metrics").body;
  const std::uint64_t stale_retries = metricValue(metrics, "livery_upstream_stale_retries_total");
  const auto exit_code = gw.stop(60s);

  // What the fault injection did: the flaky deployment consumed the head of the schedule.
  const std::size_t flaky_attempts = flaky.requestCount(kChatPath);
  const std::size_t healthy_attempts = healthy.requestCount(kChatPath);
  std::size_t injected = 0;
  for (std::size_t i = 0; i < std::min(flaky_attempts, schedule.size()); ++i) {
    injected += schedule[i] != Fault::kNone ? 1 : 0;
  }
  const double flaky_share = flaky_attempts == 0 ? 0 : double(injected) / double(flaky_attempts);
  const double overall_share =
      double(injected) / double(std::max<std::size_t>(1, flaky_attempts + healthy_attempts));

  // Memory: the measured window's first and last thirds.
  const double warmup_s = std::chrono::duration<double>(kWarmup).count();
  std::vector<std::uint64_t> measured;
  for (const auto& [t, rss] : samples) {
    if (t >= warmup_s && rss != 0) {
      measured.push_back(rss);
    }
  }
  const std::size_t third = measured.size() / 3;
  const double first_third =
      median({measured.begin(), measured.begin() + static_cast<std::ptrdiff_t>(third)});
  const double last_third =
      median({measured.end() - static_cast<std::ptrdiff_t>(third), measured.end()});

  std::string rss_series;
  for (const auto& [t, rss] : samples) {
    char item[48];
    std::snprintf(item, sizeof item, " %.0fs:%.1f", t, double(rss) / (1024 * 1024));
    rss_series += item;
  }
  std::printf(
      "soak: seed %llu; %zu requests in %.1f s (%.0f/s), %llu ok (%llu streamed), %llu errors, "
      "%llu late\n"
      "soak: flaky deployment %zu attempts, %zu injected faults (%.1f%% of its attempts, %.1f%% "
      "of all %zu attempts); healthy %zu attempts; failed attempts seen by clients %llu, "
      "stale-connection resends %llu\n"
      "soak: RSS first third median %.1f MiB, last third median %.1f MiB (%zu samples)\n"
      "soak: RSS MiB by time:%s\n",
      static_cast<unsigned long long>(seed),
      total_requests,
      elapsed,
      double(total_requests) / elapsed,
      static_cast<unsigned long long>(tally.ok.load()),
      static_cast<unsigned long long>(tally.streams.load()),
      static_cast<unsigned long long>(tally.errors.load()),
      static_cast<unsigned long long>(tally.late.load()),
      flaky_attempts,
      injected,
      100 * flaky_share,
      100 * overall_share,
      flaky_attempts + healthy_attempts,
      healthy_attempts,
      static_cast<unsigned long long>(tally.failed_attempts.load()),
      static_cast<unsigned long long>(stale_retries),
      first_third / (1024 * 1024),
      last_third / (1024 * 1024),
      measured.size(),
      rss_series.c_str());

  // No client error, at the offered rate.
  EXPECT_EQ(tally.errors.load(), 0u) << [&] {
    std::string s;
    for (const auto& e : tally.examples) {
      s += e + "\n";
    }
    return s;
  }();
  EXPECT_EQ(tally.ok.load(), total_requests);
  EXPECT_GE(double(total_requests) / elapsed, 0.95 * kRatePerSecond)
      << "the load did not reach the target rate";
  EXPECT_LT(double(tally.late.load()), 0.05 * double(total_requests))
      << "too many requests left late: the pool could not keep the rate";

  // The faults really happened: ~30% of the flaky deployment's attempts, and it stayed in the
  // rotation for most requests (the breaker trips only on a rare run of 8 failures).
  EXPECT_NEAR(flaky_share, kFaultShare, 0.02);
  EXPECT_GE(double(flaky_attempts), 0.8 * double(total_requests));
  // Every injected fault cost exactly one more upstream request, and nothing else did: requests
  // on both deployments = client requests + faults (1% slack). The extra requests are either
  // attempts the clients were told about (x-livery-attempts - 1, a fallback or a retry) or the
  // upstream client's silent resend after a reset on a reused keep-alive connection
  // (livery_upstream_stale_retries_total): together they account for every fault.
  const double extra_requests = double(flaky_attempts + healthy_attempts) - double(total_requests);
  EXPECT_NEAR(extra_requests, double(injected), 0.01 * double(injected));
  EXPECT_NEAR(double(tally.failed_attempts.load() + stale_retries),
              double(injected),
              0.01 * double(injected))
      << "x-livery-attempts does not account for the injected faults";
  EXPECT_NE(metrics.find("livery_upstream_attempts_total"), std::string::npos);

  // Flat memory.
  ASSERT_GE(measured.size(), static_cast<std::size_t>(measured_duration / kSampleEvery) * 4 / 5)
      << "too few RSS samples";
  EXPECT_LE(last_third, first_third + double(kRssGrowthBound))
      << "RSS grew from " << first_third / (1024 * 1024) << " MiB to " << last_third / (1024 * 1024)
      << " MiB";

  // And the process drains and exits cleanly (under ASan this includes the leak check).
  EXPECT_EQ(exit_code, 0) << gw.output().substr(0, 4000);
}

}  // namespace
}  // namespace livery
