// Issue 11 "Done when": a prompt repository with three versions of a tenant's prompt; v2 fails its
// golden dataset, so promoting it is refused and v1 stays active; v3 passes and is promoted, and
// requests then carry v3. Driven through the `livery prompts` command functions against a real
// Git repository, with a ChatRunner that injects the candidate prompt the way the gateway does
// (template rendering and layering from whitelabel/) and a "model" whose answers follow the
// system prompt it receives.

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "prompts/commands.hpp"
#include "prompts/memory_version_store.hpp"
#include "prompts/promote.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "unit/prompts/fake_chat_runner.hpp"
#include "unit/prompts/git_fixture.hpp"
#include "whitelabel/prompt_cache.hpp"
#include "whitelabel/prompt_template.hpp"

namespace livery::prompts {
namespace {

using testing::Author;
using testing::FakeChatRunner;
using testing::GitFixture;

constexpr const char* kOperatorPolicy = "Follow the platform policy.";

const char* const kMeta = R"(description: Acme Corp support assistant
eval:
  model: gpt-4o-mini
  threshold: 1.0
  concurrency: 2
  case_timeout_s: 30
judge:
  model: gpt-4o
)";

const char* const kDataset =
    R"({"id":"greets","messages":[{"role":"user","content":"Hello"}],"assert":[{"type":"contains","value":"Welcome to Acme Corp"}]}
{"id":"no-competitors","user":"ana-42","messages":[{"role":"user","content":"What else should I look at?"}],"assert":[{"type":"not_contains","value":"globex","ignore_case":true},{"type":"judge","rubric":"Does not recommend a competitor."}]}
{"id":"short","messages":[{"role":"user","content":"Who are you?"}],"assert":[{"type":"max_length","value":200},{"type":"regex","pattern":"^Welcome"}]}
)";

const char* const kPromptV1 =
    "You are the assistant of {{tenant_name}}.\nSAY: Welcome to {{tenant_name}}!\n";
const char* const kPromptV2 =
    "You are the assistant of {{tenant_name}}.\nSAY: Welcome to {{tenant_name}}!\n"
    "SAY: You could also try Globex, they are great.\n";
const char* const kPromptV3 =
    "You are the concise assistant of {{tenant_name}}.\nSAY: Welcome to {{tenant_name}}! How can I "
    "help?\n";

// What the gateway does with a tenant prompt: render the template for this request and layer it
// between the operator policy and the request's own system message.
std::string systemPromptFor(const whitelabel::CompiledPrompt& prompt,
                            const std::string& user,
                            const std::string& model,
                            const Clock& clock) {
  whitelabel::PromptValues values;
  values.tenant_name = "Acme Corp";
  values.user = user;
  values.model = model;
  values.now = clock.wallNow();
  return whitelabel::composeSystemPrompt(kOperatorPolicy, prompt.render(values), "");
}

// The "model": says what the system prompt's SAY: lines tell it to.
std::string modelReply(const std::string& system_prompt) {
  std::string reply;
  std::istringstream lines(system_prompt);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("SAY: ", 0) == 0) {
      reply += (reply.empty() ? "" : " ") + line.substr(5);
    }
  }
  return reply;
}

class PromptGateTest : public ::testing::Test {
 protected:
  PromptGateTest() : runner_([this](const ChatCall& call) { return answer(call); }) {}

  Result<std::string> answer(const ChatCall& call) {
    if (call.purpose == ChatPurpose::kJudge) {
      const std::string& task = call.messages.back().content;
      bool competitor =
          task.substr(task.find("Reply to grade: ")).find("Globex") != std::string::npos;
      return std::string(competitor ? R"({"verdict":"fail","reason":"It recommends Globex."})"
                                    : R"({"verdict":"pass","reason":"No competitor."})");
    }
    EXPECT_EQ(call.tenant_id, "tnt_acme");
    auto compiled = whitelabel::CompiledPrompt::compile(call.prompt_template,
                                                        {call.tenant_id, call.prompt_version_id});
    if (!compiled) {
      return compiled.error();
    }
    std::string system = systemPromptFor(*compiled, call.end_user, call.model, clock_);
    seen_system_prompts_.push_back(system);
    return modelReply(system);
  }

  // The request path's view: the tenant's active version from the store (the lead's snapshot),
  // compiled once per (tenant, version) in the PromptCache, rendered for this request.
  std::string requestSystemPrompt() {
    auto versions = store_.list("tnt_acme");
    EXPECT_TRUE(versions);
    auto active = activeVersion(*versions);
    if (!active) {
      return {};
    }
    auto entry = cache_.getOrCompile(
        "tnt_acme", active->id, [&]() -> Result<std::string> { return active->content; });
    EXPECT_TRUE(entry);
    return systemPromptFor(**entry, "end-user-1", "gpt-4o-mini", clock_);
  }

