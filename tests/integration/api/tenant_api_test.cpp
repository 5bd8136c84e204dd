// The tenant console API (/api/v1) through the real gateway: credentials validated against the
// fake provider, API keys, branding and assets, domains, routes, prompts, quota, webhook, audit,
// JWT keys, console admins (invitations) and workspace accounts.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "control/webhooks.hpp"
#include "integration/api/api_test_support.hpp"
#include "storage/stores.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiTest;
using testing::GatewayHarness;
using testing::kTestPassword;
using testing::parseObject;
using testing::str;

// An address the outbound guard allows but nothing listens on.
constexpr std::string_view kDeadUpstream = "127.0.0.1:9";

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/whitelabel/" + name,
                   std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TenantApiTest : public ApiTest {
 protected:
  TenantApiTest()
      : ApiTest([](config::Config& c) {
          c.upstream.allow_http_hosts.emplace_back(kDeadUpstream);
          c.upstream.allow_private_hosts.emplace_back(kDeadUpstream);
        }) {}

  std::string credentialBody(const std::string& key,
                             const std::string& base_url,
                             bool skip = false) {
    json::object o{{"provider", "openai"}, {"label", "Production"}, {"key", key}};
    o["base_url"] = base_url;
    if (skip) {
      o["skip_validation"] = true;
    }
    return json::serialize(o);
  }
  std::string fakeOpenAi() const { return h_->baseUrlFor("openai"); }
  std::string host(const std::string& slug) const {
    return tenantHost(slug) + ":" + std::to_string(h_->port());
  }
};

TEST_F(TenantApiTest, AValidKeyIsStoredWithItsFingerprintOnly) {
  createTenant("acme");
  auto c = consoleAs("acme");
  auto r = c.post("/api/v1/credentials", credentialBody("sk-fake-openai-key", fakeOpenAi()));
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = parseObject(r);
  EXPECT_TRUE(o.at("validation").at("ok").as_bool());
  EXPECT_EQ(str(o.at("validation").at("reason")), "ok");
  EXPECT_EQ(str(o.at("health")), "ok");
  EXPECT_EQ(str(o.at("fingerprint")), "sk-…-key");
  EXPECT_EQ(r.body.find("sk-fake-openai-key"), std::string::npos);
  // The provider saw exactly one authenticated models listing with the key.
  auto reqs = h_->upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/models");
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-fake-openai-key");
  auto list = c.get("/api/v1/credentials");
  EXPECT_EQ(parseObject(list).at("data").as_array().size(), 1u);
  EXPECT_EQ(list.body.find("sk-fake-openai-key"), std::string::npos);
}

TEST_F(TenantApiTest, AKeyTheProviderRefusesIsNotStored) {
  auto t = createTenant("acme");
  auto c = consoleAs("acme");
  auto r = c.post("/api/v1/credentials", credentialBody("sk-wrong-key-1234", fakeOpenAi()));
  ASSERT_EQ(r.status, 422) << r.body;
  auto o = parseObject(r);
  EXPECT_EQ(str(o.at("validation").at("reason")), "bad_key");
  EXPECT_EQ(str(o.at("error").at("code")), "bad_key");
  EXPECT_FALSE(o.at("validation").at("ok").as_bool());
  EXPECT_TRUE(parseObject(c.get("/api/v1/credentials")).at("data").as_array().empty());
  EXPECT_EQ(r.body.find("sk-wrong-key-1234"), std::string::npos);
  // Nothing stored means nothing audited as added.
  auto audit = c.get("/api/v1/audit");
  EXPECT_EQ(audit.body.find("credential.added"), std::string::npos);
  (void)t;
}

