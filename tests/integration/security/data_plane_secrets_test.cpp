// Issues 3 and 5 on the data plane: a planted provider key and a planted Livery API key never
// leave the gateway. The real `livery serve` binary (debug log level, access log on) serves chat
// as JSON and as SSE, an upstream 401 (the provider's own body, and one that echoes the whole
// key back), a first-byte timeout, a fallback, malformed requests and a refused client key;
// then neither canary may occur in any client response (status, headers, body), in the
// process's log output, in /metrics, or in any file of the data directory (SQLite database and
// WAL, while serving and after shutdown).
//
// The provider canary does not look like an "sk-…" key, so the logger's masking safety net
// cannot hide a leak. Positive controls: the fake provider did receive the provider canary in
// its Authorization header; each scanned text contains something the test knows is there (the
// request ids in the log, the tenant slug in the database file, the route in /metrics), so an
// empty or unread source cannot pass.
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "integration/soak/live_gateway.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::FakeBehaviour;
using testing::FakeUpstream;
using testing::FakeUpstreamOptions;
using testing::HttpResult;

constexpr std::string_view kProviderCanary = "canary-PROVIDER-7c1e94d2b86a05f3";
constexpr std::string_view kWrongProviderCanary = "canary-REFUSED-3f8a61c0d94e27b5";
constexpr std::string_view kWrongApiKeyCanary = "lvr_canary-CLIENT-e5b2097a4c1d";
constexpr std::string_view kChat = "/v1/chat/completions";

FakeUpstreamOptions acceptingTheCanary() {
  FakeUpstreamOptions o;
  o.openai_keys = {std::string(kProviderCanary)};
  return o;
}

// Everything a response exposes: status, header names and values, body.
std::string exposed(const HttpResult& r) {
  std::string out = std::to_string(r.status) + "\n";
  for (const auto& f : r.headers.fields()) {
    out += f.name + ": " + f.value + "\n";
  }
  return out + r.body;
}

