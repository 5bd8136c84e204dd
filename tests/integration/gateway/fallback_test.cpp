// Routing across a tenant's deployments: fallback triggers, Retry-After, cooldowns, streams, and
// the mission's example (OpenAI 429 -> Anthropic timeout -> Ollama answers).
#include <thread>

#include <gtest/gtest.h>

#include "storage/stores.hpp"
#include "support/fake_clock.hpp"
#include "support/gateway_harness.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::FakeBehaviour;
using testing::FakeUpstream;
using testing::FakeUpstreamOptions;
using testing::GatewayHarness;

storage::Deployment dep(const storage::Credential& c,
                        std::string model,
                        int priority,
                        std::uint32_t max_context = 0) {
  storage::Deployment d;
  d.provider = c.provider;
  d.model = std::move(model);
  d.credential_id = c.id;
  d.priority = priority;
  d.max_context_tokens = max_context;
  return d;
}

// Three providers on three fake servers (OpenAI and Ollama share a path, so they need their own).
class FallbackTest : public ::testing::Test {
 protected:
  FallbackTest()
      : h([](config::Config& c) {
          c.upstream.first_byte_timeout = 700ms;
          c.routing.cooldown_failures = 100;  // cooldowns have their own test
        }),
        anthropic(),
        ollama(FakeUpstreamOptions{.flavour = FakeUpstreamOptions::Flavour::kOllama}) {
    tenant = h.createTenant("acme");
    openai_cred = h.addCredential(tenant.id, "openai", "sk-fake-openai-key", "prod-openai");
    anthropic_cred = h.addCredential(
        tenant.id, "anthropic", "sk-ant-fake-anthropic-key", "prod-anthropic", anthropic.baseUrl());
    ollama_cred = h.addCredential(tenant.id, "ollama", "unused", "local-llama", ollama.baseUrl());
    h.setRoute(tenant.id,
               "gpt-4o",
               {dep(openai_cred, "gpt-4o", 0),
                dep(anthropic_cred, "claude-sonnet-4-20250514", 1),
                dep(ollama_cred, "llama3.2:latest", 2)});
    key = h.issueKey(tenant.id);
  }

  GatewayHarness h;
  FakeUpstream anthropic;
  FakeUpstream ollama;
  storage::Tenant tenant;
  storage::Credential openai_cred;
  storage::Credential anthropic_cred;
  storage::Credential ollama_cred;
  std::string key;
};

TEST_F(FallbackTest, TheMissionExampleAnswersOnceFromTheLastDeployment) {
  h.upstream().push("*", FakeBehaviour::rateLimited(1));
  anthropic.push("*", FakeBehaviour::hang());
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("chat.completion"), std::string::npos);
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "ollama:llama3.2:latest");
  EXPECT_EQ(r.headers.get("x-livery-attempts"), "3");
  auto reason = std::string(r.headers.get("x-livery-fallback-reason"));
  EXPECT_NE(reason.find("openai:gpt-4o=429"), std::string::npos) << reason;
  EXPECT_NE(reason.find("timeout"), std::string::npos) << reason;
  // The usage record says the same.
  auto rec = h.gateway().stores().usage.get(tenant.id, std::string(r.headers.get("x-request-id")));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->attempts, 3u);
  EXPECT_EQ(rec->deployment, "ollama:llama3.2:latest");
  EXPECT_EQ(rec->fallback_reason, reason);
}

TEST_F(FallbackTest, TheMissionExampleStreams) {
  h.upstream().push("*", FakeBehaviour::rateLimited(1));
  anthropic.push("*", FakeBehaviour::hang());
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o", "Hi", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "ollama:llama3.2:latest");
}

TEST_F(FallbackTest, FallsBackOn5xxAndConnectionResets) {
  h.upstream().push("*", FakeBehaviour::serverError());
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "anthropic:claude-sonnet-4-20250514");
  h.upstream().push("*", FakeBehaviour::reset());
  r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "anthropic:claude-sonnet-4-20250514");
}

TEST_F(FallbackTest, NeverFallsBackOnABadRequest) {
  h.upstream().push("*", FakeBehaviour::invalidRequest());
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(anthropic.requestCount(), 0u);
  EXPECT_EQ(ollama.requestCount(), 0u);
}

