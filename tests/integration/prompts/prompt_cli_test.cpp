// `livery prompts sync|eval|promote|list` as an operator or a CI job runs them: the real binary
// against its own data directory and a fake provider on loopback. `eval` starts an in-process
// gateway without a listener and sends the cases through its request pipeline. Exit codes: 0 ok,
// 1 below the threshold or promotion refused, 2 usage or input error.

#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "control/control_plane.hpp"
#include "core/secret.hpp"
#include "integration/cli/cli_fixture.hpp"
#include "storage/stores.hpp"
#include "support/fake_upstream.hpp"
#include "support/temp_dir.hpp"
#include "unit/prompts/git_fixture.hpp"

namespace livery::testing {
namespace {

using prompts::testing::GitFixture;

constexpr const char* kProviderKey = "sk-fake-openai-key";

const char* const kMeta = "eval:\n  model: gpt-4o-mini\n  case_timeout_s: 20\n";
const char* const kDataset =
    R"({"id":"greets","messages":[{"role":"user","content":"Hello"}],"assert":[{"type":"contains","value":"Welcome"}]}
{"id":"no-competitors","messages":[{"role":"user","content":"Others?"}],"assert":[{"type":"not_contains","value":"globex","ignore_case":true}]}
)";

class PromptCliTest : public ::testing::Test {
 protected:
  PromptCliTest() : env_(upstream_.port()) {
    auto core = env_.open();
    auto& control = *core->control;
    auto tenant = control.createTenant(control::Actor::cli(), {"acme", "Acme", ""});
    EXPECT_TRUE(tenant);
    tenant_id_ = tenant->id;
    control::CredentialSpec spec;
    spec.provider = "openai";
    spec.label = "prod";
    spec.base_url = upstream_.baseUrl() + "/v1";
    auto cred = control.addCredential(control::Actor::cli(),
                                      tenant_id_,
                                      spec,
                                      SecretBytes::copyOf(std::string_view(kProviderKey)));
    EXPECT_TRUE(cred);
    storage::Deployment d;
    d.provider = "openai";
    d.model = "gpt-4o-mini";
    d.credential_id = cred->id;
    EXPECT_TRUE(control.setRoute(control::Actor::cli(), tenant_id_, "gpt-4o-mini", {d}));
  }

  CliRun prompts(std::vector<std::string> args) {
    args.insert(args.begin(), "prompts");
    auto r = env_.run(args);
    EXPECT_EQ(r.out.find(kProviderKey), std::string::npos);
    EXPECT_EQ(r.err.find(kProviderKey), std::string::npos);
    return r;
  }

  FakeUpstream upstream_;
  CliEnv env_;
  std::string tenant_id_;
  TempDir repo_dir_;
  GitFixture git_{repo_dir_.str()};
};

TEST_F(PromptCliTest, SyncEvalPromoteThroughTheBinaryWithCiExitCodes) {
  const std::string repo = repo_dir_.str();
  git_.commit({{"tenants/acme/prompt.md", "You are {{tenant_name}}'s assistant.\n"},
               {"tenants/acme/prompt.yaml", kMeta},
               {"tenants/acme/golden.jsonl", kDataset}},
              "acme: v1");

  auto r = prompts({"sync", "--tenant", "acme", "--repo", repo, "--ref", "main"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("created v1"), std::string::npos) << r.out;

  // Never evaluated: the gate refuses (1), nothing changes.
  r = prompts({"promote", "--tenant", "acme", "--version", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;

  upstream_.setReply("Welcome to Acme!", 1);
  r = prompts({"eval", "--tenant", "acme", "--repo", repo, "--ref", "main"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Pass rate: 2/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Recorded with v1"), std::string::npos) << r.out;
  EXPECT_EQ(upstream_.requests().size(), 2U);
  r = prompts({"promote", "--tenant", "acme", "--version", "1"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  git_.commit({{"tenants/acme/prompt.md", "You are {{tenant_name}}'s assistant. Praise Globex.\n"}},
              "acme: v2");
  ASSERT_EQ(prompts({"sync", "--tenant", tenant_id_, "--repo", repo, "--ref", "main"}).code, 0);
  upstream_.setReply("Welcome! Also try Globex.", 1);
  r = prompts({"eval", "--tenant", "acme", "--repo", repo, "--ref", "main"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  no-competitors"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Praise Globex"), std::string::npos) << r.out;  // the prompt is not quoted
  r = prompts({"promote", "--tenant", "acme", "--version", "latest"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("refusing to promote v2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("v1 stays active"), std::string::npos) << r.out;

  auto listed = env_.json({"prompts", "list", "--tenant", "acme"});
  const auto& data = listed.at("data").as_array();
  ASSERT_EQ(data.size(), 2U);
  EXPECT_EQ(data[0].at("status").as_string(), "active");
  EXPECT_EQ(data[1].at("status").as_string(), "draft");
  EXPECT_FALSE(data[1].at("eval").at("passed").as_bool());
  r = prompts({"list", "--tenant", "acme"});
  EXPECT_NE(r.out.find("failed 1/2"), std::string::npos) << r.out;

  // Evaluation traffic was metered as the tenant's usage, attributed to "eval".
  auto core = env_.open();
  storage::UsageFilter f;
  f.tenant_id = tenant_id_;
  f.api_key_id = "eval";
  auto n = core->stores->usage.count(f);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 4U);
}

TEST_F(PromptCliTest, UsageAndInputErrorsExitWithTwo) {
  const std::string repo = repo_dir_.str();
  git_.commit({{"tenants/acme/prompt.md", "You are helpful.\n"},
               {"tenants/acme/prompt.yaml", kMeta},
               {"tenants/acme/golden.jsonl", kDataset}},
              "acme: v1");
  EXPECT_EQ(prompts({"eval", "--tenant", "nobody", "--repo", repo, "--ref", "main"}).code, 2);
  EXPECT_EQ(prompts({"eval", "--tenant", "acme", "--ref", "main"}).code, 2);  // no repository
  EXPECT_EQ(prompts({"sync", "--tenant", "acme", "--repo", repo}).code, 2);   // no --ref
  EXPECT_EQ(prompts({"eval", "--tenant", "acme", "--repo", repo, "--ref", "nope"}).code, 2);
  EXPECT_EQ(prompts({"promote", "--tenant", "acme", "--version", "v9"}).code, 2);
  EXPECT_TRUE(upstream_.requests().empty());
}

}  // namespace
}  // namespace livery::testing
