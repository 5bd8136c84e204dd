// Issue 10: three livery processes sharing one PostgreSQL and one Redis.
//  - a global requests-per-minute limit holds within 2% while the load is spread over the nodes;
//  - a monthly quota never overshoots more than the documented bound;
//  - a revoked key is refused on every node within one second;
//  - a node killed mid-load: the others keep serving and no completed response is missing
//    from the ledger.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <signal.h>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/secret.hpp"
#include "crypto/password.hpp"
#include "storage/database.hpp"
#include "storage/stores.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/services.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;

std::string seedBinary() {
  return std::string(LIVERY_BINARY_DIR) + "/tests/livery-seed";
}

class MultiNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LIVERY_REQUIRE_SERVICE(pg, "LIVERY_TEST_PG_URL");
    LIVERY_REQUIRE_SERVICE(redis, "LIVERY_TEST_REDIS_URL");
    schema_ = randomId("mn");
    for (auto& c : schema_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    sets_ = {"storage.backend=postgres",
             "storage.postgres_url=" + pg,
             "storage.postgres_schema=" + schema_,
             "limits.backend=redis",
             "redis.url=" + redis,
             "upstream.allow_http_hosts=127.0.0.1",
             "upstream.allow_private_hosts=127.0.0.1",
             "sync.poll_interval=200ms",
             "http.access_log=false"};
    // The KEK file and the pepper are shared by the nodes (as a real fleet shares them through
    // its secret store): all nodes use one data directory for them.
    data_ = dir_.file("shared");
  }

  void TearDown() override { nodes_.clear(); }

  std::vector<std::string> configArgs() const {
    std::vector<std::string> out{"--data-dir", data_};
    for (const auto& s : sets_) {
      out.push_back("--set");
      out.push_back(s);
    }
    return out;
  }

  // Seeds one tenant (through the same binary code the CLI uses) and returns its key.
  std::string seed(std::uint32_t rpm, std::uint64_t quota) {
    std::vector<std::string> args{seedBinary(),
                                  "--upstream",
                                  upstream_.baseUrl(),
                                  "--tenants",
                                  "1",
                                  "--limited-rpm",
                                  std::to_string(rpm),
                                  "--plan-tokens",
                                  std::to_string(quota)};
    for (auto& a : configArgs()) {
      args.push_back(a);
    }
    testing::ChildProcess p(args);
    EXPECT_EQ(p.waitExit(60s), 0) << p.err();
    auto j = boost::json::parse(p.out()).as_object();
    tenant_id_ = std::string(j["tenants"].as_array()[0].as_object()["id"].as_string());
    return std::string(j["tenants"].as_array()[0].as_object()["keys"].as_array()[0].as_string());
  }

  void startNodes(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> args{
          testing::liveryBinary(), "serve", "--listen", "127.0.0.1:0", "--threads", "1"};
      for (auto& a : configArgs()) {
        args.push_back(a);
      }
      nodes_.push_back(std::make_unique<testing::ChildProcess>(args));
      auto port = testing::waitForListeningPort(*nodes_.back(), 60s);
      ASSERT_NE(port, 0) << nodes_.back()->err();
      ports_.push_back(port);
    }
  }

  std::unique_ptr<app::CoreServices> openCore() {
    config::LoadOptions lo;
    lo.flags.emplace_back("data_dir", data_);
    for (const auto& s : sets_) {
      auto eq = s.find('=');
      lo.flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    cfg_ = config::load(lo);
    return app::CoreServices::open(cfg_, clock_, log_, false);
  }

  static std::string body() {
    return R"({"model":"gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hi"}]})";
  }

  testing::TempDir dir_;
  testing::FakeUpstream upstream_;
  std::string schema_;
  std::string data_;
  std::vector<std::string> sets_;
  std::string tenant_id_;
  std::vector<std::unique_ptr<testing::ChildProcess>> nodes_;
  std::vector<std::uint16_t> ports_;
  SystemClock clock_;
  Logger log_{std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock_};
  config::Config cfg_;
};