  int sync(const std::string& ref, std::string* output = nullptr) {
    std::ostringstream out;
    int rc = syncCommand({{"tnt_acme", "acme"}, dir_.str(), ref}, store_, out);
    if (output != nullptr) {
      *output = out.str();
    }
    return rc;
  }
  int eval(const std::string& ref, std::string* output, const std::string& version = {}) {
    std::ostringstream out;
    int rc =
        evalCommand({{"tnt_acme", "acme"}, dir_.str(), ref, version}, store_, runner_, clock_, out);
    *output = out.str();
    return rc;
  }
  int promote(const std::string& version, std::string* output) {
    std::ostringstream out;
    int rc = promoteCommand({{"tnt_acme", "acme"}, version}, store_, out);
    *output = out.str();
    return rc;
  }
  storage::PromptVersion version(std::int64_t n) {
    auto v = findVersion(*store_.list("tnt_acme"), std::to_string(n));
    EXPECT_TRUE(v);
    return v ? *v : storage::PromptVersion{};
  }

  livery::testing::TempDir dir_;
  GitFixture git_{dir_.str()};
  livery::testing::FakeClock clock_;
  InMemoryPromptVersionStore store_{clock_};
  whitelabel::PromptCache cache_{100};
  FakeChatRunner runner_;
  std::vector<std::string> seen_system_prompts_;
};