TEST_F(TenantApiTest, ValidationReportsPermissionAndReachabilityProblems) {
  createTenant("acme");
  auto c = consoleAs("acme");
  h_->upstream().push("/v1/models", testing::FakeBehaviour::withStatus(403));
  auto denied = c.post("/api/v1/credentials", credentialBody("sk-fake-openai-key", fakeOpenAi()));
  ASSERT_EQ(denied.status, 422) << denied.body;
  EXPECT_EQ(str(parseObject(denied).at("validation").at("reason")), "no_permission");

  auto dead =
      c.post("/api/v1/credentials",
             credentialBody("sk-fake-openai-key", "http://" + std::string(kDeadUpstream) + "/v1"));
  ASSERT_EQ(dead.status, 422) << dead.body;
  EXPECT_EQ(str(parseObject(dead).at("validation").at("reason")), "unreachable");

  // A base URL the outbound guard does not allow is refused when saved, before any connection.
  auto blocked = c.post("/api/v1/credentials",
                        credentialBody("sk-fake-openai-key", "http://169.254.169.254/v1"));
  ASSERT_EQ(blocked.status, 400) << blocked.body;
  EXPECT_EQ(str(parseObject(blocked).at("error").at("param")), "base_url");
  EXPECT_TRUE(parseObject(c.get("/api/v1/credentials")).at("data").as_array().empty());

  // Unless validation is skipped explicitly.
  auto skipped = c.post(
      "/api/v1/credentials",
      credentialBody("sk-fake-openai-key", "http://" + std::string(kDeadUpstream) + "/v1", true));
  ASSERT_EQ(skipped.status, 201) << skipped.body;
  EXPECT_TRUE(parseObject(skipped).at("validation").is_null());
  EXPECT_EQ(str(parseObject(skipped).at("health")), "unknown");
}

TEST_F(TenantApiTest, ReplacesRevalidatesAndDeletesCredentials) {
  auto t = createTenant("acme");
  auto c = consoleAs("acme");
  auto added = parseObject(
      c.post("/api/v1/credentials", credentialBody("sk-fake-openai-key", fakeOpenAi())));
  auto id = str(added.at("id"));
  auto route = json::serialize(
      json::object{{"deployments",
                    json::array{json::object{
                        {"provider", "openai"}, {"model", "gpt-4o"}, {"credential_id", id}}}}});
  ASSERT_EQ(c.put("/api/v1/routes/gpt-4o", route).status, 200);
  auto key = str(parseObject(c.post("/api/v1/keys", R"({"name":"app"})")).at("key"));
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);

  // A replacement the provider refuses leaves the stored key in place.
  auto bad = c.put("/api/v1/credentials/" + id, R"({"key":"sk-bad-replacement"})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  auto good = c.put("/api/v1/credentials/" + id, R"({"key":"sk-fake-openai-key"})");
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_TRUE(parseObject(good).at("validation").at("ok").as_bool());

  auto again = c.post("/api/v1/credentials/" + id + "/validate");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(parseObject(again).at("ok").as_bool());
  h_->upstream().push("/v1/models", testing::FakeBehaviour::withStatus(401));
  auto refused = parseObject(c.post("/api/v1/credentials/" + id + "/validate"));
  EXPECT_EQ(str(refused.at("reason")), "bad_key");
  auto listed = parseObject(c.get("/api/v1/credentials")).at("data").as_array();
  EXPECT_EQ(str(listed[0].at("health")), "refused");

  EXPECT_EQ(c.del("/api/v1/credentials/" + id).status, 204);
  EXPECT_TRUE(parseObject(c.get("/api/v1/credentials")).at("data").as_array().empty());
  auto audit = c.get("/api/v1/audit");
  for (const auto* action : {"credential.added", "credential.replaced", "credential.deleted"}) {
    EXPECT_NE(audit.body.find(action), std::string::npos) << action;
  }
  (void)t;
}

