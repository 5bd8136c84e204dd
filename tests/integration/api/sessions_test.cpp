// The session layer through the real gateway: cookie attributes, CSRF, logout, sign-in
// throttling and auditing, host binding, and /v1 requests authenticated by a session.
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "integration/api/api_test_support.hpp"
#include "storage/stores.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiTest;
using testing::kTestPassword;
using testing::parseObject;
using testing::str;

std::string setCookieOf(const testing::HttpResult& r) {
  return std::string(r.headers.get("set-cookie"));
}

std::string loginBody(const std::string& email, std::string_view password) {
  return json::serialize(json::object{{"email", email}, {"password", std::string(password)}});
}

class SessionsTest : public ApiTest {};

TEST_F(SessionsTest, ConsoleSignInSetsAHostOnlyHttpOnlyStrictCookie) {
  auto t = createTenant("acme");
  ApiClient c(*h_, tenantHost("acme"));
  auto r = c.signIn("/api/v1/auth/login", loginBody(t.admin_email, kTestPassword));
  ASSERT_EQ(r.status, 200) << r.body;
  auto cookie = setCookieOf(r);
  EXPECT_TRUE(cookie.starts_with("livery_session=lvr_sess_")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("; Max-Age=43200"), std::string::npos);
  EXPECT_EQ(cookie.find("Domain="), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);
  auto login = parseObject(r);
  EXPECT_EQ(str(login.at("user").at("email")), t.admin_email);
  EXPECT_EQ(login.at("user").as_object().count("password_hash"), 0u);

  auto me = c.get("/api/v1/auth/me");
  ASSERT_EQ(me.status, 200) << me.body;
  auto o = parseObject(me);
  EXPECT_EQ(str(o.at("tenant").at("id")), t.id);
  EXPECT_EQ(str(o.at("csrf_token")), str(login.at("csrf_token")));
  EXPECT_EQ(me.headers.get("cache-control"), "no-store");
  // The session token is stored only as a keyed hash: the cookie value is in no file of the
  // data directory and in no log line.
  auto token = cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  EXPECT_FALSE(testing::dataDirContains(*h_, token));
  EXPECT_EQ(h_->logs().find(token), std::string::npos);
}

class SecureCookieSessionsTest : public ApiTest {
 protected:
  SecureCookieSessionsTest()
      : ApiTest([](config::Config& c) { c.security.cookie_secure = true; }) {}
};

TEST_F(SecureCookieSessionsTest, SecureDeploymentsUseTheHostPrefixAndSecure) {
  auto t = createTenant("acme");
  ApiClient c(*h_, tenantHost("acme"));
  auto r = c.signIn("/api/v1/auth/login", loginBody(t.admin_email, kTestPassword));
  ASSERT_EQ(r.status, 200) << r.body;
  auto cookie = setCookieOf(r);
  EXPECT_TRUE(cookie.starts_with("__Host-livery_session=lvr_sess_")) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos);
  EXPECT_EQ(c.get("/api/v1/auth/me").status, 200);
}

