// The workspace API (/api/v1/workspace): end-user sign-in, JWT hand-off, models, and
// conversations that belong to one user.
#include <chrono>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "integration/api/api_test_support.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiTest;
using testing::kTestPassword;
using testing::parseObject;
using testing::str;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class WorkspaceApiTest : public ApiTest {};

TEST_F(WorkspaceApiTest, SignsInListsModelsAndSignsOut) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  h_->routeTo(t.id, "claude", "anthropic", "claude-sonnet-4-20250514");
  auto user = workspaceUser("acme", "ada@acme.test");
  auto me = parseObject(user.get("/api/v1/workspace/me"));
  EXPECT_EQ(str(me.at("user").at("email")), "ada@acme.test");
  EXPECT_EQ(str(me.at("csrf_token")), user.csrf());
  auto models = parseObject(user.get("/api/v1/workspace/models")).at("data").as_array();
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(str(models[0].at("id")), "claude");
  EXPECT_EQ(str(models[1].at("id")), "gpt-4o");
  // A console admin's credentials are not a workspace account.
  ApiClient wrong(*h_, tenantHost("acme"));
  EXPECT_EQ(wrong
                .signIn("/api/v1/workspace/login",
                        json::serialize(json::object{{"email", t.admin_email},
                                                     {"password", std::string(kTestPassword)}}))
                .status,
            401);
  EXPECT_EQ(user.post("/api/v1/workspace/logout").status, 204);
  EXPECT_EQ(user.get("/api/v1/workspace/me").status, 401);
}

TEST_F(WorkspaceApiTest, ConversationsBelongToTheirUserOnly) {
  createTenant("acme");
  auto ada = workspaceUser("acme", "ada@acme.test");
  auto bob = workspaceUser("acme", "bob@acme.test");
  auto created = ada.post(
      "/api/v1/workspace/conversations",
      R"({"title":"Plans","model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(parseObject(created).at("id"));
  EXPECT_EQ(parseObject(created).at("messages").as_array().size(), 2u);
  auto updated = ada.put("/api/v1/workspace/conversations/" + id,
                         R"({"messages":[{"role":"user","content":"again"}]})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(str(parseObject(updated).at("title")), "Plans");
  auto list = parseObject(ada.get("/api/v1/workspace/conversations")).at("data").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].as_object().count("messages"), 0u);  // listings carry no messages
  EXPECT_EQ(bob.get("/api/v1/workspace/conversations/" + id).status, 404);
  EXPECT_EQ(bob.put("/api/v1/workspace/conversations/" + id, R"({"title":"mine"})").status, 404);
  EXPECT_EQ(bob.del("/api/v1/workspace/conversations/" + id).status, 404);
  EXPECT_TRUE(
      parseObject(bob.get("/api/v1/workspace/conversations")).at("data").as_array().empty());
  EXPECT_EQ(
      ada.post("/api/v1/workspace/conversations", R"({"messages":[{"role":"root","content":"x"}]})")
          .status,
      400);
  EXPECT_EQ(ada.del("/api/v1/workspace/conversations/" + id).status, 204);
  EXPECT_EQ(ada.get("/api/v1/workspace/conversations/" + id).status, 404);
}

TEST_F(WorkspaceApiTest, AJwtFromTheTenantsAppStartsASessionForItsSubject) {
  auto t = createTenant("acme");
  h_->routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto console = consoleAs("acme");
  auto key = testing::TestSigningKey::ec();
  ASSERT_EQ(console
                .post("/api/v1/jwt-keys",
                      json::serialize(json::object{{"kid", "app-1"},
                                                   {"algorithm", "ES256"},
                                                   {"public_pem", key.publicPem()},
                                                   {"audience", "acme-workspace"}}))
                .status,
            201);
  auto claims = json::serialize(
      json::object{{"sub", "customer-42"}, {"aud", "acme-workspace"}, {"exp", nowSeconds() + 300}});
  auto token = key.sign(R"({"alg":"ES256","typ":"JWT","kid":"app-1"})", claims);
  ApiClient browser(*h_, tenantHost("acme"));
  auto r = browser.signIn("/api/v1/workspace/jwt", json::serialize(json::object{{"token", token}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto first = str(parseObject(r).at("user").at("id"));
  EXPECT_EQ(str(parseObject(r).at("user").at("display_name")), "customer-42");
  // The session chats like a password session.
  auto chat = browser.post("/v1/chat/completions", testing::GatewayHarness::simpleChat("gpt-4o"));
  EXPECT_EQ(chat.status, 200) << chat.body;
  // The same subject is the same account next time.
  ApiClient again(*h_, tenantHost("acme"));
  auto r2 = again.signIn("/api/v1/workspace/jwt", json::serialize(json::object{{"token", token}}));
  ASSERT_EQ(r2.status, 200);
  EXPECT_EQ(str(parseObject(r2).at("user").at("id")), first);
  // A forged or expired token is refused and audited.
  auto expired = key.sign(
      R"({"alg":"ES256","kid":"app-1"})",
      json::serialize(json::object{
          {"sub", "customer-42"}, {"aud", "acme-workspace"}, {"exp", nowSeconds() - 3600}}));
  ApiClient bad(*h_, tenantHost("acme"));
  EXPECT_EQ(
      bad.signIn("/api/v1/workspace/jwt", json::serialize(json::object{{"token", expired}})).status,
      401);
  EXPECT_EQ(bad.cookie(), "");
  EXPECT_NE(console.get("/api/v1/audit").body.find("auth.login_failed"), std::string::npos);
}

}  // namespace
}  // namespace livery