TEST_F(FallbackTest, ARefusedCredentialIsNamedAndMarkedUnhealthy) {
  auto bad = h.addCredential(tenant.id, "openai", "sk-wrong-key-000000000000", "stale-openai");
  h.setRoute(tenant.id, "solo", {dep(bad, "gpt-4o", 0)});
  auto r = h.chat(key, GatewayHarness::simpleChat("solo"));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("stale-openai"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("sk-wrong-key"), std::string::npos);  // never the key itself
  // The console sees the refusal (applied off the I/O thread).
  for (int i = 0; i < 100; ++i) {
    auto c = h.gateway().stores().credentials.get(tenant.id, bad.id);
    if (c && c->health == storage::CredentialHealth::kRefused) {
      SUCCEED();
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "credential was not marked refused";
}

TEST_F(FallbackTest, ContextWindowErrorsMoveOnlyToALargerWindow) {
  h.setRoute(tenant.id,
             "ctx",
             {dep(openai_cred, "gpt-4o", 0, 8000),
              dep(anthropic_cred, "claude-sonnet-4-20250514", 1, 200000)});
  h.upstream().push("*", FakeBehaviour::contextLengthExceeded());
  auto r = h.chat(key, GatewayHarness::simpleChat("ctx"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("x-livery-deployment"), "anthropic:claude-sonnet-4-20250514");
  // Without a larger window the client gets the provider's context error.
  h.setRoute(tenant.id,
             "ctx2",
             {dep(openai_cred, "gpt-4o", 0, 8000), dep(ollama_cred, "llama3.2:latest", 1, 4000)});
  h.upstream().push("*", FakeBehaviour::contextLengthExceeded());
  auto r2 = h.chat(key, GatewayHarness::simpleChat("ctx2"));
  EXPECT_EQ(r2.status, 400) << r2.body;
  EXPECT_EQ(ollama.requestCount(), 0u);
}

TEST_F(FallbackTest, HonoursRetryAfterWhenOnlyOneDeploymentRemains) {
  h.setRoute(tenant.id, "one", {dep(openai_cred, "gpt-4o", 0)});
  h.upstream().push("*", FakeBehaviour::rateLimited(1));
  auto started = std::chrono::steady_clock::now();
  auto r = h.chat(key, GatewayHarness::simpleChat("one"));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(took, 950ms);  // waited for Retry-After: 1
  EXPECT_EQ(r.headers.get("x-livery-attempts"), "2");
  EXPECT_EQ(h.upstream().requestCount(), 2u);
}

TEST_F(FallbackTest, AStreamThatFailsAfterItsFirstByteEndsWithAnErrorEventAndIsMetered) {
  h.upstream().push("*", FakeBehaviour::failMidStream(2));
  auto r = h.chat(key, GatewayHarness::simpleChat("gpt-4o", "Hi", true));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(anthropic.requestCount(), 0u);  // no fallback after the first byte
  std::optional<storage::UsageRecord> rec;
  for (int i = 0; i < 100 && !rec; ++i) {
    auto got =
        h.gateway().stores().usage.get(tenant.id, std::string(r.headers.get("x-request-id")));
    if (got) {
      rec = *got;
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->outcome, "error");
  EXPECT_GT(rec->prompt_tokens, 0u);  // partial usage is still metered
}

TEST(CooldownTest, ACoolingDeploymentIsSkippedThenProbedAgain) {
  testing::FakeClock clock(std::chrono::system_clock::now());
  GatewayHarness h(
      [](config::Config& c) {
        c.routing.cooldown_failures = 2;
        c.routing.cooldown = 30s;
      },
      {},
      &clock);
  FakeUpstream second;
  auto t = h.createTenant("acme");
  auto a = h.addCredential(t.id, "openai", "sk-fake-openai-key", "a");
  auto b = h.addCredential(t.id, "openai", "sk-fake-openai-key", "b", second.baseUrl() + "/v1");
  h.setRoute(t.id, "m", {dep(a, "gpt-4o", 0), dep(b, "gpt-4o-mini", 1)});
  auto key = h.issueKey(t.id);
  h.upstream().setDefault("*", FakeBehaviour::serverError());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(h.chat(key, GatewayHarness::simpleChat("m")).status, 200);
  }
  auto before = h.upstream().requestCount();
  for (int i = 0; i < 5; ++i) {
    auto r = h.chat(key, GatewayHarness::simpleChat("m"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("x-livery-attempts"), "1");  // the cooling deployment is skipped
  }
  EXPECT_EQ(h.upstream().requestCount(), before);
  // After the cool-down one probe goes to the first deployment again (half-open); it has
  // recovered, so it closes and serves from then on.
  h.upstream().setDefault("*", FakeBehaviour{});
  clock.advance(31s);
  auto probe = h.chat(key, GatewayHarness::simpleChat("m"));
  ASSERT_EQ(probe.status, 200);
  EXPECT_EQ(probe.headers.get("x-livery-deployment"), "openai:gpt-4o");
  EXPECT_EQ(h.upstream().requestCount(), before + 1);
  auto next = h.chat(key, GatewayHarness::simpleChat("m"));
  EXPECT_EQ(next.headers.get("x-livery-deployment"), "openai:gpt-4o");
}

}  // namespace
}  // namespace livery