TEST_F(SessionsTest, StateChangingRequestsNeedTheSessionsCsrfToken) {
  createTenant("acme");
  auto c = consoleAs("acme");
  std::string body = R"({"name":"ci"})";
  c.setSendCsrf(false);
  auto missing = c.post("/api/v1/keys", body);
  EXPECT_EQ(missing.status, 403) << missing.body;
  EXPECT_NE(missing.body.find("csrf_token_invalid"), std::string::npos);
  auto wrong = c.call("POST", "/api/v1/keys", body, {{"X-CSRF-Token", "0123456789abcdef"}});
  EXPECT_EQ(wrong.status, 403);
  // Reading needs no token; nothing was created by the refused calls.
  auto list = c.get("/api/v1/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(parseObject(list).at("data").as_array().empty());
  c.setSendCsrf(true);
  EXPECT_EQ(c.post("/api/v1/keys", body).status, 201);
}

TEST_F(SessionsTest, LogoutEndsTheSessionEvenForACopiedCookie) {
  createTenant("acme");
  auto c = consoleAs("acme");
  auto stolen = c.cookie();
  auto out = c.post("/api/v1/auth/logout");
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(setCookieOf(out).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(c.get("/api/v1/auth/me").status, 401);
  ApiClient replay(*h_, tenantHost("acme"));
  replay.setCookie(stolen);
  EXPECT_EQ(replay.get("/api/v1/auth/me").status, 401);
}

TEST_F(SessionsTest, RepeatedFailuresAreThrottledAndAuditedWithoutThePassword) {
  auto t = createTenant("acme");
  ApiClient c(*h_, tenantHost("acme"));
  const std::string wrong = "wrong-password-canary-7781";
  for (int i = 0; i < 5; ++i) {
    auto r = c.signIn("/api/v1/auth/login", loginBody(t.admin_email, wrong));
    ASSERT_EQ(r.status, 401) << r.body;
    EXPECT_NE(r.body.find("invalid_credentials"), std::string::npos);
  }
  // Now even the right password is refused until the window passes.
  auto blocked = c.signIn("/api/v1/auth/login", loginBody(t.admin_email, kTestPassword));
  EXPECT_EQ(blocked.status, 429) << blocked.body;
  EXPECT_FALSE(blocked.headers.get("retry-after").empty());
  EXPECT_EQ(c.cookie(), "");
  // Another account of the same tenant is not blocked by it.
  auto op = operatorClient();
  auto audit = op.get("/admin/v1/audit?tenant_id=" + t.id);
  ASSERT_EQ(audit.status, 200);
  int failures = 0;
  auto entries = parseObject(audit);
  for (const auto& e : entries.at("data").as_array()) {
    if (str(e.at("action")) == "auth.login_failed") {
      ++failures;
      EXPECT_EQ(str(e.at("details").at("email")), t.admin_email);
    }
  }
  EXPECT_EQ(failures, 5);
  EXPECT_EQ(audit.body.find(wrong), std::string::npos);
  EXPECT_EQ(h_->logs().find(wrong), std::string::npos);
  EXPECT_EQ(h_->logs().find(std::string(kTestPassword)), std::string::npos);
}

TEST_F(SessionsTest, AnAddressSprayingManyAccountsIsThrottled) {
  createTenant("acme");
  ApiClient c(*h_, tenantHost("acme"));
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = c.signIn("/api/v1/auth/login",
                      loginBody("nobody" + std::to_string(i) + "@acme.test", "not-the-password"));
    refused += r.status == 401 ? 1 : 0;
  }
  EXPECT_EQ(refused, 20);
  auto r = c.signIn("/api/v1/auth/login", loginBody("owner@acme.test", kTestPassword));
  EXPECT_EQ(r.status, 429);
}

TEST_F(SessionsTest, ASessionOfOneTenantIsRefusedOnAnotherTenantsHost) {
  createTenant("alpha");
  createTenant("bravo");
  auto a = consoleAs("alpha");
  ApiClient on_b(*h_, tenantHost("bravo"));
  on_b.setCookie(a.cookie());
  on_b.setCsrf(a.csrf());
  EXPECT_EQ(on_b.get("/api/v1/auth/me").status, 401);
  EXPECT_EQ(on_b.get("/api/v1/keys").status, 401);
  EXPECT_EQ(on_b.post("/api/v1/keys", R"({"name":"x"})").status, 401);
  // A tenant route on a host that maps to no tenant is a neutral 404.
  ApiClient nowhere(*h_, "unknown.localhost");
  nowhere.setCookie(a.cookie());
  EXPECT_EQ(nowhere.get("/api/v1/auth/me").status, 404);
}

TEST_F(SessionsTest, WorkspaceSessionsCallTheGatewayWithTheirCsrfToken) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto user = workspaceUser("acme", "ada@acme.test");
  auto body = testing::GatewayHarness::simpleChat("gpt-4o");
  auto ok = user.post("/v1/chat/completions", body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(h_->upstream().requestCount(), 1u);
  user.setSendCsrf(false);
  auto refused = user.post("/v1/chat/completions", body);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(h_->upstream().requestCount(), 1u);
  // A workspace session is not a console session.
  user.setSendCsrf(true);
  EXPECT_EQ(user.get("/api/v1/keys").status, 401);
  // The usage is attributed to the end user.
  auto rec = h_->gateway().stores().usage.get(t.id, std::string(ok.headers.get("x-request-id")));
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->end_user.starts_with("usr_")) << rec->end_user;
}

TEST_F(SessionsTest, DisablingAnAccountEndsItsSessionsAtOnce) {
  createTenant("acme");
  auto user = workspaceUser("acme", "ada@acme.test");
  ASSERT_EQ(user.get("/api/v1/workspace/me").status, 200);
  auto console = consoleAs("acme");
  auto users = parseObject(console.get("/api/v1/users")).at("data").as_array();
  ASSERT_EQ(users.size(), 1u);
  auto id = str(users[0].at("id"));
  auto r = console.patch("/api/v1/users/" + id, R"({"disabled":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(user.get("/api/v1/workspace/me").status, 401);
  // And the account cannot sign in again.
  ApiClient again(*h_, tenantHost("acme"));
  auto login = again.signIn("/api/v1/workspace/login", loginBody("ada@acme.test", kTestPassword));
  EXPECT_EQ(login.status, 401);
}

TEST_F(SessionsTest, OperatorSignsInWithATokenAndGetsASession) {
  ApiClient c(*h_, "localhost");
  auto bad = c.signIn("/admin/v1/auth/login", R"({"token":"lvr_op_nope"})");
  EXPECT_EQ(bad.status, 401);
  auto r =
      c.signIn("/admin/v1/auth/login", json::serialize(json::object{{"token", operator_token_}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(c.csrf().empty());
  auto me = c.get("/admin/v1/auth/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(str(parseObject(me).at("csrf_token")), c.csrf());
  EXPECT_EQ(c.get("/admin/v1/tenants").status, 200);
  c.setSendCsrf(false);
  EXPECT_EQ(c.post("/admin/v1/plans", R"({"id":"pro"})").status, 403);
  c.setSendCsrf(true);
  EXPECT_EQ(c.post("/admin/v1/plans", R"({"id":"pro"})").status, 201);
  // The operator token never appears in an answer or a log line.
  EXPECT_EQ(r.body.find(operator_token_), std::string::npos);
  EXPECT_EQ(h_->logs().find(operator_token_), std::string::npos);
  // An operator session is no tenant session.
  createTenant("acme");
  ApiClient on_tenant(*h_, tenantHost("acme"));
  on_tenant.setCookie(c.cookie());
  EXPECT_EQ(on_tenant.get("/api/v1/auth/me").status, 401);
}

}  // namespace
}  // namespace livery