TEST_F(TenantApiTest, IssuesKeysOnceListsThemByLast4AndRevokesThem) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto c = consoleAs("acme");
  auto r = c.post(
      "/api/v1/keys",
      R"({"name":"app","environment":"test","scopes":["gpt-4o"],"limits":{"rpm":600},"end_user":"u-1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = parseObject(r);
  auto key = str(o.at("key"));
  EXPECT_TRUE(key.starts_with("lvr_test_"));
  EXPECT_EQ(str(o.at("last4")), key.substr(key.size() - 4));
  auto list = c.get("/api/v1/keys");
  EXPECT_EQ(list.body.find(key), std::string::npos);
  EXPECT_NE(list.body.find(str(o.at("last4"))), std::string::npos);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  EXPECT_EQ(c.post("/api/v1/keys", R"({"name":"x","scopes":["bad model!"]})").status, 400);
  EXPECT_EQ(c.post("/api/v1/keys", R"({"name":"x","expires_at":1})").status, 400);
  EXPECT_EQ(c.post("/api/v1/keys", R"({"nmae":"typo"})").status, 400);
  ASSERT_EQ(c.del("/api/v1/keys/" + str(o.at("id"))).status, 204);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 401);
  EXPECT_EQ(c.del("/api/v1/keys/key_unknown").status, 404);
}

