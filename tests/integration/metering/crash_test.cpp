// Issue 7: a response the client received completely is never missing from the ledger, even
// when the process is killed (SIGKILL) in the middle of the load.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <signal.h>

#include "core/clock.hpp"
#include "storage/open.hpp"
#include "storage/stores.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;

std::string seedBinary() {
  return std::string(LIVERY_BINARY_DIR) + "/tests/livery-seed";
}

TEST(LedgerCrashTest, EveryCompletedResponseHasExactlyOneLedgerRowAfterSigkill) {
  testing::TempDir dir;
  testing::FakeUpstream upstream;
  auto data = dir.file("data");
  testing::ChildProcess seed({seedBinary(),
                              "--data-dir",
                              data,
                              "--upstream",
                              upstream.baseUrl(),
                              "--tenants",
                              "1",
                              "--keys-per-tenant",
                              "1"});
  ASSERT_EQ(seed.waitExit(60s), 0) << seed.err();
  auto seeded = boost::json::parse(seed.out()).as_object();
  std::string key(seeded["tenants"].as_array()[0].as_object()["keys"].as_array()[0].as_string());

  auto livery = std::make_unique<testing::ChildProcess>(
      std::vector<std::string>{testing::liveryBinary(),
                               "serve",
                               "--data-dir",
                               data,
                               "--listen",
                               "127.0.0.1:0",
                               "--threads",
                               "2",
                               "--set",
                               "upstream.allow_http_hosts=127.0.0.1",
                               "--set",
                               "upstream.allow_private_hosts=127.0.0.1",
                               "--set",
                               "http.access_log=false"});
  auto port = testing::waitForListeningPort(*livery, 30s);
  ASSERT_NE(port, 0) << livery->err();

  // 8 clients, keep-alive, paced to well over 300 requests/s in total; each records the request
  // ids of the complete 200 answers it received.
  constexpr int kTotal = 2000;
  constexpr int kKillAfter = 1000;
  std::atomic<int> sent{0};
  std::atomic<int> completed{0};
  std::atomic<bool> killed{false};
  std::mutex mu;
  std::set<std::string> received;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      testing::TestHttpClient http("127.0.0.1", port);
      for (;;) {
        int n = sent.fetch_add(1);
        if (n >= kTotal) {
          return;
        }
        try {
          auto r = http.post(
              "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"count me"}]})",
              {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
          if (r.status == 200 && r.body.find("chat.completion") != std::string::npos) {
            std::lock_guard lock(mu);
            received.insert(std::string(r.headers.get("x-request-id")));
            completed.fetch_add(1);
          }
        } catch (const std::exception&) {
          if (killed) {
            return;  // the server is gone: these requests were never answered
          }
          http = testing::TestHttpClient("127.0.0.1", port);
        }
      }
    });
  }
  while (completed.load() < kKillAfter && std::chrono::steady_clock::now() - started < 60s) {
    std::this_thread::sleep_for(1ms);
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  killed = true;
  livery->signal(SIGKILL);
  for (auto& t : clients) {
    t.join();
  }
  livery->waitExit(10s);
  livery.reset();
  double rate = kKillAfter / elapsed;
  EXPECT_GE(rate, 300.0) << "load rate " << rate << " requests/s";
  ASSERT_GE(received.size(), static_cast<std::size_t>(kKillAfter));

  // Open the ledger after the crash: every answered request is there exactly once (the request
  // id is the primary key, so "at most once" holds by construction; "at least once" is the
  // claim under test).
  SystemClock clock;
  storage::DatabaseOptions opts;
  opts.sqlite_path = data + "/livery.db";
  auto db = storage::openDatabase(std::move(opts), clock);
  ASSERT_TRUE(db) << db.error().client_message;
  storage::Stores stores(**db, clock);
  std::size_t missing = 0;
  for (const auto& id : received) {
    auto rec = stores.usage.getAnyTenant(id);
    if (!rec) {
      ++missing;
      ADD_FAILURE() << "answered request " << id << " is not in the ledger";
      if (missing > 5) {
        break;
      }
    }
  }
  EXPECT_EQ(missing, 0u);
}

}  // namespace
}  // namespace livery
