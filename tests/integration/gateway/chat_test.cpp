// The whole request path against a fake provider: authentication, tenant, limits, prompt,
// routing, key decryption and injection, translation, metering.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "storage/stores.hpp"
#include "support/gateway_harness.hpp"

namespace livery {
namespace {

using testing::GatewayHarness;

class ChatTest : public ::testing::Test {
 protected:
  GatewayHarness h;
};

TEST_F(ChatTest, AnswersANonStreamingChatWithTheTenantsOwnKey) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto key = h.issueKey(t.id);
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = boost::json::parse(r.body).as_object();
  EXPECT_EQ(j.at("object").as_string(), "chat.completion");
  EXPECT_NE(std::string(j.at("choices").as_array()[0].at("message").at("content").as_string())
                .find("fake upstream"),
            std::string::npos);
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "openai:gpt-4o");
  EXPECT_EQ(r.headers.get("x-livery-attempts"), "1");
  // The upstream saw the tenant's provider key, never Livery's own key.
  auto reqs = h.upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-fake-openai-key");
  EXPECT_EQ(reqs[0].body.find("lvr_"), std::string::npos);
  // And the usage is in the ledger (committed before the response was written).
  auto request_id = std::string(r.headers.get("x-request-id"));
  auto rec = h.gateway().stores().usage.get(t.id, request_id);
  ASSERT_TRUE(rec) << request_id;
  EXPECT_EQ(rec->status, 200);
  EXPECT_GT(rec->prompt_tokens, 0u);
  EXPECT_GT(rec->completion_tokens, 0u);
  EXPECT_EQ(rec->deployment, "openai:gpt-4o");
}

// log.level=debug adds a line per upstream attempt and per ledger batch; neither carries the
// tenant's provider key or the client's API key. At the default level neither appears.
TEST(ChatDebugLogTest, DebugLevelLogsAttemptsAndLedgerBatchesWithoutSecrets) {
  for (const std::string level : {"debug", "info"}) {
    GatewayHarness h([&](config::Config& c) { c.log.level = level; });
    auto t = h.createTenant("acme");
    h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
    auto key = h.issueKey(t.id);
    auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
    ASSERT_EQ(r.status, 200) << r.body;
    h.stop();
    const std::string logs = h.logs();
    const bool debug = level == "debug";
    EXPECT_EQ(logs.find(R"("event":"upstream_attempt")") != std::string::npos, debug) << level;
    EXPECT_EQ(logs.find(R"("event":"ledger_batch_committed")") != std::string::npos, debug)
        << level;
    EXPECT_EQ(logs.find("sk-fake-openai-key"), std::string::npos);
    EXPECT_EQ(logs.find(key), std::string::npos);
  }
}

TEST_F(ChatTest, StreamsServerSentEventsEndingWithDone) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto key = h.issueKey(t.id);
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o", "Hi", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.get("content-type").find("text/event-stream"), std::string::npos);
  EXPECT_NE(r.body.find("chat.completion.chunk"), std::string::npos);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  // Livery asked the upstream for usage, and removed the usage chunk the client did not ask for.
  auto reqs = h.upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].body.find("include_usage"), std::string::npos);
  EXPECT_EQ(r.body.find("\"usage\":{"), std::string::npos);
  auto rec = h.gateway().stores().usage.get(t.id, std::string(r.headers.get("x-request-id")));
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->streamed);
  EXPECT_GT(rec->completion_tokens, 0u);
}

TEST_F(ChatTest, TranslatesToAnthropicAndBack) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "claude", "anthropic", "claude-sonnet-4-20250514");
  auto key = h.issueKey(t.id);
  auto r = h.chat(key, GatewayHarness::simpleChat("claude"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("chat.completion"), std::string::npos);
  auto reqs = h.upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/messages");
  EXPECT_EQ(reqs[0].header("x-api-key"), "sk-ant-fake-anthropic-key");
  auto s = h.chat(key, GatewayHarness::simpleChat("claude", "Hi", true));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
}

TEST_F(ChatTest, RefusesMissingAndUnknownKeysWithOpenAiErrors) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto none = h.client().post("/v1/chat/completions",
                              GatewayHarness::simpleChat("gpt-4o"),
                              {{"Content-Type", "application/json"}});
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("invalid_api_key"), std::string::npos);
  auto wrong = h.chat("lvr_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      GatewayHarness::simpleChat("gpt-4o"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(h.upstream().requestCount(), 0u);
}

TEST_F(ChatTest, UnknownModelIs404AndNoUpstreamCall) {
  auto t = h.createTenant("acme");
  auto key = h.issueKey(t.id);
  auto r = h.chat(key, GatewayHarness::simpleChat("nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("model_not_found"), std::string::npos);
  EXPECT_EQ(h.upstream().requestCount(), 0u);
}

TEST_F(ChatTest, MockResponseAnswersWithoutAProvider) {
  auto t = h.createTenant("acme");
  auto key = h.issueKey(t.id);
  auto r = h.chat(key,
                  R"({"model":"anything","messages":[{"role":"user","content":"hi"}],)"
                  R"("mock_response":"canned answer"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("canned answer"), std::string::npos);
  EXPECT_EQ(h.upstream().requestCount(), 0u);
}

TEST_F(ChatTest, RevokedKeyIsRefusedOnTheNextRequest) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  control::KeySpec spec;
  spec.name = "k";
  auto issued = h.gateway().control().issueApiKey(control::Actor::cli(), t.id, spec);
  ASSERT_TRUE(issued);
  h.refresh();
  std::string key(issued->secret.reveal());
  EXPECT_EQ(h.chat(key, GatewayHarness::simpleChat("gpt-4o")).status, 200);
  ASSERT_TRUE(h.gateway().control().revokeApiKey(control::Actor::cli(), t.id, issued->record.id));
  h.refresh();
  EXPECT_EQ(h.chat(key, GatewayHarness::simpleChat("gpt-4o")).status, 401);
}

TEST_F(ChatTest, SuspendedTenantGets403) {
  auto t = h.createTenant("acme");
  h.routeTo(t.id, "gpt-4o", "openai", "gpt-4o");
  auto key = h.issueKey(t.id);
  ASSERT_TRUE(h.gateway().control().suspendTenant(control::Actor::cli(), t.id, "abuse"));
  h.refresh();
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("account_suspended"), std::string::npos);
  ASSERT_TRUE(h.gateway().control().resumeTenant(control::Actor::cli(), t.id));
  h.refresh();
  EXPECT_EQ(h.chat(key, GatewayHarness::simpleChat("gpt-4o")).status, 200);
}

}  // namespace
}  // namespace livery
