// The CLI next to a running `livery serve` on the same data directory: changes reach the
// server through the change feed within one sync poll (sync.poll_interval, 250 ms), and the KEK
// can be rotated and every data key rewrapped while requests flow (issue 3, "Done when").
#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "integration/cli/cli_fixture.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::CliEnv;
using testing::FakeUpstream;

constexpr const char* kProviderKey = "sk-fake-openai-key";

std::string chatBody() {
  return R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]})";
}

testing::HttpResult chat(testing::TestHttpClient& client, const std::string& key) {
  return client.post("/v1/chat/completions",
                     chatBody(),
                     {{"Host", "acme.localhost"},
                      {"Authorization", "Bearer " + key},
                      {"Content-Type", "application/json"}});
}

// The server's log lines about requests that did not answer 200 and its warnings (at most 10),
// for a failure message.
std::string failureLines(const std::string& log) {
  std::string lines;
  std::istringstream in(log);
  std::string line;
  for (int n = 0; n < 10 && std::getline(in, line);) {
    const bool failed_request = line.find("\"event\":\"request\"") != std::string::npos &&
                                line.find("\"status\":200") == std::string::npos;
    if (failed_request || line.find("upstream_attempt_failed") != std::string::npos ||
        line.find("\"level\":\"warn") != std::string::npos) {
      lines += line + "\n";
      ++n;
    }
  }
  return lines;
}

class CliServeTest : public ::testing::Test {
 protected:
  // acme with `credentials` validated OpenAI credentials (the fake's key) behind one model
  // "gpt-4o" whose deployments share priority 0, so requests spread over all of them.
  void setUpTenant(int credentials) {
    ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
    std::vector<std::string> route{"route", "set", "--tenant", "acme", "gpt-4o"};
    for (int i = 0; i < credentials; ++i) {
      auto c = env.json({"credential",
                         "add",
                         "--tenant",
                         "acme",
                         "--provider",
                         "openai",
                         "--label",
                         "openai-" + std::to_string(i),
                         "--base-url",
                         upstream.baseUrl() + "/v1"},
                        kProviderKey);
      ASSERT_EQ(c.at("health").as_string(), "ok");
      route.insert(
          route.end(),
          {"--deployment", "openai:gpt-4o:" + std::string(c.at("id").as_string()) + ":0:1"});
    }
    ASSERT_EQ(env.run(route).code, 0);
  }

  std::string createKey() {
    auto k = env.json({"key", "create", "--tenant", "acme", "--name", "app"});
    return std::string(k.at("key").as_string());
  }

  FakeUpstream upstream;
  // No DEK cache: every request unwraps its data key through the KMS, so after the rewrap the
  // server must unwrap under the KEK version the CLI created.
  CliEnv env{upstream.port(), "kms:\n  dek_cache:\n    max_entries: 0\n"};
};

