// Tenant isolation (issue 4): two fully set-up tenants, and every way one of them could reach the
// other's keys, JWTs, sessions, credentials, routes, prompts, branding, domains, accounts,
// conversations, usage, audit entries and alerts. Every cross-tenant attempt must fail, and the
// ones that would reach a provider must not make an upstream call. Then the JWT cases of issue 4
// through /v1.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "integration/api/api_test_support.hpp"
#include "storage/stores.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiTest;
using testing::GatewayHarness;
using testing::parseObject;
using testing::str;
using testing::TestSigningKey;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class IsolationTest : public ApiTest {
 protected:
  struct Side {
    std::string id;
    std::string slug;
    std::string key;
    std::string key_id;
    std::string credential_id;
    std::string prompt_id;
    std::string user_id;
    std::string conversation_id;
    std::string jwt_key_id;
    std::string alert_id;
    std::string domain;
    std::unique_ptr<ApiClient> console;
    std::unique_ptr<ApiClient> user;
    std::unique_ptr<TestSigningKey> jwt;
  };

  void SetUp() override {
    a_ = makeSide("alpha");
    b_ = makeSide("bravo");
    h_->upstream().reset();  // every count below starts at zero
  }

  Side makeSide(const std::string& slug) {
    Side s;
    s.slug = slug;
    s.id = createTenant(slug).id;
    s.console = std::make_unique<ApiClient>(consoleAs(slug));
    auto& c = *s.console;
    auto cred = c.post("/api/v1/credentials",
                       json::serialize(json::object{{"provider", "openai"},
                                                    {"key", "sk-fake-openai-key"},
                                                    {"base_url", h_->baseUrlFor("openai")}}));
    EXPECT_EQ(cred.status, 201) << cred.body;
    s.credential_id = str(parseObject(cred).at("id"));
    EXPECT_EQ(c.put("/api/v1/routes/gpt-4o", routeBody(s.credential_id)).status, 200);
    auto key = parseObject(c.post("/api/v1/keys", R"({"name":"app"})"));
    s.key = str(key.at("key"));
    s.key_id = str(key.at("id"));
    auto prompt = parseObject(
        c.post("/api/v1/prompts",
               json::serialize(json::object{{"content", "You are " + slug + "-bot."}})));
    s.prompt_id = str(prompt.at("id"));
    EXPECT_EQ(c.post("/api/v1/prompts/" + s.prompt_id + "/activate").status, 200);
    s.jwt = std::make_unique<TestSigningKey>(TestSigningKey::rsa());
    auto jwk = c.post("/api/v1/jwt-keys",
                      json::serialize(json::object{{"kid", slug + "-1"},
                                                   {"algorithm", "RS256"},
                                                   {"public_pem", s.jwt->publicPem()},
                                                   {"audience", slug}}));
    EXPECT_EQ(jwk.status, 201) << jwk.body;
    s.jwt_key_id = str(parseObject(jwk).at("id"));
    s.domain = slug + ".example.test";
    EXPECT_EQ(c.post("/api/v1/domains", json::serialize(json::object{{"host", s.domain}})).status,
              201);
    s.user = std::make_unique<ApiClient>(workspaceUser(slug, "user@" + slug + ".test"));
    s.user_id = str(parseObject(s.user->get("/api/v1/workspace/me")).at("user").at("id"));
    auto conv = s.user->post("/api/v1/workspace/conversations", R"({"title":"secret plans"})");
    s.conversation_id = str(parseObject(conv).at("id"));
    storage::Alert alert;
    alert.tenant_id = s.id;
    alert.kind = "usage_spike";
    alert.message = slug + " spiked";
    s.alert_id = h_->gateway().stores().alerts.insert(alert)->id;
    EXPECT_EQ(chat(s.key, s.slug).status, 200);
    return s;
  }

  static std::string routeBody(const std::string& credential_id) {
    return json::serialize(json::object{
        {"deployments",
         json::array{json::object{
             {"provider", "openai"}, {"model", "gpt-4o"}, {"credential_id", credential_id}}}}});
  }
  std::string hostOf(const std::string& slug) const {
    return tenantHost(slug) + ":" + std::to_string(h_->port());
  }
  testing::HttpResult chat(const std::string& bearer, const std::string& slug) {
    return h_->chat(bearer, GatewayHarness::simpleChat("gpt-4o"), hostOf(slug));
  }
  // A client on `slug`'s host carrying `from`'s cookie and CSRF token.
  ApiClient stolen(const ApiClient& from, const std::string& slug) {
    ApiClient c(*h_, tenantHost(slug));
    c.setCookie(from.cookie());
    c.setCsrf(from.csrf());
    return c;
  }
  std::string jwt(const Side& s,
                  const std::string& kid,
                  const std::string& audience,
                  std::int64_t exp_offset = 300) {
    auto header = json::serialize(json::object{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}});
    auto payload = json::serialize(
        json::object{{"sub", "end-user-7"}, {"aud", audience}, {"exp", nowSeconds() + exp_offset}});
    return s.jwt->sign(header, payload);
  }
  std::size_t upstreamCalls() const { return h_->upstream().requestCount(); }

  Side a_;
  Side b_;
};

