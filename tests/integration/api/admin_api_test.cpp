// The operator API (/admin/v1) through the real gateway: authentication and host rules, tenant
// lifecycle, plans, tokens, usage (JSON, CSV, live feed), alerts, audit, credential health,
// the KEK lifecycle, default routes, and the tenant resources under /admin/v1/tenants/{id}.
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

class AdminApiTest : public ApiTest {
 protected:
  // An API key of the tenant through the operator API.
  std::string issueKey(ApiClient& op, const std::string& tenant_id) {
    auto r = op.post("/admin/v1/tenants/" + tenant_id + "/keys", R"({"name":"k"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return str(parseObject(r).at("key"));
  }
};

TEST_F(AdminApiTest, NeedsAnOperatorTokenOnTheOperatorHost) {
  auto t = createTenant("acme");
  ApiClient anon(*h_, "localhost");
  EXPECT_EQ(anon.get("/admin/v1/tenants").status, 401);
  // A tenant's API key is not an operator token.
  auto op = operatorClient();
  auto key = issueKey(op, t.id);
  ApiClient with_key(*h_, "localhost");
  with_key.setBearer(key);
  EXPECT_EQ(with_key.get("/admin/v1/tenants").status, 401);
  // The operator surface is not served on a tenant's host, whatever the credentials.
  ApiClient on_tenant(*h_, tenantHost("acme"));
  on_tenant.setBearer(operator_token_);
  EXPECT_EQ(on_tenant.get("/admin/v1/tenants").status, 404);
  EXPECT_EQ(op.get("/admin/v1/tenants").status, 200);
}

TEST_F(AdminApiTest, CreatesSuspendsResumesAndDeletesTenants) {
  auto op = operatorClient();
  ASSERT_EQ(op.post("/admin/v1/plans", R"({"id":"pro","name":"Pro","rpm":100})").status, 201);
  auto created =
      op.post("/admin/v1/tenants", R"({"slug":"acme","display_name":"Acme","plan_id":"pro"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(parseObject(created).at("id"));
  EXPECT_EQ(op.post("/admin/v1/tenants", R"({"slug":"acme"})").status, 409);
  EXPECT_EQ(op.post("/admin/v1/tenants", R"({"slug":"Bad Slug"})").status, 400);
  EXPECT_EQ(op.post("/admin/v1/tenants", R"({"slug":"ok","diplay_name":"typo"})").status, 400);

  auto list = parseObject(op.get("/admin/v1/tenants"));
  ASSERT_EQ(list.at("data").as_array().size(), 1u);
  auto one = parseObject(op.get("/admin/v1/tenants/acme"));  // by slug too
  EXPECT_EQ(str(one.at("id")), id);
  EXPECT_TRUE(one.at("usage_month").is_null());

  auto patched = op.patch("/admin/v1/tenants/" + id,
                          R"({"display_name":"Acme Inc","overrides":{"rpm":6000}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(parseObject(patched).at("overrides").at("rpm").as_int64(), 6000);

  h_->routeTo(id, "gpt-4o", "openai", "gpt-4o");
  auto key = issueKey(op, id);
  auto host = tenantHost("acme") + ":" + std::to_string(h_->port());
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 200);
  auto usage = parseObject(op.get("/admin/v1/tenants/" + id)).at("usage_month");
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(usage.at("requests").to_number<std::uint64_t>(), 1u);

  auto suspended = op.post("/admin/v1/tenants/" + id + "/suspend", R"({"reason":"abuse"})");
  ASSERT_EQ(suspended.status, 200);
  EXPECT_EQ(str(parseObject(suspended).at("status")), "suspended");
  auto refused = h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("account_suspended"), std::string::npos);
  ASSERT_EQ(op.post("/admin/v1/tenants/" + id + "/resume").status, 200);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 200);

  EXPECT_EQ(op.del("/admin/v1/tenants/" + id).status, 204);
  EXPECT_EQ(op.get("/admin/v1/tenants/" + id).status, 404);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 401);
}