TEST_F(TenantApiTest, BrandingIsValidatedAndAssetsAreContentAddressed) {
  auto t = createTenant("acme");
  auto c = consoleAs("acme");
  auto initial = parseObject(c.get("/api/v1/branding"));
  EXPECT_EQ(str(initial.at("display_name")), "acme agency");
  auto put =
      c.put("/api/v1/branding",
            R"({"display_name":"<b>Acme</b> AI","primary_color":"#ffcc00","footer_text":"Hi"})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto b = parseObject(put);
  EXPECT_EQ(str(b.at("primary_color")), "#ffcc00");
  EXPECT_EQ(str(b.at("text_on_primary")), "#000000");      // dark text on yellow
  EXPECT_EQ(str(b.at("display_name")), "<b>Acme</b> AI");  // stored as text, escaped when shown
  auto injected = c.put("/api/v1/branding", R"({"primary_color":"red;}body{x:y"})");
  EXPECT_EQ(injected.status, 422) << injected.body;

  auto png = fixture("python.png");
  ASSERT_FALSE(png.empty());
  auto logo = c.call("PUT", "/api/v1/branding/logo", png, {{"Content-Type", "image/png"}});
  ASSERT_EQ(logo.status, 200) << logo.body;
  auto url = str(parseObject(logo).at("logo_url"));
  EXPECT_TRUE(url.starts_with("/t/" + t.id + "/assets/")) << url;
  EXPECT_EQ(url.size(), std::string("/t/" + t.id + "/assets/").size() + 64);

  auto svg = c.call("PUT",
                    "/api/v1/branding/favicon",
                    fixture("script.svg"),
                    {{"Content-Type", "image/svg+xml"}});
  if (svg.status == 200) {
    EXPECT_TRUE(parseObject(svg).at("svg_modified").as_bool());
    auto stored = h_->gateway().stores().branding.get(t.id);
    ASSERT_TRUE(stored);
    auto asset = h_->gateway().stores().assets.get(t.id, stored->favicon_asset);
    ASSERT_TRUE(asset);
    EXPECT_EQ(asset->bytes.find("<script"), std::string::npos);
  } else {
    EXPECT_EQ(svg.status, 422) << svg.body;
  }
  auto gif = c.call(
      "PUT", "/api/v1/branding/logo", fixture("python.gif"), {{"Content-Type", "image/png"}});
  EXPECT_EQ(gif.status, 422);
  auto audit = c.get("/api/v1/audit");
  EXPECT_NE(audit.body.find("branding.asset_set"), std::string::npos);
}

TEST_F(TenantApiTest, DomainsStartPendingAndAreClaimedOnce) {
  createTenant("alpha");
  createTenant("bravo");
  auto a = consoleAs("alpha");
  auto r = a.post("/api/v1/domains", R"({"host":"Shop.Example.TEST."})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = parseObject(r);
  EXPECT_EQ(str(d.at("host")), "shop.example.test");
  EXPECT_EQ(str(d.at("status")), "pending");
  auto token = str(d.at("verification").at("token"));
  EXPECT_EQ(token.size(), 52u);
  EXPECT_EQ(str(d.at("verification").at("http_url")),
            "http://shop.example.test/.well-known/livery-challenge/" + token);
  EXPECT_EQ(str(d.at("verification").at("dns_txt_name")), "_livery-challenge.shop.example.test");
  EXPECT_EQ(a.post("/api/v1/domains", R"({"host":"10.0.0.1"})").status, 422);
  EXPECT_EQ(a.post("/api/v1/domains", R"({"host":"x.localhost"})").status, 422);
  auto b = consoleAs("bravo");
  EXPECT_EQ(b.post("/api/v1/domains", R"({"host":"shop.example.test"})").status, 409);
  // The check cannot find the token (the name does not resolve): still pending, with a reason.
  auto verify = a.post("/api/v1/domains/shop.example.test/verify");
  ASSERT_EQ(verify.status, 200) << verify.body;
  auto v = parseObject(verify);
  EXPECT_EQ(str(v.at("status")), "pending");
  EXPECT_FALSE(v.at("check").at("passed").as_bool());
  EXPECT_EQ(b.post("/api/v1/domains/shop.example.test/verify").status, 404);
  EXPECT_EQ(b.del("/api/v1/domains/shop.example.test").status, 404);
  EXPECT_EQ(a.del("/api/v1/domains/shop.example.test").status, 204);
  EXPECT_TRUE(parseObject(a.get("/api/v1/domains")).at("data").as_array().empty());
}

TEST_F(TenantApiTest, ADomainWhoseTxtRecordHoldsTheTokenGoesLiveForItsTenantOnly) {
  createTenant("alpha");
  createTenant("bravo");
  auto a = consoleAs("alpha");
  auto created = a.post("/api/v1/domains", R"({"host":"chat.alpha.test"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto token = str(parseObject(created).at("verification").at("token"));
  const std::string txt_name = "_livery-challenge.chat.alpha.test";
  auto on = [&](const std::string& host, const std::string& path) {
    return h_->client().get(path, {{"Host", host}});
  };
  EXPECT_EQ(on("chat.alpha.test", "/branding.json").status, 404) << "pending: not served";

  // Near misses prove nothing: the token inside a longer record, a truncated token, the TXT
  // record of another name.
  h_->setTxtRecords(txt_name, {"v=spf1 -all", "x" + token, token.substr(1)});
  h_->setTxtRecords("_livery-challenge.alpha.test", {token});
  auto miss = a.post("/api/v1/domains/chat.alpha.test/verify");
  ASSERT_EQ(miss.status, 200) << miss.body;
  auto m = parseObject(miss);
  EXPECT_EQ(str(m.at("status")), "pending");
  EXPECT_FALSE(m.at("check").at("passed").as_bool());
  EXPECT_EQ(on("chat.alpha.test", "/branding.json").status, 404);

  // The exact token, among other records, passes: verified and, with TLS terminated in front
  // of Livery, active at once.
  h_->setTxtRecords(txt_name, {"v=spf1 -all", token});
  auto pass = a.post("/api/v1/domains/chat.alpha.test/verify");
  ASSERT_EQ(pass.status, 200) << pass.body;
  auto v = parseObject(pass);
  EXPECT_EQ(str(v.at("status")), "active");
  EXPECT_TRUE(v.at("check").at("passed").as_bool());
  EXPECT_EQ(str(v.at("check").at("method")), "dns");
  EXPECT_NE(str(v.at("check").at("message")).find(txt_name), std::string::npos);
  auto listed = parseObject(a.get("/api/v1/domains")).at("data").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(str(listed[0].at("status")), "active");
  EXPECT_NE(a.get("/api/v1/audit").body.find("domain.status_changed"), std::string::npos);

  // The domain now serves alpha's brand, the same documents as alpha's own host, and nothing
  // of bravo's.
  auto served = on("chat.alpha.test", "/branding.json");
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.body, on(tenantHost("alpha"), "/branding.json").body);
  EXPECT_NE(served.body.find("alpha agency"), std::string::npos);
  EXPECT_EQ(served.body.find("bravo"), std::string::npos);

  // Checking again changes nothing; bravo can neither check nor remove it.
  auto again = parseObject(a.post("/api/v1/domains/chat.alpha.test/verify"));
  EXPECT_EQ(str(again.at("status")), "active");
  auto b = consoleAs("bravo");
  EXPECT_EQ(b.post("/api/v1/domains/chat.alpha.test/verify").status, 404);
  EXPECT_EQ(b.post("/api/v1/domains", R"({"host":"chat.alpha.test"})").status, 409);
  EXPECT_EQ(on("chat.alpha.test", "/branding.json").status, 200);

  // Removed: no longer served.
  EXPECT_EQ(a.del("/api/v1/domains/chat.alpha.test").status, 204);
  EXPECT_EQ(on("chat.alpha.test", "/branding.json").status, 404);
}

TEST_F(TenantApiTest, RoutesUseOnlyTheTenantsOwnCredentials) {
  auto a = createTenant("alpha");
  auto b = createTenant("bravo");
  auto cred_b = h_->addCredential(b.id, "openai", "sk-fake-openai-key");
  auto cred_a = h_->addCredential(a.id, "openai", "sk-fake-openai-key");
  auto c = consoleAs("alpha");
  auto body = [](const std::string& cred) {
    return json::serialize(
        json::object{{"deployments",
                      json::array{json::object{
                          {"provider", "openai"}, {"model", "gpt-4o"}, {"credential_id", cred}}}}});
  };
  EXPECT_EQ(c.put("/api/v1/routes/gpt-4o", body(cred_b.id)).status, 400);
  auto ok = c.put("/api/v1/routes/gpt-4o", body(cred_a.id));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(parseObject(ok).at("inherited").as_bool());
  auto routes = parseObject(c.get("/api/v1/routes")).at("data").as_array();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(c.del("/api/v1/routes/gpt-4o").status, 204);
  EXPECT_EQ(c.del("/api/v1/routes/gpt-4o").status, 404);
}

TEST_F(TenantApiTest, PromptVersionsActivateRollBackAndRespectTheEvaluationGate) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto c = consoleAs("acme");
  auto key = str(parseObject(c.post("/api/v1/keys", R"({"name":"app"})")).at("key"));
  auto v1 =
      parseObject(c.post("/api/v1/prompts", R"({"content":"You are prompt-one.","note":"first"})"));
  EXPECT_EQ(str(v1.at("status")), "draft");
  EXPECT_EQ(str(v1.at("author")), "owner@acme.test");
  auto v2 = parseObject(c.post("/api/v1/prompts", R"({"content":"You are prompt-two."})"));
  ASSERT_EQ(c.post("/api/v1/prompts/" + str(v1.at("id")) + "/activate").status, 200);
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  EXPECT_NE(h_->upstream().requests().back().body.find("prompt-one"), std::string::npos);
  ASSERT_EQ(c.post("/api/v1/prompts/" + str(v2.at("id")) + "/activate").status, 200);
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  EXPECT_NE(h_->upstream().requests().back().body.find("prompt-two"), std::string::npos);
  auto back = c.post("/api/v1/prompts/rollback");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(str(parseObject(back).at("id")), str(v1.at("id")));
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  EXPECT_NE(h_->upstream().requests().back().body.find("prompt-one"), std::string::npos);
  auto listed = parseObject(c.get("/api/v1/prompts"));
  EXPECT_EQ(str(listed.at("active_id")), str(v1.at("id")));

  // A version whose recorded evaluation failed cannot go live.
  auto v3 = parseObject(c.post("/api/v1/prompts", R"({"content":"You are prompt-three."})"));
  ASSERT_TRUE(h_->gateway().stores().prompts.recordEval(
      t.id, str(v3.at("id")), R"({"pass_rate":0.4})", false));
  auto refused = c.post("/api/v1/prompts/" + str(v3.at("id")) + "/activate");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("evaluation_failed"), std::string::npos);
  EXPECT_NE(c.get("/api/v1/audit").body.find("prompt.activated"), std::string::npos);
}

