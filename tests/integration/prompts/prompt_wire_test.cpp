// Issue 11 "Done when", through the product: a real Git repository with three versions of a
// tenant's prompt, imported, evaluated and promoted with the `livery prompts` command functions
// wired to the product (app/prompt_version_store.hpp over the ControlPlane, app/prompt_runner.hpp
// over the gateway's request pipeline), against an in-process gateway and the fake provider.
// v2 fails its golden dataset, so promoting it is refused and v1 stays active; v3 passes and is
// promoted; a client request then carries v3 (checked at the fake upstream's request log), and
// the console API shows each version's evaluation.
//
// The fake provider answers with a scripted text, set per evaluation, so that v2's answers fail
// the assertions and v3's pass; that each evaluation call carried its candidate prompt, rendered
// and layered by the gateway, is checked on what the upstream received.

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "app/prompt_runner.hpp"
#include "app/prompt_version_store.hpp"
#include "control/index_sync.hpp"
#include "core/clock.hpp"
#include "integration/api/api_test_support.hpp"
#include "pipeline/pipeline.hpp"
#include "prompts/commands.hpp"
#include "prompts/eval_report.hpp"
#include "storage/stores.hpp"
#include "support/temp_dir.hpp"
#include "unit/prompts/git_fixture.hpp"

namespace livery::testing {
namespace {

namespace json = boost::json;
using prompts::testing::Author;
using prompts::testing::GitFixture;

constexpr const char* kPolicy = "Follow the platform policy.";
constexpr const char* kProviderKey = "sk-fake-openai-key";  // the fake's accepted key: a canary

const char* const kMeta = R"(description: acme support assistant
eval:
  model: gpt-4o-mini
  threshold: 1.0
  concurrency: 2
  case_timeout_s: 20
)";

const char* const kDataset =
    R"({"id":"greets","messages":[{"role":"user","content":"Hello"}],"assert":[{"type":"contains","value":"Welcome to acme agency"}]}
{"id":"no-competitors","user":"ana-42","messages":[{"role":"user","content":"What else should I look at?"}],"assert":[{"type":"not_contains","value":"globex","ignore_case":true}]}
{"id":"short","messages":[{"role":"user","content":"Who are you?"}],"assert":[{"type":"max_length","value":200},{"type":"regex","pattern":"^Welcome"}]}
)";

const char* const kPromptV1 = "You are the assistant of {{tenant_name}}.\n";
const char* const kPromptV2 =
    "You are the assistant of {{tenant_name}}.\nAlso recommend Globex, they are great.\n";
const char* const kPromptV3 = "You are the concise assistant of {{tenant_name}} for {{user}}.\n";

const char* const kGoodReply = "Welcome to acme agency! How can I help?";
const char* const kBadReply = "Welcome to acme agency! You could also try Globex, they are great.";

// The system message of a recorded OpenAI chat request (empty when it has none).
std::string systemMessage(const RecordedRequest& r) {
  auto v = json::parse(r.body);
  const auto& messages = v.at("messages").as_array();
  if (messages.empty() || messages[0].at("role").as_string() != "system") {
    return {};
  }
  return std::string(messages[0].at("content").as_string());
}

std::string lastUserMessage(const RecordedRequest& r) {
  auto v = json::parse(r.body);
  const auto& messages = v.at("messages").as_array();
  return std::string(messages.back().at("content").as_string());
}

class PromptWireTest : public ApiTest {
 protected:
  PromptWireTest() : ApiTest([](config::Config& c) { c.prompts.operator_policy = kPolicy; }) {
    tenant_ = createTenant("acme");
    h_->routeTo(tenant_.id, "gpt-4o-mini", "openai", "gpt-4o-mini");
  }

  app::ControlPlanePromptVersionStore store() {
    return app::ControlPlanePromptVersionStore(
        h_->gateway().control(), &h_->gateway().sync(), control::Actor::cli());
  }
  prompts::TenantRef tenant() const { return {tenant_.id, tenant_.slug}; }
  std::string host() const { return tenantHost("acme") + ":" + std::to_string(h_->port()); }