TEST_F(MultiNodeTest, AGlobalRpmLimitHoldsWithinTwoPercentAcrossThreeNodes) {
  constexpr std::uint32_t kRpm = 1200;  // 20/s, burst 1 s = 20
  auto key = seed(kRpm, 0);
  startNodes(3);
  // Offer twice the rate, spread round-robin over the nodes, for 15 s.
  constexpr auto kDuration = 15s;
  std::atomic<int> accepted{0};
  std::atomic<int> limited{0};
  std::atomic<int> other{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (std::size_t n = 0; n < ports_.size(); ++n) {
    clients.emplace_back([&, n] {
      testing::TestHttpClient http("127.0.0.1", ports_[n]);
      // Each of the 3 clients offers 40/3 per second: 40/s in total, twice the limit.
      auto interval = std::chrono::microseconds(3'000'000 / 40);
      auto next = start;
      while (std::chrono::steady_clock::now() - start < kDuration) {
        std::this_thread::sleep_until(next);
        next += interval;
        auto r =
            http.post("/v1/chat/completions",
                      body(),
                      {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
        if (r.status == 200) {
          ++accepted;
        } else if (r.status == 429) {
          ++limited;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double expected = kRpm / 60.0 * seconds + kRpm / 60.0;  // rate x time + the 1 s burst
  EXPECT_EQ(other, 0);
  EXPECT_GT(limited, 0);
  EXPECT_NEAR(accepted.load(), expected, expected * 0.02)
      << "accepted " << accepted << " over " << seconds << " s";
}

TEST_F(MultiNodeTest, AQuotaSharedByThreeNodesNeverOvershoots) {
  constexpr std::uint64_t kQuota = 2'000;
  auto key = seed(0, kQuota);
  startNodes(3);
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      testing::TestHttpClient http("127.0.0.1",
                                   ports_[static_cast<std::size_t>(c) % ports_.size()]);
      for (int i = 0; i < 60; ++i) {
        auto r =
            http.post("/v1/chat/completions",
                      body(),
                      {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 429 && r.body.find("insufficient_quota") != std::string::npos) {
          ++refused;
        } else {
          ADD_FAILURE() << r.status << " " << r.body;
        }
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_GT(refused, 0);
  auto core = openCore();
  std::uint64_t used = 0;
  for (int i = 0; i < 100; ++i) {  // let the nodes' ledgers land
    auto sum = core->stores->usage.tenantTokensSince(tenant_id_, 0);
    ASSERT_TRUE(sum);
    used = *sum;
    std::this_thread::sleep_for(20ms);
  }
  // Every request sets max_tokens and the prompt estimate is conservative: the bound is 0.
  EXPECT_LE(used, kQuota);
  EXPECT_GT(used, kQuota / 2);
}

TEST_F(MultiNodeTest, ARevokedKeyIsRefusedOnEveryNodeWithinOneSecond) {
  auto key = seed(0, 0);
  startNodes(3);
  for (auto port : ports_) {
    testing::TestHttpClient http("127.0.0.1", port);
    ASSERT_EQ(http.post("/v1/chat/completions",
                        body(),
                        {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}})
                  .status,
              200);
  }
  auto core = openCore();
  auto keys = core->stores->api_keys.list(tenant_id_, {.limit = 10});
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  auto revoked_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(core->control->revokeApiKey(control::Actor::cli(), tenant_id_, (*keys)[0].id));
  std::vector<std::chrono::milliseconds> took(ports_.size());
  std::vector<std::thread> probes;
  for (std::size_t n = 0; n < ports_.size(); ++n) {
    probes.emplace_back([&, n] {
      testing::TestHttpClient http("127.0.0.1", ports_[n]);
      while (std::chrono::steady_clock::now() - revoked_at < 5s) {
        auto r =
            http.post("/v1/chat/completions",
                      body(),
                      {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
        if (r.status == 401) {
          took[n] = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - revoked_at);
          return;
        }
        std::this_thread::sleep_for(10ms);
      }
      took[n] = 5s;
    });
  }
  for (auto& t : probes) {
    t.join();
  }
  for (std::size_t n = 0; n < took.size(); ++n) {
    EXPECT_LE(took[n], 1000ms) << "node " << n;
  }
}

TEST_F(MultiNodeTest, ASignInGuesserIsThrottledOnEveryNodeNotOnlyTheOneItTried) {
  seed(0, 0);
  const std::string password = "correct horse battery staple";
  {
    auto core = openCore();
    auto hash = core->passwords->hash(SecretBytes::copyOf(password));
    ASSERT_TRUE(hash);
    storage::User admin;
    admin.email = "owner@tenant0.test";
    admin.kind = "admin";
    admin.role = storage::UserRole::kOwner;
    admin.password_hash = *hash;
    ASSERT_TRUE(core->control->createUser(control::Actor::cli(), tenant_id_, admin));
  }
  startNodes(2);
  const auto login = [&](std::size_t node, const std::string& pw) {
    testing::TestHttpClient http("127.0.0.1", ports_[node]);
    return http.post("/api/v1/auth/login",
                     R"({"email":"owner@tenant0.test","password":")" + pw + R"("})",
                     {{"Host", "tenant0.localhost"}, {"Content-Type", "application/json"}});
  };
  // Five wrong passwords, spread over both nodes: each node saw fewer than five.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login(static_cast<std::size_t>(i % 2), "wrong-" + std::to_string(i)).status, 401)
        << i;
  }
  // Either node now refuses the account, even with the right password.
  for (std::size_t node = 0; node < 2; ++node) {
    auto refused = login(node, password);
    EXPECT_EQ(refused.status, 429) << "node " << node << ": " << refused.body;
    EXPECT_NE(refused.body.find("login_rate_limited"), std::string::npos) << refused.body;
  }
  // The store holds digests only: no e-mail address or client address in clear.
  auto core = openCore();
  auto rows = core->db->withConnection([](storage::Connection& conn) {
    return conn.query("SELECT throttle_key FROM login_throttle");
  });
  ASSERT_TRUE(rows);
  ASSERT_FALSE(rows->empty());
  for (const auto& row : *rows) {
    auto k = row.blob(0);
    std::string text(k.begin(), k.end());
    EXPECT_EQ(text.find("owner@"), std::string::npos);
    EXPECT_EQ(text.find("127.0.0.1"), std::string::npos);
  }
}

TEST_F(MultiNodeTest, ANodeKilledMidLoadLosesNoCompletedResponse) {
  auto key = seed(0, 0);
  startNodes(3);
  std::mutex mu;
  std::set<std::string> received;
  std::atomic<bool> killed{false};
  std::atomic<int> after_kill_ok{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (std::size_t n = 0; n < ports_.size(); ++n) {
    for (int c = 0; c < 2; ++c) {
      clients.emplace_back([&, n] {
        testing::TestHttpClient http("127.0.0.1", ports_[n]);
        while (std::chrono::steady_clock::now() - start < 6s) {
          try {
            auto r = http.post(
                "/v1/chat/completions",
                body(),
                {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
            if (r.status == 200) {
              std::lock_guard lock(mu);
              received.insert(std::string(r.headers.get("x-request-id")));
              if (killed && n != 1) {
                ++after_kill_ok;
              }
            }
          } catch (const std::exception&) {
            if (n == 1 && killed) {
              return;  // the killed node
            }
            http = testing::TestHttpClient("127.0.0.1", ports_[n]);
          }
        }
      });
    }
  }
  std::this_thread::sleep_for(2s);
  killed = true;
  nodes_[1]->signal(SIGKILL);
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_GT(after_kill_ok, 0) << "the other nodes keep serving";
  auto core = openCore();
  std::size_t missing = 0;
  for (const auto& id : received) {
    if (!core->stores->usage.getAnyTenant(id)) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << received.size() << " completed responses";
}

}  // namespace
}  // namespace livery