TEST_F(TenantApiTest, QuotaShowsTheMonthsUseAgainstThePlan) {
  auto op = operatorClient();
  ASSERT_EQ(
      op.post("/admin/v1/plans", R"({"id":"pro","monthly_token_quota":100000,"rpm":600})").status,
      201);
  ASSERT_EQ(op.post("/admin/v1/tenants",
                    json::serialize(json::object{{"slug", "acme"},
                                                 {"plan_id", "pro"},
                                                 {"admin_email", "owner@acme.test"},
                                                 {"admin_password", std::string(kTestPassword)}}))
                .status,
            201);
  auto c = consoleAs("acme");
  auto q = parseObject(c.get("/api/v1/quota"));
  EXPECT_EQ(q.at("limit").as_int64(), 100000);
  EXPECT_EQ(q.at("used").as_int64(), 0);
  EXPECT_EQ(q.at("remaining").as_int64(), 100000);
  EXPECT_EQ(q.at("rpm").as_int64(), 600);
  EXPECT_EQ(str(q.at("period")).size(), 7u);
  auto tenant = parseObject(c.get("/api/v1/auth/me")).at("tenant");
  h_->routeTo(str(tenant.at("id")), "gpt-4o", "openai", "gpt-4o");
  auto key = str(parseObject(c.post("/api/v1/keys", R"({"name":"app"})")).at("key"));
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  auto after = parseObject(c.get("/api/v1/quota"));
  EXPECT_GT(after.at("used").as_int64(), 0);
  EXPECT_EQ(after.at("reserved").as_int64(), 0);
  EXPECT_EQ(after.at("remaining").as_int64(), 100000 - after.at("used").as_int64());

  // While a request is in flight its estimate is reserved: shown, and not remaining.
  h_->upstream().push("*", testing::FakeBehaviour::delayHead(std::chrono::milliseconds(1500)));
  std::thread slow([&] {
    EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
  });
  std::int64_t reserved = 0;
  json::object during;
  for (int i = 0; i < 100 && reserved == 0; ++i) {
    during = parseObject(c.get("/api/v1/quota"));
    reserved = during.at("reserved").as_int64();
    if (reserved == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_GT(reserved, 0) << "the in-flight request's reservation is shown";
  EXPECT_EQ(during.at("used").as_int64(), after.at("used").as_int64());
  EXPECT_EQ(during.at("remaining").as_int64(), 100000 - after.at("used").as_int64() - reserved);
  slow.join();
  auto settled = parseObject(c.get("/api/v1/quota"));
  EXPECT_EQ(settled.at("reserved").as_int64(), 0);
  EXPECT_GT(settled.at("used").as_int64(), after.at("used").as_int64());
}

TEST_F(TenantApiTest, UsageCsvCellsCannotStartAFormula) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto c = consoleAs("acme");
  auto key = str(parseObject(c.post("/api/v1/keys", R"({"name":"app"})")).at("key"));
  auto body = json::serialize(
      json::object{{"model", "gpt-4o"},
                   {"user", "=HYPERLINK(\"http://evil\")"},
                   {"messages", json::array{json::object{{"role", "user"}, {"content", "hi"}}}}});
  ASSERT_EQ(h_->chat(key, body, host("acme")).status, 200);
  auto csv = c.get("/api/v1/usage?group_by=user&format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("\"'=HYPERLINK(\"\"http://evil\"\")\",1,"), std::string::npos)
      << csv.body;
  EXPECT_EQ(csv.body.find("\n=HYPERLINK"), std::string::npos);
}