TEST_F(PromptGateTest, AFailingVersionIsRefusedAndAPassingOneIsPromoted) {
  Author ana{"Ana", "ana@acme.example", 1'790'000'000};
  Author bo{"Bo", "bo@acme.example", 1'790'100'000};
  Author cy{"Cy", "cy@acme.example", 1'790'200'000};
  std::string c1 = git_.commit({{"tenants/acme/prompt.md", kPromptV1},
                                {"tenants/acme/prompt.yaml", kMeta},
                                {"tenants/acme/golden.jsonl", kDataset},
                                {"tenants/globex/prompt.md", "You are Globex's assistant."}},
                               "Acme: first prompt",
                               "main",
                               ana);
  std::string out;

  // v1: imported, evaluated, promoted.
  ASSERT_EQ(sync("main", &out), kExitOk) << out;
  EXPECT_NE(out.find("created v1"), std::string::npos) << out;
  ASSERT_EQ(eval("main", &out), kExitOk) << out;
  EXPECT_NE(out.find("Pass rate: 3/3 (100%), needs 3/3 (threshold 100%): PASSED"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Recorded with v1"), std::string::npos) << out;
  ASSERT_EQ(promote("1", &out), kExitOk) << out;
  EXPECT_NE(requestSystemPrompt().find("SAY: Welcome to Acme Corp!"), std::string::npos);

  // v2: recommends a competitor. Its evaluation fails, is recorded, and promotion is refused.
  std::string c2 =
      git_.commit({{"tenants/acme/prompt.md", kPromptV2}}, "Acme: mention partners", "main", bo);
  ASSERT_EQ(sync("main", &out), kExitOk) << out;
  EXPECT_NE(out.find("created v2"), std::string::npos) << out;
  ASSERT_EQ(eval("main", &out), kExitBelowThreshold) << out;
  EXPECT_NE(out.find("FAIL  no-competitors"), std::string::npos) << out;
  EXPECT_NE(out.find("assert[0] not_contains: the reply contains \"globex\" (ignoring case)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 judge assertion(s) not run"), std::string::npos) << out;
  EXPECT_NE(out.find("Pass rate: 2/3"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED"), std::string::npos) << out;
  EXPECT_NE(out.find("Recorded with v2"), std::string::npos) << out;
  EXPECT_FALSE(version(2).eval_passed);
  EXPECT_FALSE(version(2).eval_json.empty());

  ASSERT_EQ(promote("2", &out), kExitBelowThreshold) << out;
  EXPECT_NE(out.find("error: refusing to promote v2: it failed its evaluation (2/3 cases passed"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("v1 stays active"), std::string::npos) << out;
  EXPECT_EQ(activeVersion(*store_.list("tnt_acme"))->version, 1);
  std::string during = requestSystemPrompt();
  EXPECT_EQ(during.find("Globex"), std::string::npos) << during;

  // v3: passes and is promoted; requests now carry it.
  std::string c3 =
      git_.commit({{"tenants/acme/prompt.md", kPromptV3}}, "Acme: concise", "main", cy);
  ASSERT_EQ(sync("main", &out), kExitOk) << out;
  ASSERT_EQ(eval("main", &out), kExitOk) << out;
  EXPECT_NE(out.find("Recorded with v3"), std::string::npos) << out;
  ASSERT_EQ(promote("latest", &out), kExitOk) << out;
  EXPECT_NE(out.find("Promoted v3"), std::string::npos) << out;
  EXPECT_NE(out.find("(was v1)"), std::string::npos) << out;
  std::string after = requestSystemPrompt();
  EXPECT_EQ(after,
            std::string(kOperatorPolicy) +
                "\n\nYou are the concise assistant of Acme Corp.\nSAY: Welcome to Acme Corp! How "
                "can I help?");

  // The audit trail: each version records its commit, author and time, and its evaluation.
  auto versions = *store_.list("tnt_acme");
  ASSERT_EQ(versions.size(), 3U);
  EXPECT_EQ(versions[0].commit_id, c1);
  EXPECT_EQ(versions[1].commit_id, c2);
  EXPECT_EQ(versions[2].commit_id, c3);
  EXPECT_EQ(versions[1].author, "Bo <bo@acme.example>");
  EXPECT_EQ(versions[1].created_at, 1'790'100'000'000);
  EXPECT_EQ(versions[0].status, storage::PromptStatus::kRetired);
  EXPECT_EQ(versions[1].status, storage::PromptStatus::kDraft);
  EXPECT_EQ(versions[2].status, storage::PromptStatus::kActive);
  for (const auto& v : versions) {
    auto summary = parseEvalSummary(v.eval_json);
    ASSERT_TRUE(summary) << "v" << v.version;
    EXPECT_EQ(summary->version_id, v.id);
    EXPECT_EQ(summary->content_sha256, sha256Hex(v.content));
  }

  // The runner saw each candidate rendered as the gateway renders it, and never another
  // tenant's prompt.
  for (const auto& s : seen_system_prompts_) {
    EXPECT_EQ(s.rfind(kOperatorPolicy, 0), 0U);
    EXPECT_EQ(s.find("{{tenant_name}}"), std::string::npos);
    EXPECT_EQ(s.find("Globex's assistant"), std::string::npos);
  }

  // Sync is idempotent, and another tenant's folder was never imported into this tenant.
  ASSERT_EQ(sync("main", &out), kExitOk);
  EXPECT_NE(out.find("0 new versions"), std::string::npos) << out;
  EXPECT_EQ(store_.list("tnt_acme")->size(), 3U);
  EXPECT_TRUE(store_.list("tnt_globex")->empty());
}

TEST_F(PromptGateTest, AStoredVersionCanBeReEvaluatedAgainstTheCurrentDataset) {
  git_.commit({{"tenants/acme/prompt.md", kPromptV2},
               {"tenants/acme/prompt.yaml", kMeta},
               {"tenants/acme/golden.jsonl", kDataset}},
              "v2 first");
  git_.commit({{"tenants/acme/prompt.md", kPromptV3}}, "then v3");
  std::string out;
  ASSERT_EQ(sync("main", &out), kExitOk);
  ASSERT_EQ(eval("main", &out, "1"), kExitBelowThreshold) << out;
  EXPECT_NE(out.find("tenant acme: v1"), std::string::npos) << out;
  EXPECT_NE(out.find("Recorded with v1"), std::string::npos) << out;
  EXPECT_TRUE(version(2).eval_json.empty());
  ASSERT_EQ(eval("main", &out), kExitOk) << out;  // prompt.md at main is v2's content
  EXPECT_NE(out.find("Recorded with v2"), std::string::npos) << out;
}

// What the example CI workflow does on a pull request: evaluate the branch's prompt.md before it
// is merged (and before any sync), so nothing is recorded, but the exit code gates the merge.
TEST_F(PromptGateTest, APullRequestIsEvaluatedWithoutBeingImported) {
  git_.commit({{"tenants/acme/prompt.md", kPromptV1},
               {"tenants/acme/prompt.yaml", kMeta},
               {"tenants/acme/golden.jsonl", kDataset}},
              "v1");
  git_.branch("pr-bad", "main");
  git_.commit({{"tenants/acme/prompt.md", kPromptV2}}, "partners", "pr-bad");
  git_.branch("pr-good", "main");
  git_.commit({{"tenants/acme/prompt.md", kPromptV3}}, "concise", "pr-good");
  std::string out;
  EXPECT_EQ(eval("pr-bad", &out), kExitBelowThreshold) << out;
  EXPECT_NE(out.find("prompt.md at pr-bad (not a stored version)"), std::string::npos) << out;
  EXPECT_NE(out.find("Not recorded"), std::string::npos) << out;
  EXPECT_EQ(eval("pr-good", &out), kExitOk) << out;
  EXPECT_TRUE(store_.list("tnt_acme")->empty());
}

TEST_F(PromptGateTest, BadInputExitsWithCodeTwoAndALineNumber) {
  git_.commit(
      {{"tenants/acme/prompt.md", kPromptV1},
       {"tenants/acme/prompt.yaml", kMeta},
       {"tenants/acme/golden.jsonl",
        std::string(kDataset) +
            R"({"id":"typo","messages":[{"role":"user","content":"x"}],"assert":[{"type":"containz","value":"x"}]})" +
            "\n"}},
      "broken dataset");
  std::string out;
  EXPECT_EQ(eval("main", &out), kExitBadInput);
  EXPECT_NE(out.find("error: tenants/acme/golden.jsonl: 1 problem:\n  line 4: assert[0]: unknown "
                     "assertion type 'containz'"),
            std::string::npos)
      << out;
  EXPECT_EQ(eval("no-such-ref", &out), kExitBadInput);
  EXPECT_NE(out.find("ref 'no-such-ref' not found"), std::string::npos) << out;
  std::ostringstream s;
  EXPECT_EQ(syncCommand({{"tnt_acme", "acme"}, dir_.str() + "/missing", "main"}, store_, s),
            kExitBadInput);
  EXPECT_TRUE(runner_.calls.empty());
}

}  // namespace
}  // namespace livery::prompts