TEST_F(AdminApiTest, ManagesPlans) {
  auto op = operatorClient();
  auto created = op.post("/admin/v1/plans",
                         R"({"id":"pro","name":"Pro","monthly_token_quota":1000000,"rpm":60,)"
                         R"("tpm":100000,"max_api_keys":3,"features":["jwt"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  // What the operator console sends back: the object it read, edited.
  auto read = parseObject(op.get("/admin/v1/plans/pro"));
  read["rpm"] = 120;
  auto put = op.put("/admin/v1/plans/pro", json::serialize(read));
  ASSERT_EQ(put.status, 200) << put.body;
  auto p = parseObject(put);
  EXPECT_EQ(p.at("rpm").as_int64(), 120);
  EXPECT_EQ(p.at("monthly_token_quota").as_int64(), 1000000);  // untouched
  EXPECT_EQ(op.put("/admin/v1/plans/none", R"({"rpm":1})").status, 404);
  ASSERT_EQ(op.post("/admin/v1/tenants", R"({"slug":"acme","plan_id":"pro"})").status, 201);
  EXPECT_EQ(op.del("/admin/v1/plans/pro").status, 409);  // a tenant is on it
  EXPECT_EQ(parseObject(op.get("/admin/v1/plans")).at("data").as_array().size(), 1u);
}

TEST_F(AdminApiTest, IssuesAndRevokesOperatorTokens) {
  auto op = operatorClient();
  auto created = op.post("/admin/v1/tokens", R"({"name":"ci"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto o = parseObject(created);
  auto token = str(o.at("token"));
  EXPECT_TRUE(token.starts_with("lvr_op_"));
  auto list = op.get("/admin/v1/tokens");
  EXPECT_EQ(list.body.find(token), std::string::npos);  // shown once only
  ApiClient ci(*h_, "localhost");
  ci.setBearer(token);
  EXPECT_EQ(ci.get("/admin/v1/plans").status, 200);
  // A session opened with the token ends when the token is revoked.
  ApiClient console(*h_, "localhost");
  ASSERT_EQ(console.signIn("/admin/v1/auth/login", json::serialize(json::object{{"token", token}}))
                .status,
            200);
  ASSERT_EQ(op.del("/admin/v1/tokens/" + str(o.at("id"))).status, 204);
  EXPECT_EQ(ci.get("/admin/v1/plans").status, 401);
  EXPECT_EQ(console.get("/admin/v1/plans").status, 401);
}

TEST_F(AdminApiTest, ReportsUsageAsJsonAndCsv) {
  auto a = createTenant("alpha");
  auto b = createTenant("bravo");
  auto op = operatorClient();
  for (const auto* t : {&a, &b}) {
    h_->routeTo(t->id, "gpt-4o", "openai", "gpt-4o");
  }
  auto key_a = issueKey(op, a.id);
  auto key_b = issueKey(op, b.id);
  auto host = [&](const std::string& slug) {
    return tenantHost(slug) + ":" + std::to_string(h_->port());
  };
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(h_->chat(key_a, GatewayHarness::simpleChat("gpt-4o"), host("alpha")).status, 200);
  }
  ASSERT_EQ(h_->chat(key_b, GatewayHarness::simpleChat("gpt-4o"), host("bravo")).status, 200);

  auto by_tenant = parseObject(op.get("/admin/v1/usage?group_by=tenant"));
  std::map<std::string, std::uint64_t> requests;
  for (const auto& row : by_tenant.at("data").as_array()) {
    requests[str(row.at("key"))] = row.at("requests").to_number<std::uint64_t>();
    EXPECT_GT(row.at("prompt_tokens").to_number<std::uint64_t>(), 0u);
  }
  EXPECT_EQ(requests[a.id], 2u);
  EXPECT_EQ(requests[b.id], 1u);
  auto only_b = parseObject(op.get("/admin/v1/usage?group_by=model&tenant_id=" + b.id));
  ASSERT_EQ(only_b.at("data").as_array().size(), 1u);
  EXPECT_EQ(only_b.at("data").as_array()[0].at("requests").to_number<std::uint64_t>(), 1u);
  auto month = parseObject(op.get("/admin/v1/usage?group_by=month"));
  ASSERT_EQ(month.at("data").as_array().size(), 1u);
  EXPECT_EQ(month.at("data").as_array()[0].at("requests").to_number<std::uint64_t>(), 3u);

  auto csv = op.get("/admin/v1/usage?group_by=tenant&format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers.get("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.headers.get("content-disposition"),
            "attachment; filename=\"livery-usage-tenant.csv\"");
  EXPECT_TRUE(csv.body.starts_with("key,requests,prompt_tokens,completion_tokens,"));
  EXPECT_NE(csv.body.find(a.id + ",2,"), std::string::npos) << csv.body;
  EXPECT_EQ(op.get("/admin/v1/usage?group_by=weekday").status, 400);
  EXPECT_EQ(op.get("/admin/v1/usage?from=yesterday").status, 400);
  EXPECT_EQ(op.get("/admin/v1/usage?from=99999999999999999999").status, 400);
  EXPECT_EQ(op.get("/admin/v1/usage?from=-5").status, 400);
}

TEST_F(AdminApiTest, StreamsUsageEventsOfEveryTenant) {
  auto a = createTenant("alpha");
  h_->routeTo(a.id, "gpt-4o", "openai", "gpt-4o");
  auto op = operatorClient();
  auto key = issueKey(op, a.id);
  std::atomic<bool> open{false};
  std::mutex mu;
  std::string received;
  std::thread reader([&] {
    auto client = h_->client();
    client.stream(
        "GET",
        "/admin/v1/usage/events",
        {},
        {{"Host", "localhost:" + std::to_string(h_->port())},
         {"Authorization", "Bearer " + operator_token_}},
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
  auto r = h_->chat(key,
                    GatewayHarness::simpleChat("gpt-4o"),
                    tenantHost("alpha") + ":" + std::to_string(h_->port()));
  ASSERT_EQ(r.status, 200);
  reader.join();
  std::lock_guard lock(mu);
  EXPECT_NE(received.find(std::string(r.headers.get("x-request-id"))), std::string::npos)
      << received;
  EXPECT_NE(received.find(a.id), std::string::npos);
}

TEST_F(AdminApiTest, ListsAndAcknowledgesAlerts) {
  auto t = createTenant("acme");
  storage::Alert alert;
  alert.tenant_id = t.id;
  alert.kind = "usage_spike";
  alert.message = "10x the usual volume";
  auto stored = h_->gateway().stores().alerts.insert(alert);
  ASSERT_TRUE(stored);
  auto op = operatorClient();
  auto list = parseObject(op.get("/admin/v1/alerts"));
  ASSERT_EQ(list.at("data").as_array().size(), 1u);
  auto acked = op.post("/admin/v1/alerts/" + stored->id + "/ack");
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_FALSE(parseObject(acked).at("acknowledged_at").is_null());
  EXPECT_EQ(op.post("/admin/v1/alerts/alr_nope/ack").status, 404);
  auto open = parseObject(op.get("/admin/v1/alerts?unacknowledged=true"));
  EXPECT_TRUE(open.at("data").as_array().empty());
}

TEST_F(AdminApiTest, ShowsTheAuditLogNewestFirstAndVerifiesIt) {
  auto t = createTenant("acme");
  auto op = operatorClient();
  issueKey(op, t.id);
  auto all = parseObject(op.get("/admin/v1/audit?limit=2"));
  auto entries = all.at("data").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_GT(entries[0].at("seq").as_int64(), entries[1].at("seq").as_int64());
  EXPECT_EQ(str(entries[0].at("action")), "api_key.issued");
  auto older = parseObject(
      op.get("/admin/v1/audit?before=" + std::to_string(entries[1].at("seq").as_int64())));
  for (const auto& e : older.at("data").as_array()) {
    EXPECT_LT(e.at("seq").as_int64(), entries[1].at("seq").as_int64());
  }
  auto verified = parseObject(op.get("/admin/v1/audit/verify"));
  EXPECT_TRUE(verified.at("ok").as_bool());
  EXPECT_GT(verified.at("checked").as_int64(), 2);
}

TEST_F(AdminApiTest, HealthShowsFingerprintsNeverKeys) {
  auto t = createTenant("acme");
  auto cred = h_->addCredential(t.id, "openai", "sk-fake-openai-key");
  auto op = operatorClient();
  auto r = op.get("/admin/v1/health");
  ASSERT_EQ(r.status, 200);
  auto rows = parseObject(r).at("data").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(str(rows[0].at("fingerprint")), cred.fingerprint);
  EXPECT_EQ(str(rows[0].at("tenant")), "acme");
  EXPECT_EQ(r.body.find("sk-fake-openai-key"), std::string::npos);
}

TEST_F(AdminApiTest, RotatesAndRewrapsTheKekWhileRequestsKeepWorking) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto op = operatorClient();
  auto key = issueKey(op, t.id);
  auto host = tenantHost("acme") + ":" + std::to_string(h_->port());
  auto before = parseObject(op.get("/admin/v1/kms/status"));
  ASSERT_EQ(before.at("versions").as_array().size(), 1u);
  EXPECT_EQ(str(before.at("versions").as_array()[0].at("state")), "current");
  auto rotated = op.post("/admin/v1/kms/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_EQ(parseObject(rotated).at("version").as_int64(), 2);
  auto rewrapped = op.post("/admin/v1/kms/rewrap");
  ASSERT_EQ(rewrapped.status, 200) << rewrapped.body;
  auto o = parseObject(rewrapped);
  EXPECT_EQ(o.at("rewrapped").as_int64(), 1);
  EXPECT_EQ(o.at("remaining").as_int64(), 0);
  for (const auto& v : o.at("versions").as_array()) {
    if (v.at("version").as_int64() == 1) {
      EXPECT_EQ(v.at("rows").as_int64(), 0);
      EXPECT_EQ(str(v.at("state")), "retirable");
    }
  }
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 200);
  EXPECT_EQ(op.post("/admin/v1/kms/retire", R"({"version":1})").status, 200);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 200);
}

TEST_F(AdminApiTest, DefaultRoutesAreInheritedByEveryTenant) {
  auto t = createTenant("acme");
  auto op = operatorClient();
  EXPECT_EQ(
      op.put("/admin/v1/routes/gpt-4o",
             R"({"deployments":[{"provider":"openai","model":"gpt-4o","credential_id":"cred_x"}]})")
          .status,
      400);
  auto put = op.put("/admin/v1/routes/gpt-4o",
                    R"({"deployments":[{"provider":"openai","model":"gpt-4o"}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto console = consoleAs("acme");
  auto routes = parseObject(console.get("/api/v1/routes")).at("data").as_array();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_TRUE(routes[0].at("inherited").as_bool());
  EXPECT_EQ(str(routes[0].at("model")), "gpt-4o");
  EXPECT_EQ(op.del("/admin/v1/routes/gpt-4o").status, 204);
  EXPECT_TRUE(parseObject(console.get("/api/v1/routes")).at("data").as_array().empty());
  (void)t;
}

TEST_F(AdminApiTest, ActsOnAnyTenantsResourcesByIdOrSlug) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto op = operatorClient();
  auto key = issueKey(op, t.id);
  auto host = tenantHost("acme") + ":" + std::to_string(h_->port());
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 200);
  auto creds = parseObject(op.get("/admin/v1/tenants/acme/credentials"));
  ASSERT_EQ(creds.at("data").as_array().size(), 1u);
  auto keys = parseObject(op.get("/admin/v1/tenants/" + t.id + "/keys"));
  ASSERT_EQ(keys.at("data").as_array().size(), 1u);
  auto key_id = str(keys.at("data").as_array()[0].at("id"));
  EXPECT_EQ(op.del("/admin/v1/tenants/acme/keys/" + key_id).status, 204);
  EXPECT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o"), host).status, 401);
  EXPECT_EQ(op.get("/admin/v1/tenants/nope/keys").status, 404);
  // The operator's actions are audited under the operator's name.
  auto audit = parseObject(op.get("/admin/v1/tenants/acme/audit"));
  auto entries = audit.at("data").as_array();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(str(entries[0].at("action")), "api_key.revoked");
  EXPECT_TRUE(str(entries[0].at("actor")).starts_with("operator:opt_"));
}

}  // namespace
}  // namespace livery