std::string chatBody(std::string_view model, bool stream) {
  return std::string(R"({"model":")") + std::string(model) + R"(","stream":)" +
         (stream ? "true" : "false") + R"(,"messages":[{"role":"user","content":"hello"}]})";
}

class DataPlaneSecretsTest : public ::testing::Test {
 protected:
  DataPlaneSecretsTest()
      : upstream(acceptingTheCanary()),
        backup(acceptingTheCanary()),
        gw(dir.file("data"),
           {"upstream.allow_http_hosts=127.0.0.1",
            "upstream.allow_private_hosts=127.0.0.1",
            "upstream.first_byte_timeout=500ms",
            "routing.cooldown_failures=1000",
            "routing.max_attempts=2",
            "log.level=debug",
            "http.access_log=true"}) {}

  testing::TempDir dir;
  FakeUpstream upstream;
  FakeUpstream backup;
  testing::LiveGateway gw;
};

TEST_F(DataPlaneSecretsTest, PlantedProviderAndApiKeysAppearNowhere) {
  auto tenant = gw.createTenant("canarycorp");
  auto good = gw.addCredential(
      tenant.id, "openai", std::string(kProviderCanary), "planted", upstream.baseUrl() + "/v1");
  auto refused = gw.addCredential(tenant.id,
                                  "openai",
                                  std::string(kWrongProviderCanary),
                                  "refused",
                                  upstream.baseUrl() + "/v1");
  auto spare = gw.addCredential(
      tenant.id, "openai", std::string(kProviderCanary), "spare", backup.baseUrl() + "/v1");
  gw.setRoute(tenant.id, "direct", {testing::deployment("direct", good, "gpt-4o", 0)});
  gw.setRoute(tenant.id, "badkey", {testing::deployment("badkey", refused, "gpt-4o", 0)});
  gw.setRoute(tenant.id,
              "fallback",
              {testing::deployment("first", good, "gpt-4o", 0),
               testing::deployment("second", spare, "gpt-4o-mini", 1)});
  const std::string api_key = gw.issueKey(tenant.id);
  ASSERT_FALSE(api_key.empty());
  gw.start(2);

  std::vector<HttpResult> responses;
  testing::TestHttpClient http("127.0.0.1", gw.port());
  const testing::HeaderList auth{{"Authorization", "Bearer " + api_key},
                                 {"Content-Type", "application/json"}};
  auto chat = [&](const std::string& body) {
    responses.push_back(http.request("POST", kChat, body, auth, 20s));
    return responses.back();
  };
  auto stream = [&](const std::string& body) {
    responses.push_back(http.stream(
        "POST", kChat, body, auth, [](std::string_view) { return true; }, 20s));
    return responses.back();
  };

  // Chat, JSON and SSE.
  auto plain = chat(chatBody("direct", false));
  EXPECT_EQ(plain.status, 200) << plain.body;
  auto sse = stream(chatBody("direct", true));
  EXPECT_EQ(sse.status, 200) << sse.body;
  EXPECT_NE(sse.body.find("data: [DONE]"), std::string::npos) << sse.body;
  // The provider refuses a key (its own 401 body, which names a masked form of the key).
  auto bad = chat(chatBody("badkey", false));
  EXPECT_GE(bad.status, 400) << bad.body;
  auto bad_stream = stream(chatBody("badkey", true));
  EXPECT_GE(bad_stream.status, 400) << bad_stream.body;
  // A provider that echoes the whole key in its 401 body and a header.
  upstream.push(std::string(kChat), [] {
    auto b = FakeBehaviour::withStatus(401);
    b.body = std::string(R"({"error":{"message":"Incorrect API key provided: )") +
             std::string(kProviderCanary) +
             R"(","type":"invalid_request_error","code":"invalid_api_key"}})";
    b.headers.emplace_back("x-echo-key", std::string(kProviderCanary));
    return b;
  }());
  auto echoed = chat(chatBody("direct", false));
  EXPECT_GE(echoed.status, 400) << echoed.body;
  // First-byte timeouts on every attempt (routing.max_attempts=2) with no fallback left.
  upstream.push(std::string(kChat), FakeBehaviour::hang(), 2);
  auto timed_out = chat(chatBody("direct", false));
  EXPECT_GE(timed_out.status, 500) << timed_out.body;
  // Fallback: the first deployment fails (500, then 503), the second answers.
  upstream.push(std::string(kChat), FakeBehaviour::serverError());
  auto fell_back = chat(chatBody("fallback", false));
  EXPECT_EQ(fell_back.status, 200) << fell_back.body;
  EXPECT_EQ(fell_back.headers.get("x-livery-attempts"), "2");
  upstream.push(std::string(kChat), FakeBehaviour::unavailable());
  auto fell_back_stream = stream(chatBody("fallback", true));
  EXPECT_EQ(fell_back_stream.status, 200) << fell_back_stream.body;
  // Malformed requests: bad JSON, a wrong type, an unknown model.
  auto malformed = chat(R"({"model":"direct","messages":[{"role":)");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  auto wrong_type = chat(R"({"model":"direct","messages":"not an array"})");
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  auto unknown = chat(chatBody("no-such-model", false));
  EXPECT_GE(unknown.status, 400) << unknown.body;
  // A refused client key that is itself a canary, and the real key in the wrong header.
  responses.push_back(http.request("POST",
                                   kChat,
                                   chatBody("direct", false),
                                   {{"Authorization", "Bearer " + std::string(kWrongApiKeyCanary)},
                                    {"Content-Type", "application/json"}},
                                   20s));
  EXPECT_EQ(responses.back().status, 401) << responses.back().body;
  responses.push_back(
      http.request("POST",
                   kChat,
                   chatBody("direct", false),
                   {{"Authorization", "Basic " + api_key}, {"Content-Type", "application/json"}},
                   20s));
  EXPECT_EQ(responses.back().status, 401) << responses.back().body;
  // Models and embeddings for good measure.
  responses.push_back(http.request("GET", "/v1/models", {}, auth, 20s));
  EXPECT_EQ(responses.back().status, 200) << responses.back().body;

  // Positive control: the provider did receive the planted key on the wire.
  std::size_t with_canary = 0;
  for (const auto& r : upstream.requests()) {
    with_canary += r.header("authorization") == "Bearer " + std::string(kProviderCanary) ? 1 : 0;
  }
  EXPECT_GE(with_canary, 5u);
  EXPECT_GE(backup.requestCount(kChat), 2u);

  const std::string metrics = testing::TestHttpClient("127.0.0.1", gw.port()).get("/metrics").body;
  bool db_while_serving = false;
  const std::vector<std::string_view> canaries{
      kProviderCanary, kWrongProviderCanary, kWrongApiKeyCanary, api_key};
  for (auto canary : canaries) {
    db_while_serving = db_while_serving || testing::directoryContains(gw.dataDir(), canary);
  }
  // The WAL exists while serving (the database is in WAL mode and has been written to).
  bool saw_wal = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(gw.dataDir())) {
    saw_wal = saw_wal || e.path().string().ends_with("-wal");
  }
  const auto exit_code = gw.stop(30s);
  EXPECT_EQ(exit_code, 0);
  const std::string logs = gw.output();

  // Each scanned source holds what it should: the scan can fail.
  ASSERT_NE(logs.find(std::string(plain.headers.get("x-request-id"))), std::string::npos)
      << "the request id is not in the log: the log was not captured";
  EXPECT_NE(metrics.find("livery_http_requests_total"), std::string::npos);
  EXPECT_TRUE(testing::directoryContains(gw.dataDir(), "canarycorp"));
  EXPECT_TRUE(saw_wal);

  for (auto canary : canaries) {
    SCOPED_TRACE(std::string(canary.substr(0, 14)));
    for (const auto& r : responses) {
      EXPECT_EQ(exposed(r).find(canary), std::string::npos) << exposed(r).substr(0, 2000);
    }
    EXPECT_EQ(logs.find(canary), std::string::npos)
        << logs.substr(logs.find(canary) > 300 ? logs.find(canary) - 300 : 0, 600);
    EXPECT_EQ(metrics.find(canary), std::string::npos);
  }
  EXPECT_FALSE(db_while_serving) << "a canary is in the data directory while serving";
  for (auto canary : canaries) {
    EXPECT_FALSE(testing::directoryContains(gw.dataDir(), canary))
        << "a canary is in the data directory after shutdown";
  }
}

}  // namespace
}  // namespace livery