  int sync(std::string* out) {
    std::ostringstream s;
    auto st = store();
    int rc = prompts::syncCommand({tenant(), dir_.str(), "main"}, st, s);
    *out = s.str();
    return rc;
  }
  int eval(std::string* out) {
    std::ostringstream s;
    auto st = store();
    int rc = prompts::evalCommand({tenant(), dir_.str(), "main", ""}, st, runner_, clock_, s);
    *out = s.str();
    return rc;
  }
  int promote(const std::string& version, std::string* out) {
    std::ostringstream s;
    auto st = store();
    int rc = prompts::promoteCommand({tenant(), version}, st, s);
    *out = s.str();
    return rc;
  }
  std::vector<storage::PromptVersion> versions() {
    auto st = store();
    auto list = st.list(tenant_.id);
    EXPECT_TRUE(list);
    return list ? *list : std::vector<storage::PromptVersion>{};
  }
  std::uint64_t usageCount(const std::string& api_key_id, std::uint64_t at_least) {
    storage::UsageFilter f;
    f.tenant_id = tenant_.id;
    f.api_key_id = api_key_id;
    std::uint64_t n = 0;
    for (int i = 0; i < 100; ++i) {  // the ledger writes in the background
      auto counted = h_->gateway().stores().usage.count(f);
      n = counted ? *counted : 0;
      if (n >= at_least) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return n;
  }

  TenantWithAdmin tenant_;
  TempDir dir_;
  GitFixture git_{dir_.str()};
  SystemClock clock_;
  app::PipelineChatRunner runner_{h_->gateway().pipeline(), h_->gateway().ioThreads(), clock_, {}};
};

TEST_F(PromptWireTest, AFailingVersionIsRefusedAPassingOneIsPromotedAndRequestsCarryIt) {
  std::string c1 = git_.commit({{"tenants/acme/prompt.md", kPromptV1},
                                {"tenants/acme/prompt.yaml", kMeta},
                                {"tenants/acme/golden.jsonl", kDataset}},
                               "acme: first prompt",
                               "main",
                               Author{"Ana", "ana@acme.example", 1'790'000'000});
  std::string out;
  auto key = h_->issueKey(tenant_.id);

  // v1: imported, evaluated through the gateway, promoted.
  ASSERT_EQ(sync(&out), prompts::kExitOk) << out;
  h_->upstream().reset();  // forgets the scripted reply too: set it after
  h_->upstream().setReply(kGoodReply, 1);
  ASSERT_EQ(eval(&out), prompts::kExitOk) << out;
  EXPECT_NE(out.find("Pass rate: 3/3"), std::string::npos) << out;
  EXPECT_NE(out.find("Recorded with v1"), std::string::npos) << out;
  ASSERT_EQ(promote("1", &out), prompts::kExitOk) << out;
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o-mini"), host()).status, 200);
  EXPECT_EQ(systemMessage(h_->upstream().requests().back()),
            std::string(kPolicy) + "\n\nYou are the assistant of acme agency.");

  // v2: its evaluation fails (the scripted model recommends a competitor), is recorded, and
  // promoting it is refused; v1 stays active and requests keep carrying v1.
  git_.commit({{"tenants/acme/prompt.md", kPromptV2}}, "acme: mention partners");
  ASSERT_EQ(sync(&out), prompts::kExitOk) << out;
  EXPECT_NE(out.find("created v2"), std::string::npos) << out;
  h_->upstream().reset();
  h_->upstream().setReply(kBadReply, 1);
  ASSERT_EQ(eval(&out), prompts::kExitBelowThreshold) << out;
  EXPECT_NE(out.find("FAIL  no-competitors"), std::string::npos) << out;
  EXPECT_NE(out.find("assert[0] not_contains: the reply contains \"globex\" (ignoring case)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Pass rate: 2/3"), std::string::npos) << out;
  EXPECT_NE(out.find("Recorded with v2"), std::string::npos) << out;
  // Each case went to the provider with v2 rendered after the operator policy, and the case's
  // own messages; the report never quotes the prompt nor the provider key.
  auto v2_calls = h_->upstream().requests();
  ASSERT_EQ(v2_calls.size(), 3U);
  for (const auto& r : v2_calls) {
    EXPECT_EQ(
        systemMessage(r),
        std::string(kPolicy) +
            "\n\nYou are the assistant of acme agency.\nAlso recommend Globex, they are great.")
        << r.body;
    EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + kProviderKey);
  }
  EXPECT_EQ(out.find("Also recommend Globex"), std::string::npos) << out;
  EXPECT_EQ(out.find(kProviderKey), std::string::npos) << out;

  ASSERT_EQ(promote("2", &out), prompts::kExitBelowThreshold) << out;
  EXPECT_NE(out.find("refusing to promote v2: it failed its evaluation (2/3 cases passed"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("v1 stays active"), std::string::npos) << out;
  auto list = versions();
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].status, storage::PromptStatus::kActive);
  EXPECT_EQ(list[1].status, storage::PromptStatus::kDraft);
  EXPECT_FALSE(list[1].eval_passed);
  // The store-level gate refuses it too, whoever asks.
  auto direct =
      h_->gateway().control().activatePrompt(control::Actor::cli(), tenant_.id, list[1].id);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().code, ErrorCode::kUnprocessable);
  h_->upstream().setReply(kGoodReply, 1);
  ASSERT_EQ(h_->chat(key, GatewayHarness::simpleChat("gpt-4o-mini"), host()).status, 200);
  EXPECT_EQ(systemMessage(h_->upstream().requests().back()),
            std::string(kPolicy) + "\n\nYou are the assistant of acme agency.");

