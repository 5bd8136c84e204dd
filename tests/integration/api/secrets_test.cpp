// Planted secrets (a provider key, a console password, an API key, an operator token) must never
// come back: not in any API response body or header (except the one creation response that shows
// an API key or token once), not in a log line, not in /metrics, not in the data directory.
// The canaries deliberately do not look like "sk-…" or "lvr_…" keys where that is possible, so
// the logger's masking safety net cannot hide a leak.
#include <vector>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "integration/api/api_test_support.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiTest;
using testing::GatewayHarness;
using testing::HttpResult;
using testing::parseObject;
using testing::str;

constexpr std::string_view kProviderKey = "canary-PROVIDER-key-8d2f6a91c3e7";
constexpr std::string_view kWrongProviderKey = "canary-WRONG-key-41b9d0c2aa55";
constexpr std::string_view kPassword = "canary PASSWORD 5b7e0f1d";

testing::FakeUpstreamOptions acceptingTheCanary() {
  testing::FakeUpstreamOptions o;
  o.openai_keys = {std::string(kProviderKey)};
  return o;
}

class SecretsTest : public ApiTest {
 protected:
  SecretsTest() : ApiTest({}, acceptingTheCanary()) {}

  // Everything a response exposes: status line data, headers and body.
  static std::string exposed(const HttpResult& r) {
    std::string out = r.body;
    for (const auto& f : r.headers.fields()) {
      out += '\n';
      out += f.name;
      out += ": ";
      out += f.value;
    }
    return out;
  }
  void record(const HttpResult& r) { seen_.push_back(exposed(r)); }
  HttpResult keep(HttpResult r) {
    record(r);
    return r;
  }

  std::vector<std::string> seen_;
};

TEST_F(SecretsTest, PlantedSecretsNeverComeBack) {
  auto op = operatorClient();
  auto tenant =
      keep(op.post("/admin/v1/tenants",
                   json::serialize(json::object{{"slug", "acme"},
                                                {"admin_email", "owner@acme.test"},
                                                {"admin_password", std::string(kPassword)}})));
  ASSERT_EQ(tenant.status, 201) << tenant.body;
  ApiClient c(*h_, tenantHost("acme"));
  ASSERT_EQ(keep(c.signIn("/api/v1/auth/login",
                          json::serialize(json::object{{"email", "owner@acme.test"},
                                                       {"password", std::string(kPassword)}})))
                .status,
            200);
  // A wrong sign-in and a refused key on the way.
  keep(ApiClient(*h_, tenantHost("acme"))
           .signIn("/api/v1/auth/login",
                   json::serialize(json::object{{"email", "owner@acme.test"},
                                                {"password", std::string(kWrongProviderKey)}})));
  auto refused =
      keep(c.post("/api/v1/credentials",
                  json::serialize(json::object{{"provider", "openai"},
                                               {"key", std::string(kWrongProviderKey)},
                                               {"base_url", h_->baseUrlFor("openai")}})));
  EXPECT_EQ(refused.status, 422);
  auto cred = keep(c.post("/api/v1/credentials",
                          json::serialize(json::object{{"provider", "openai"},
                                                       {"label", "prod"},
                                                       {"key", std::string(kProviderKey)},
                                                       {"base_url", h_->baseUrlFor("openai")}})));
  ASSERT_EQ(cred.status, 201) << cred.body;
  auto cred_id = str(parseObject(cred).at("id"));
  keep(c.put("/api/v1/credentials/" + cred_id,
             json::serialize(json::object{{"key", std::string(kWrongProviderKey)}})));
  keep(c.post("/api/v1/credentials/" + cred_id + "/validate"));
  ASSERT_EQ(keep(c.put("/api/v1/routes/gpt-4o",
                       json::serialize(
                           json::object{{"deployments",
                                         json::array{json::object{{"provider", "openai"},
                                                                  {"model", "gpt-4o"},
                                                                  {"credential_id", cred_id}}}}})))
                .status,
            200);
  // The API key is shown exactly once, in its creation response (not recorded).
  auto issued = c.post("/api/v1/keys", R"({"name":"app"})");
  ASSERT_EQ(issued.status, 201);
  auto api_key = str(parseObject(issued).at("key"));
  auto host = tenantHost("acme") + ":" + std::to_string(h_->port());
  record(h_->chat(api_key, GatewayHarness::simpleChat("gpt-4o"), host));
  record(h_->chat(api_key, GatewayHarness::simpleChat("gpt-4o", "Hi", true), host));
  // An upstream refusal of the key on the request path, too.
  h_->upstream().push("/v1/chat/completions", testing::FakeBehaviour::withStatus(401));
  record(h_->chat(api_key, GatewayHarness::simpleChat("gpt-4o"), host));
  // Likewise an operator token.
  auto token_created = op.post("/admin/v1/tokens", R"({"name":"ci"})");
  ASSERT_EQ(token_created.status, 201);
  auto op_token = str(parseObject(token_created).at("token"));
  for (const char* path : {"/api/v1/credentials",
                           "/api/v1/keys",
                           "/api/v1/audit",
                           "/api/v1/usage?group_by=key",
                           "/api/v1/auth/me",
                           "/api/v1/routes"}) {
    record(c.get(path));
  }
  for (const char* path :
       {"/admin/v1/health", "/admin/v1/audit", "/admin/v1/tokens", "/admin/v1/tenants"}) {
    record(op.get(path));
  }
  record(op.get("/admin/v1/usage?group_by=tenant&format=csv"));
  auto metrics = op.get("/metrics");
  ASSERT_EQ(metrics.status, 200);

  // Positive control: the provider really received the planted key.
  bool used = false;
  for (const auto& r : h_->upstream().requests()) {
    used = used || r.header("authorization") == "Bearer " + std::string(kProviderKey);
  }
  EXPECT_TRUE(used);

  auto logs = h_->logs();
  for (std::string_view secret : {kProviderKey,
                                  kWrongProviderKey,
                                  kPassword,
                                  std::string_view(api_key),
                                  std::string_view(op_token)}) {
    for (const auto& response : seen_) {
      EXPECT_EQ(response.find(secret), std::string::npos) << secret << " in:\n" << response;
    }
    EXPECT_EQ(logs.find(secret), std::string::npos) << secret << " in the logs";
    EXPECT_EQ(metrics.body.find(secret), std::string::npos) << secret << " in /metrics";
    EXPECT_FALSE(testing::dataDirContains(*h_, secret)) << secret << " in the data directory";
  }
}

}  // namespace
}  // namespace livery