// 1
TEST_F(IsolationTest, AnApiKeyOnAnotherTenantsHostIsRefusedBeforeAnyUpstreamCall) {
  auto r = chat(a_.key, b_.slug);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(upstreamCalls(), 0u);
  EXPECT_EQ(chat(a_.key, a_.slug).status, 200);  // the key itself works at home
}

// 2
TEST_F(IsolationTest, AJwtSignedForOneTenantIsRefusedOnTheOther) {
  auto token = jwt(a_, "alpha-1", "alpha");
  EXPECT_EQ(chat(token, a_.slug).status, 200);
  h_->upstream().reset();
  EXPECT_EQ(chat(token, b_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

// 3
TEST_F(IsolationTest, AConsoleSessionIsRefusedOnAnotherTenantsHost) {
  auto c = stolen(*a_.console, b_.slug);
  EXPECT_EQ(c.get("/api/v1/credentials").status, 401);
  EXPECT_EQ(c.get("/api/v1/auth/me").status, 401);
  EXPECT_EQ(c.post("/api/v1/keys", R"({"name":"pwned"})").status, 401);
  EXPECT_EQ(parseObject(b_.console->get("/api/v1/keys")).at("data").as_array().size(), 1u);
}

// 4
TEST_F(IsolationTest, AWorkspaceSessionIsRefusedOnAnotherTenantsHost) {
  auto c = stolen(*a_.user, b_.slug);
  EXPECT_EQ(c.post("/v1/chat/completions", GatewayHarness::simpleChat("gpt-4o")).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
  EXPECT_EQ(c.get("/api/v1/workspace/conversations").status, 401);
  EXPECT_EQ(c.get("/api/v1/workspace/conversations/" + b_.conversation_id).status, 401);
}

// 5
TEST_F(IsolationTest, AnAdminCannotRevokeAnotherTenantsKey) {
  EXPECT_EQ(a_.console->del("/api/v1/keys/" + b_.key_id).status, 404);
  EXPECT_EQ(chat(b_.key, b_.slug).status, 200);
  EXPECT_EQ(parseObject(a_.console->get("/api/v1/keys")).at("data").as_array().size(), 1u);
}

// 6
TEST_F(IsolationTest, AnAdminCannotReplaceValidateOrDeleteAnotherTenantsCredential) {
  auto path = "/api/v1/credentials/" + b_.credential_id;
  EXPECT_EQ(a_.console->put(path, R"({"key":"sk-fake-openai-key"})").status, 404);
  EXPECT_EQ(a_.console->post(path + "/validate").status, 404);
  EXPECT_EQ(a_.console->del(path).status, 404);
  EXPECT_EQ(upstreamCalls(), 0u);  // no validation call was made with B's key
  auto listed = parseObject(b_.console->get("/api/v1/credentials")).at("data").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(str(listed[0].at("id")), b_.credential_id);
  EXPECT_EQ(chat(b_.key, b_.slug).status, 200);
}

// 7
TEST_F(IsolationTest, AnAdminCannotRouteToAnotherTenantsCredential) {
  EXPECT_EQ(a_.console->put("/api/v1/routes/stolen", routeBody(b_.credential_id)).status, 400);
  auto routes = parseObject(a_.console->get("/api/v1/routes")).at("data").as_array();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(str(routes[0].at("model")), "gpt-4o");
}

// 8
TEST_F(IsolationTest, AnAdminCannotActivateAnotherTenantsPrompt) {
  EXPECT_EQ(a_.console->post("/api/v1/prompts/" + b_.prompt_id + "/activate").status, 404);
  EXPECT_EQ(chat(a_.key, a_.slug).status, 200);
  EXPECT_NE(h_->upstream().requests().back().body.find("alpha-bot"), std::string::npos);
  EXPECT_EQ(h_->upstream().requests().back().body.find("bravo-bot"), std::string::npos);
  auto listed = a_.console->get("/api/v1/prompts");
  EXPECT_EQ(listed.body.find(b_.prompt_id), std::string::npos);
}

// 9
TEST_F(IsolationTest, AnAdminCannotRemoveAnotherTenantsJwtKey) {
  EXPECT_EQ(a_.console->del("/api/v1/jwt-keys/" + b_.jwt_key_id).status, 404);
  EXPECT_EQ(parseObject(b_.console->get("/api/v1/jwt-keys")).at("data").as_array().size(), 1u);
}

// 10
TEST_F(IsolationTest, AnAdminCannotChangeOrRemoveAnotherTenantsAccounts) {
  EXPECT_EQ(a_.console->patch("/api/v1/users/" + b_.user_id, R"({"disabled":true})").status, 404);
  EXPECT_EQ(a_.console->del("/api/v1/users/" + b_.user_id).status, 404);
  EXPECT_EQ(b_.user->get("/api/v1/workspace/me").status, 200);
  auto users = a_.console->get("/api/v1/users");
  EXPECT_EQ(users.body.find(b_.user_id), std::string::npos);
}

// 11
TEST_F(IsolationTest, DomainsAreClaimedOnceAndManagedOnlyByTheirTenant) {
  EXPECT_EQ(a_.console->post("/api/v1/domains", json::serialize(json::object{{"host", b_.domain}}))
                .status,
            409);
  EXPECT_EQ(a_.console->post("/api/v1/domains/" + b_.domain + "/verify").status, 404);
  EXPECT_EQ(a_.console->del("/api/v1/domains/" + b_.domain).status, 404);
  EXPECT_EQ(parseObject(b_.console->get("/api/v1/domains")).at("data").as_array().size(), 1u);
}

// 12
TEST_F(IsolationTest, BrandingAndAssetsStayWithTheirTenant) {
  ASSERT_EQ(a_.console->put("/api/v1/branding", R"({"primary_color":"#ff0000"})").status, 200);
  auto b = parseObject(b_.console->get("/api/v1/branding"));
  EXPECT_EQ(str(b.at("primary_color")), "#2563eb");
  EXPECT_EQ(str(b.at("display_name")), "bravo agency");
  auto stored = h_->gateway().stores().branding.get(b_.id);
  EXPECT_TRUE(!stored || stored->primary_color != "#ff0000");
}

// 13
TEST_F(IsolationTest, UsageReadsShowOnlyTheTenantsOwnUsage) {
  auto by_key = a_.console->get("/api/v1/usage?group_by=key");
  ASSERT_EQ(by_key.status, 200);
  auto rows = parseObject(by_key).at("data").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(str(rows[0].at("key")), a_.key_id);
  // A tenant_id parameter does not widen a tenant's scope.
  auto other = a_.console->get("/api/v1/usage?group_by=key&tenant_id=" + b_.id);
  EXPECT_EQ(other.body.find(b_.key_id), std::string::npos);
  auto csv = a_.console->get("/api/v1/usage?group_by=key&format=csv");
  EXPECT_EQ(csv.body.find(b_.key_id), std::string::npos);
  EXPECT_NE(csv.body.find(a_.key_id), std::string::npos);
}

// 14
TEST_F(IsolationTest, TheLiveUsageFeedCarriesOnlyTheTenantsOwnEvents) {
  std::atomic<bool> open{false};
  std::mutex mu;
  std::string received;
  std::thread reader([&] {
    auto client = h_->client();
    client.stream(
        "GET",
        "/api/v1/usage/events",
        {},
        {{"Host", hostOf(a_.slug)}, {"Cookie", a_.console->cookie()}},
        [&](std::string_view data) {
          std::lock_guard lock(mu);
          received += data;
          open = true;
          return received.find("event: usage") == std::string::npos;
        },
        std::chrono::seconds(20));
  });
  for (int i = 0; i < 200 && !open; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(open);
  auto theirs = chat(b_.key, b_.slug);  // first: would be the first event if not filtered
  auto ours = chat(a_.key, a_.slug);
  ASSERT_EQ(theirs.status, 200);
  ASSERT_EQ(ours.status, 200);
  reader.join();
  std::lock_guard lock(mu);
  EXPECT_NE(received.find(std::string(ours.headers.get("x-request-id"))), std::string::npos);
  EXPECT_EQ(received.find(std::string(theirs.headers.get("x-request-id"))), std::string::npos);
  EXPECT_EQ(received.find(b_.id), std::string::npos);
}

// 15
TEST_F(IsolationTest, AuditReadsShowOnlyTheTenantsOwnEntries) {
  auto audit = a_.console->get("/api/v1/audit?limit=1000");
  ASSERT_EQ(audit.status, 200);
  auto entries = parseObject(audit).at("data").as_array();
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    EXPECT_EQ(str(e.at("tenant_id")), a_.id);
  }
  EXPECT_EQ(audit.body.find(b_.key_id), std::string::npos);
  EXPECT_EQ(audit.body.find(b_.credential_id), std::string::npos);
  auto widened = a_.console->get("/api/v1/audit?tenant_id=" + b_.id);
  EXPECT_EQ(widened.body.find(b_.id), std::string::npos);
}

// 16
TEST_F(IsolationTest, AlertsAreListedAndAcknowledgedOnlyByTheirTenant) {
  auto alerts = a_.console->get("/api/v1/alerts");
  EXPECT_NE(alerts.body.find(a_.alert_id), std::string::npos);
  EXPECT_EQ(alerts.body.find(b_.alert_id), std::string::npos);
  EXPECT_EQ(a_.console->post("/api/v1/alerts/" + b_.alert_id + "/ack").status, 404);
  auto b = parseObject(b_.console->get("/api/v1/alerts")).at("data").as_array();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(b[0].at("acknowledged_at").is_null());
}

// 17
TEST_F(IsolationTest, AUserCannotReachAnotherTenantsConversationById) {
  EXPECT_EQ(a_.user->get("/api/v1/workspace/conversations/" + b_.conversation_id).status, 404);
  EXPECT_EQ(
      a_.user
          ->put("/api/v1/workspace/conversations/" + b_.conversation_id, R"({"title":"mine now"})")
          .status,
      404);
  EXPECT_EQ(a_.user->del("/api/v1/workspace/conversations/" + b_.conversation_id).status, 404);
  auto theirs = b_.user->get("/api/v1/workspace/conversations/" + b_.conversation_id);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_EQ(str(parseObject(theirs).at("title")), "secret plans");
}

// 18
TEST_F(IsolationTest, TenantCredentialsGiveNoAccessToTheOperatorApi) {
  ApiClient with_cookie(*h_, "localhost");
  with_cookie.setCookie(a_.console->cookie());
  with_cookie.setCsrf(a_.console->csrf());
  EXPECT_EQ(with_cookie.get("/admin/v1/tenants/" + b_.id + "/keys").status, 401);
  EXPECT_EQ(with_cookie.post("/admin/v1/tenants/" + b_.id + "/keys", R"({"name":"x"})").status,
            401);
  ApiClient with_key(*h_, "localhost");
  with_key.setBearer(a_.key);
  EXPECT_EQ(with_key.get("/admin/v1/tenants").status, 401);
  // And on a tenant's host the operator surface does not exist at all.
  auto on_host = stolen(*a_.console, a_.slug);
  EXPECT_EQ(on_host.get("/admin/v1/tenants/" + b_.id + "/keys").status, 404);
}

// 19
TEST_F(IsolationTest, AnInvitationOnlyWorksOnItsTenantsHost) {
  auto invite = parseObject(a_.console->post("/api/v1/admins", R"({"email":"new@alpha.test"})"));
  auto token = str(invite.at("token"));
  ApiClient on_b(*h_, tenantHost(b_.slug));
  auto r = on_b.signIn(
      "/api/v1/auth/accept-invite",
      json::serialize(json::object{{"token", token}, {"password", "a long new password"}}));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(on_b.cookie(), "");
}

// ---- JWT cases of issue 4, through /v1 on alpha's host -----------------------------------------

TEST_F(IsolationTest, JwtWithAlgNoneIsRefused) {
  auto token = testing::unsignedJwt(
      R"({"alg":"none","kid":"alpha-1"})",
      json::serialize(json::object{{"sub", "x"}, {"aud", "alpha"}, {"exp", nowSeconds() + 300}}));
  EXPECT_EQ(chat(token, a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

TEST_F(IsolationTest, JwtHs256SignedWithTheTenantsRsaPublicKeyIsRefused) {
  auto token = testing::signHs256(
      a_.jwt->publicPem(),
      R"({"alg":"HS256","kid":"alpha-1"})",
      json::serialize(json::object{{"sub", "x"}, {"aud", "alpha"}, {"exp", nowSeconds() + 300}}));
  EXPECT_EQ(chat(token, a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

TEST_F(IsolationTest, ExpiredJwtIsRefused) {
  EXPECT_EQ(chat(jwt(a_, "alpha-1", "alpha", -3600), a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

TEST_F(IsolationTest, JwtForAnotherAudienceIsRefused) {
  EXPECT_EQ(chat(jwt(a_, "alpha-1", "bravo"), a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

TEST_F(IsolationTest, JwtWithAnUnknownKidIsRefused) {
  EXPECT_EQ(chat(jwt(a_, "alpha-9", "alpha"), a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
}

TEST_F(IsolationTest, JwtWithTheOtherTenantsKidIsRefused) {
  // Signed by bravo's key and naming bravo's kid, presented on alpha's host.
  EXPECT_EQ(chat(jwt(b_, "bravo-1", "alpha"), a_.slug).status, 401);
  // Bravo's kid with alpha's audience signed by alpha's key: the kid is looked up among alpha's
  // keys only.
  EXPECT_EQ(chat(jwt(a_, "bravo-1", "alpha"), a_.slug).status, 401);
  EXPECT_EQ(upstreamCalls(), 0u);
  EXPECT_EQ(chat(jwt(a_, "alpha-1", "alpha"), a_.slug).status, 200);  // control
}

}  // namespace
}  // namespace livery