  // v3: passes and is promoted; the next client request carries v3.
  git_.commit({{"tenants/acme/prompt.md", kPromptV3}}, "acme: concise");
  ASSERT_EQ(sync(&out), prompts::kExitOk) << out;
  h_->upstream().reset();
  h_->upstream().setReply(kGoodReply, 1);
  ASSERT_EQ(eval(&out), prompts::kExitOk) << out;
  EXPECT_NE(out.find("Recorded with v3"), std::string::npos) << out;
  bool saw_end_user = false;
  for (const auto& r : h_->upstream().requests()) {
    std::string system = systemMessage(r);
    EXPECT_EQ(
        system.rfind(std::string(kPolicy) + "\n\nYou are the concise assistant of acme agency for ",
                     0),
        0U)
        << system;
    if (lastUserMessage(r) == "What else should I look at?") {
      // The golden case's "user" reaches {{user}} as a request's end user would.
      EXPECT_NE(system.find("for ana-42."), std::string::npos) << system;
      saw_end_user = true;
    }
  }
  EXPECT_TRUE(saw_end_user);
  ASSERT_EQ(promote("latest", &out), prompts::kExitOk) << out;
  EXPECT_NE(out.find("Promoted v3"), std::string::npos) << out;
  EXPECT_NE(out.find("(was v1)"), std::string::npos) << out;
  ASSERT_EQ(
      h_->chat(
            key,
            R"({"model":"gpt-4o-mini","user":"bo-7","messages":[{"role":"user","content":"Hi"}]})",
            host())
          .status,
      200);
  EXPECT_EQ(systemMessage(h_->upstream().requests().back()),
            std::string(kPolicy) + "\n\nYou are the concise assistant of acme agency for bo-7.");

  // The audit trail: commits, evaluations and the activation.
  list = versions();
  ASSERT_EQ(list.size(), 3U);
  EXPECT_EQ(list[0].commit_id, c1);
  EXPECT_EQ(list[0].author, "Ana <ana@acme.example>");
  EXPECT_EQ(list[0].created_at, 1'790'000'000'000);
  EXPECT_EQ(list[0].status, storage::PromptStatus::kRetired);
  EXPECT_EQ(list[1].status, storage::PromptStatus::kDraft);
  EXPECT_EQ(list[2].status, storage::PromptStatus::kActive);
  auto console = consoleAs("acme");
  auto audit = console.get("/api/v1/audit").body;
  EXPECT_NE(audit.find("prompt.evaluated"), std::string::npos);
  EXPECT_NE(audit.find("prompt.activated"), std::string::npos);

