// Control-plane API costs, end to end through a real in-process gateway over loopback HTTP/1.1
// keep-alive (one client, so these are round-trip latencies, not throughput):
//
//   BM_MockChatWithApiKey   POST /v1/chat/completions with mock_response and an API key
//   BM_MockChatWithSession  the same with a workspace session cookie + X-CSRF-Token: the
//                           difference is what the session layer adds (cached lookup, host
//                           binding, CSRF compare)
//   BM_WorkspaceMe          GET /api/v1/workspace/me (session cache hit, no store access)
//   BM_ConsoleSignIn        POST /api/v1/auth/login: Argon2id verify on the blocking pool plus a
//                           session insert
//
//   cmake --build --preset release --target api_bench && build/release/bench/api_bench
#include <stdexcept>
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/gateway_harness.hpp"

namespace {

namespace json = boost::json;
using livery::testing::GatewayHarness;
using livery::testing::HeaderList;
using livery::testing::HttpResult;
using livery::testing::TestHttpClient;

constexpr const char* kPassword = "correct horse battery staple";
constexpr const char* kMockChat =
    R"({"model":"any","messages":[{"role":"user","content":"hi"}],"mock_response":"ok"})";

std::string cookieOf(const HttpResult& r) {
  auto v = std::string(r.headers.get("set-cookie"));
  return v.substr(0, v.find(';'));
}

// A tenant "acme" with an owner, a workspace user and an API key; sessions signed in.
struct World {
  GatewayHarness h;
  std::string host;
  std::string api_key;
  std::string user_cookie;
  std::string user_csrf;

  World() {
    auto token = h.gateway().bootstrapToken();
    if (!token) {
      throw std::runtime_error("no bootstrap token");
    }
    auto op = h.client();
    HeaderList op_headers = {{"Host", "localhost:" + std::to_string(h.port())},
                             {"Authorization", "Bearer " + *token},
                             {"Content-Type", "application/json"}};
    auto t = op.post(
        "/admin/v1/tenants",
        json::serialize(json::object{
            {"slug", "acme"}, {"admin_email", "owner@acme.test"}, {"admin_password", kPassword}}),
        op_headers);
    if (t.status != 201) {
      throw std::runtime_error("tenant: " + t.body);
    }
    auto tenant_id = std::string(json::parse(t.body).at("id").as_string());
    api_key = h.issueKey(tenant_id);
    host = "acme.localhost:" + std::to_string(h.port());
    auto c = h.client();
    auto admin = signIn(c, "/api/v1/auth/login", "owner@acme.test");
    HeaderList headers = {{"Host", host},
                          {"Content-Type", "application/json"},
                          {"Cookie", cookieOf(admin)},
                          {"X-CSRF-Token", csrfOf(admin)}};
    auto u =
        c.post("/api/v1/users",
               json::serialize(json::object{{"email", "ada@acme.test"}, {"password", kPassword}}),
               headers);
    if (u.status != 201) {
      throw std::runtime_error("user: " + u.body);
    }
    auto user = signIn(c, "/api/v1/workspace/login", "ada@acme.test");
    user_cookie = cookieOf(user);
    user_csrf = csrfOf(user);
  }

  HttpResult signIn(TestHttpClient& c, const std::string& path, const std::string& email) {
    auto r = c.post(path,
                    json::serialize(json::object{{"email", email}, {"password", kPassword}}),
                    {{"Host", host}, {"Content-Type", "application/json"}});
    if (r.status != 200) {
      throw std::runtime_error("sign-in: " + r.body);
    }
    return r;
  }
  static std::string csrfOf(const HttpResult& r) {
    return std::string(json::parse(r.body).at("csrf_token").as_string());
  }
};

void BM_MockChatWithApiKey(benchmark::State& state) {
  World w;
  auto c = w.h.client();
  HeaderList headers = {{"Host", w.host},
                        {"Content-Type", "application/json"},
                        {"Authorization", "Bearer " + w.api_key}};
  for (auto _ : state) {
    auto r = c.post("/v1/chat/completions", kMockChat, headers);
    if (r.status != 200) {
      state.SkipWithError("chat failed");
      break;
    }
  }
}
BENCHMARK(BM_MockChatWithApiKey)->Unit(benchmark::kMicrosecond);

void BM_MockChatWithSession(benchmark::State& state) {
  World w;
  auto c = w.h.client();
  HeaderList headers = {{"Host", w.host},
                        {"Content-Type", "application/json"},
                        {"Cookie", w.user_cookie},
                        {"X-CSRF-Token", w.user_csrf}};
  for (auto _ : state) {
    auto r = c.post("/v1/chat/completions", kMockChat, headers);
    if (r.status != 200) {
      state.SkipWithError("chat failed");
      break;
    }
  }
}
BENCHMARK(BM_MockChatWithSession)->Unit(benchmark::kMicrosecond);

void BM_WorkspaceMe(benchmark::State& state) {
  World w;
  auto c = w.h.client();
  HeaderList headers = {{"Host", w.host}, {"Cookie", w.user_cookie}};
  for (auto _ : state) {
    auto r = c.get("/api/v1/workspace/me", headers);
    if (r.status != 200) {
      state.SkipWithError("me failed");
      break;
    }
  }
}
BENCHMARK(BM_WorkspaceMe)->Unit(benchmark::kMicrosecond);

void BM_ConsoleSignIn(benchmark::State& state) {
  World w;
  auto c = w.h.client();
  for (auto _ : state) {
    w.signIn(c, "/api/v1/auth/login", "owner@acme.test");
  }
}
BENCHMARK(BM_ConsoleSignIn)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