TEST_F(CliServeTest, AKeyCreatedByTheCliWorksAndARevokedOneIsRefusedWithinASecond) {
  setUpTenant(1);
  if (HasFatalFailure()) {
    return;
  }
  std::uint16_t port = 0;
  auto server = env.serve(port);
  ASSERT_NE(port, 0) << server->err();
  testing::TestHttpClient client("127.0.0.1", port);

  // Created while the server runs: it was not in the index the server loaded at start.
  auto key = createKey();
  auto created = std::chrono::steady_clock::now();
  int status = 0;
  EXPECT_TRUE(testing::eventually(
      [&] {
        status = chat(client, key).status;
        return status == 200;
      },
      2s))
      << status;
  EXPECT_LT(std::chrono::steady_clock::now() - created, 1s);

  auto keys = env.json({"key", "list", "--tenant", "acme"});
  auto key_id = std::string(keys.at("data").as_array()[0].at("id").as_string());
  ASSERT_EQ(env.run({"key", "revoke", "--tenant", "acme", key_id}).code, 0);
  auto revoked = std::chrono::steady_clock::now();
  EXPECT_TRUE(testing::eventually([&] { return chat(client, key).status == 401; }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - revoked, 1s);

  // Suspension and resumption reach the running server the same way.
  auto key2 = createKey();
  ASSERT_TRUE(testing::eventually([&] { return chat(client, key2).status == 200; }, 2s));
  ASSERT_EQ(env.run({"tenant", "suspend", "acme", "--reason", "test"}).code, 0);
  testing::HttpResult suspended;
  EXPECT_TRUE(testing::eventually(
      [&] {
        suspended = chat(client, key2);
        return suspended.status == 403;
      },
      2s));
  EXPECT_NE(suspended.body.find("suspended"), std::string::npos) << suspended.body;
  ASSERT_EQ(env.run({"tenant", "resume", "acme"}).code, 0);
  EXPECT_TRUE(testing::eventually([&] { return chat(client, key2).status == 200; }, 2s));
}

TEST_F(CliServeTest, RotatingAndRewrappingWhileRequestsFlowFailsNoRequest) {
  setUpTenant(3);
  if (HasFatalFailure()) {
    return;
  }
  auto key = createKey();
  std::uint16_t port = 0;
  auto server = env.serve(port);
  ASSERT_NE(port, 0) << server->err();

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex mu;  // guards failures
  std::vector<std::string> failures;
  // Two clients, so the server's two I/O threads meet the new KEK version at the same time.
  auto client_loop = [&] {
    testing::TestHttpClient client("127.0.0.1", port);
    while (!stop.load()) {
      try {
        auto r = chat(client, key);
        // Every request succeeds on its first deployment: no fallback hides a decrypt failure.
        if (r.status != 200 || r.headers.get("x-livery-attempts") != "1") {
          std::lock_guard lock(mu);
          failures.push_back(std::to_string(r.status) + " attempts=" +
                             std::string(r.headers.get("x-livery-attempts")) + " " + r.body);
        } else {
          ok.fetch_add(1);
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        failures.push_back(e.what());
      }
    }
  };
  std::thread load_a(client_loop);
  std::thread load_b(client_loop);
  auto served_at_least = [&](int n) {
    return testing::eventually([&] { return ok >= n; }, 30s);
  };

  EXPECT_TRUE(served_at_least(20));
  auto rotate = env.run({"kms", "rotate"});
  EXPECT_EQ(rotate.code, 0) << rotate.err;
  EXPECT_TRUE(served_at_least(ok + 10));
  auto rewrap = env.run({"kms", "rewrap"});
  EXPECT_EQ(rewrap.code, 0) << rewrap.err;
  EXPECT_NE(rewrap.err.find("rewrap: 3 rewrapped"), std::string::npos) << rewrap.err;
  // Well past one sync poll: the server has loaded the rewrapped envelopes and unwraps under
  // the new version (it re-reads the KEK file when it meets a version it does not know).
  auto after_rewrap = ok.load();
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(served_at_least(after_rewrap + 30));

  auto status = env.json({"kms", "status"});
  for (const auto& v : status.at("data").as_array()) {
    if (v.at("version").as_int64() == 1) {
      EXPECT_EQ(v.at("rows").as_int64(), 0);
      EXPECT_TRUE(v.at("retirable").as_bool());
    } else {
      EXPECT_EQ(v.at("rows").as_int64(), 3);
      EXPECT_TRUE(v.at("current").as_bool());
    }
  }
  auto retire = env.run({"kms", "retire", "1"});
  EXPECT_EQ(retire.code, 0) << retire.err;
  EXPECT_TRUE(served_at_least(ok + 20));
  stop = true;
  load_a.join();
  load_b.join();

  std::lock_guard lock(mu);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front() << "\n"
                                << failureLines(server->err());
  EXPECT_GT(ok.load(), 80);
  // Every upstream call carried the tenant's key, decrypted from a rewrapped envelope.
  for (const auto& r : upstream.requests()) {
    if (r.path == "/v1/chat/completions") {
      ASSERT_EQ(r.header("authorization"), std::string("Bearer ") + kProviderKey);
    }
  }
  EXPECT_EQ(env.run({"kms", "verify"}).code, 0);
  // Neither the provider key nor the gateway key ever reached the server's log.
  auto log = server->err() + server->out();
  EXPECT_EQ(log.find(kProviderKey), std::string::npos);
  EXPECT_EQ(log.find(key), std::string::npos);
}

}  // namespace
}  // namespace livery