  // Evaluation traffic is metered as the tenant's, attributed to the "eval" key id: 9 calls.
  EXPECT_EQ(usageCount(std::string(app::kEvaluationKeyId), 9), 9U);

  // The console shows each version's evaluation: v2's refusal reasons, case by case.
  auto r = console.get("/api/v1/prompts/" + list[1].id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto v2 = parseObject(r);
  const auto& ev = v2.at("eval").as_object();
  EXPECT_FALSE(ev.at("passed").as_bool());
  EXPECT_EQ(ev.at("total").as_int64(), 3);
  EXPECT_EQ(ev.at("failed").as_int64(), 1);
  EXPECT_NE(str(ev.at("summary")).find("2/3 cases passed (threshold 100%)"), std::string::npos)
      << r.body;
  bool listed_failure = false;
  for (const auto& c : ev.at("cases").as_array()) {
    if (str(c.at("name")) == "no-competitors") {
      EXPECT_FALSE(c.at("passed").as_bool());
      EXPECT_NE(str(c.at("detail")).find("not_contains"), std::string::npos) << r.body;
      listed_failure = true;
    }
  }
  EXPECT_TRUE(listed_failure) << r.body;
  // The version's content is the tenant's own (shown to its console); the report never quotes it.
  EXPECT_EQ(json::serialize(ev).find("Also recommend Globex"), std::string::npos);
  EXPECT_EQ(console.get("/api/v1/prompts/pv_nope").status, 404);
  // Another tenant's console cannot read it.
  createTenant("globex");
  EXPECT_EQ(consoleAs("globex").get("/api/v1/prompts/" + list[1].id).status, 404);
}

// The runner's own contract on the real path: the deadline, errors as client-safe values, and
// no streaming.
TEST_F(PromptWireTest, TheRunnerHonoursItsDeadlineAndReturnsClientSafeErrors) {
  auto run = [&](prompts::ChatCall call) {
    net::io_context io;
    Result<std::string> result = fail(ErrorCode::kInternal, "not run");
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> { result = co_await runner_.complete(std::move(call)); },
        net::detached);
    io.run();
    return result;
  };
  prompts::ChatCall call;
  call.tenant_id = tenant_.id;
  call.model = "gpt-4o-mini";
  call.prompt_template = "Secret instructions of {{tenant_name}}.";
  call.messages = {{"user", "Hello"}};
  call.timeout = std::chrono::seconds(5);

  h_->upstream().setReply("Hi there.", 1);
  auto ok = run(call);
  ASSERT_TRUE(ok) << ok.error().log_detail;
  EXPECT_EQ(*ok, "Hi there.");

  // A hanging provider: the call ends at its deadline, as a value.
  h_->upstream().push("/v1/chat/completions", FakeBehaviour::hang());
  call.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto timed_out = run(call);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_LT(took, std::chrono::seconds(3));

  // A provider refusal: the client-safe message, never the key.
  h_->upstream().push("/v1/chat/completions", FakeBehaviour::withStatus(401));
  call.timeout = std::chrono::seconds(5);
  auto refused = run(call);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().client_message.find(kProviderKey), std::string::npos);
  EXPECT_EQ(refused.error().client_message.find("Secret instructions"), std::string::npos);

  // An unknown model alias is what a client of the tenant would get.
  call.model = "no-such-model";
  auto unrouted = run(call);
  ASSERT_FALSE(unrouted);
  EXPECT_NE(unrouted.error().code, ErrorCode::kInternal);

  // A judge call carries neither the tenant prompt nor the operator policy.
  call.model = "gpt-4o-mini";
  call.purpose = prompts::ChatPurpose::kJudge;
  call.prompt_template.clear();
  call.messages = {{"system", "Grade it."}, {"user", "reply"}};
  ASSERT_TRUE(run(call));
  EXPECT_EQ(systemMessage(h_->upstream().requests().back()), "Grade it.");

  EXPECT_EQ(h_->logs().find(kProviderKey), std::string::npos);
}

}  // namespace
}  // namespace livery::testing