TEST_F(TenantApiTest, WebhookUrlsAreGuardedAndTheSecretIsShownOnSave) {
  auto t = createTenant("acme");
  auto c = consoleAs("acme");
  EXPECT_EQ(c.put("/api/v1/webhook", R"({"url":"http://169.254.169.254/latest"})").status, 400);
  EXPECT_EQ(c.put("/api/v1/webhook", R"({"url":"ftp://example.com/x"})").status, 400);
  auto url = h_->upstream().baseUrl() + "/hooks/livery";
  auto r = c.put("/api/v1/webhook", json::serialize(json::object{{"url", url}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto secret = str(parseObject(r).at("secret"));
  EXPECT_TRUE(secret.starts_with("whsec_"));
  auto got = parseObject(c.get("/api/v1/webhook"));
  EXPECT_EQ(str(got.at("url")), url);
  EXPECT_EQ(c.get("/api/v1/webhook").body.find(secret), std::string::npos);
  EXPECT_EQ(c.del("/api/v1/webhook").status, 204);
  EXPECT_TRUE(parseObject(c.get("/api/v1/webhook")).at("url").is_null());
  (void)t;
}

TEST_F(TenantApiTest, RegistersJwtKeysOfEachKind) {
  auto t = createTenant("acme");
  auto c = consoleAs("acme");
  auto rsa = testing::TestSigningKey::rsa();
  auto pem = c.post("/api/v1/jwt-keys",
                    json::serialize(json::object{
                        {"kid", "rs-1"}, {"algorithm", "RS256"}, {"public_pem", rsa.publicPem()}}));
  ASSERT_EQ(pem.status, 201) << pem.body;
  EXPECT_EQ(c.post("/api/v1/jwt-keys",
                   R"({"kid":"bad","algorithm":"RS256","public_pem":"-----BEGIN PUBLIC KEY-----"})")
                .status,
            400);
  EXPECT_EQ(c.post("/api/v1/jwt-keys", R"({"kid":"n","algorithm":"none","secret":"x"})").status,
            400);
  const std::string secret = "hs256-secret-canary-0123456789abcdefXYZ";
  auto hs = c.post(
      "/api/v1/jwt-keys",
      json::serialize(json::object{{"kid", "hs-1"}, {"algorithm", "HS256"}, {"secret", secret}}));
  ASSERT_EQ(hs.status, 201) << hs.body;
  EXPECT_EQ(
      c.post("/api/v1/jwt-keys", R"({"kid":"short","algorithm":"HS256","secret":"short"})").status,
      400);
  auto list = c.get("/api/v1/jwt-keys");
  EXPECT_EQ(parseObject(list).at("data").as_array().size(), 2u);
  // The HS256 secret is sealed in the vault: never listed, never returned, not in the database.
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  EXPECT_EQ(hs.body.find(secret), std::string::npos);
  EXPECT_TRUE(parseObject(c.get("/api/v1/credentials")).at("data").as_array().empty());
  EXPECT_FALSE(testing::dataDirContains(*h_, secret));
  EXPECT_EQ(c.post("/api/v1/jwt-keys",
                   json::serialize(json::object{
                       {"kid", "rs-1"}, {"algorithm", "RS256"}, {"public_pem", rsa.publicPem()}}))
                .status,
            409);
  EXPECT_EQ(c.del("/api/v1/jwt-keys/" + str(parseObject(hs).at("id"))).status, 204);
  EXPECT_EQ(parseObject(c.get("/api/v1/jwt-keys")).at("data").as_array().size(), 1u);

  // A JWKS document: its keys verify tokens on /v1 by their own kid.
  auto rotated = testing::TestSigningKey::rsa();
  auto jwks = "{\"keys\":[" + rotated.rsaJwk("2024-11") + "]}";
  auto added =
      c.post("/api/v1/jwt-keys",
             json::serialize(json::object{
                 {"kid", "app-jwks"}, {"algorithm", "RS256"}, {"jwks", json::parse(jwks)}}));
  ASSERT_EQ(added.status, 201) << added.body;
  auto listed = parseObject(c.get("/api/v1/jwt-keys")).at("data").as_array();
  bool has_jwks = false;
  for (const auto& k : listed) {
    has_jwks = has_jwks || str(k.at("format")) == "jwks";
  }
  EXPECT_TRUE(has_jwks);
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             300;
  auto token = rotated.sign(R"({"alg":"RS256","kid":"2024-11"})",
                            json::serialize(json::object{{"sub", "u-9"}, {"exp", exp}}));
  EXPECT_EQ(h_->chat(token, GatewayHarness::simpleChat("gpt-4o"), host("acme")).status, 200);
}

TEST_F(TenantApiTest, InvitedAdminsChooseTheirPasswordOnce) {
  createTenant("acme");
  auto owner = consoleAs("acme");
  auto r = owner.post("/api/v1/admins", R"({"email":"viewer@acme.test","role":"viewer"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = parseObject(r);
  auto token = str(o.at("token"));
  EXPECT_NE(str(o.at("invite_url")).find("/console#/accept-invite?token="), std::string::npos);
  EXPECT_TRUE(str(o.at("invite_url")).starts_with("http://acme.localhost:"));
  // Before accepting, the account cannot sign in.
  ApiClient invited(*h_, tenantHost("acme"));
  EXPECT_EQ(invited
                .signIn("/api/v1/auth/login",
                        R"({"email":"viewer@acme.test","password":"anything-at-all"})")
                .status,
            401);
  auto accept = invited.signIn(
      "/api/v1/auth/accept-invite",
      json::serialize(json::object{
          {"token", token}, {"password", "viewer password 123"}, {"display_name", "Vera"}}));
  ASSERT_EQ(accept.status, 200) << accept.body;
  EXPECT_EQ(str(parseObject(invited.get("/api/v1/auth/me")).at("user").at("display_name")), "Vera");
  // A viewer reads but does not change.
  EXPECT_EQ(invited.get("/api/v1/keys").status, 200);
  EXPECT_EQ(invited.post("/api/v1/keys", R"({"name":"x"})").status, 403);
  // The invitation works once.
  ApiClient replay(*h_, tenantHost("acme"));
  EXPECT_EQ(replay
                .signIn("/api/v1/auth/accept-invite",
                        json::serialize(
                            json::object{{"token", token}, {"password", "another password 1"}}))
                .status,
            401);
  ApiClient login(*h_, tenantHost("acme"));
  EXPECT_EQ(login
                .signIn("/api/v1/auth/login",
                        R"({"email":"viewer@acme.test","password":"viewer password 123"})")
                .status,
            200);
  auto admins = parseObject(owner.get("/api/v1/admins")).at("data").as_array();
  EXPECT_EQ(admins.size(), 2u);
}

TEST_F(TenantApiTest, ManagesWorkspaceAccounts) {
  createTenant("acme");
  auto c = consoleAs("acme");
  EXPECT_EQ(c.post("/api/v1/users", R"({"email":"ada@acme.test","password":"short"})").status, 400);
  EXPECT_EQ(
      c.post("/api/v1/users", R"({"email":"not-an-email","password":"long enough pw"})").status,
      400);
  auto r = c.post("/api/v1/users",
                  R"({"email":"Ada@Acme.test","password":"long enough pw","display_name":"Ada"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto u = parseObject(r);
  EXPECT_EQ(str(u.at("email")), "ada@acme.test");
  EXPECT_EQ(str(u.at("kind")), "end_user");
  EXPECT_EQ(r.body.find("long enough pw"), std::string::npos);
  EXPECT_EQ(r.body.find("argon2"), std::string::npos);
  EXPECT_EQ(
      c.post("/api/v1/users", R"({"email":"ada@acme.test","password":"long enough pw"})").status,
      409);
  EXPECT_EQ(parseObject(c.get("/api/v1/users")).at("data").as_array().size(), 1u);
  EXPECT_EQ(c.del("/api/v1/users/" + str(u.at("id"))).status, 204);
  EXPECT_TRUE(parseObject(c.get("/api/v1/users")).at("data").as_array().empty());
}

}  // namespace
}  // namespace livery
