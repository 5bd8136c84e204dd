#include "prompts/sync.hpp"

#include <gtest/gtest.h>

#include "prompts/memory_version_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "unit/prompts/git_fixture.hpp"

namespace livery::prompts {
namespace {

using testing::Author;
using testing::GitFixture;

CommitInfo commitInfo(const std::string& id) {
  CommitInfo c;
  c.id = id;
  c.author_name = "Ana";
  c.author_email = "ana@example.com";
  c.time_ms = 1000;
  c.summary = "s";
  return c;
}

HistoricPrompt at(const std::string& id, std::optional<std::string> content) {
  return {commitInfo(id), std::move(content), {}};
}

storage::PromptVersion stored(std::int64_t n, std::string content, std::string commit) {
  storage::PromptVersion v;
  v.id = "pv_" + std::to_string(n);
  v.version = n;
  v.content = std::move(content);
  v.commit_id = std::move(commit);
  return v;
}

std::vector<std::string> createdIds(const SyncPlan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.create) {
    out.push_back(p.commit.id);
  }
  return out;
}

TEST(PlanSyncTest, CreatesOneVersionPerChangedPromptInCommitOrder) {
  SyncPlan plan = planSync({}, {at("c1", "one"), at("c2", "two"), at("c3", "three")});
  EXPECT_EQ(createdIds(plan), (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(plan.create[1].content, "two");
  EXPECT_TRUE(plan.skipped.empty());
}

TEST(PlanSyncTest, SkipsImportedCommitsAndContentEqualToTheLatestVersion) {
  std::vector<storage::PromptVersion> existing = {stored(1, "one", "c1"), stored(2, "two", "c2")};
  SyncPlan plan = planSync(existing,
                           {at("c1", "one"),
                            at("c2", "two"),
                            at("c3", "two"),
                            at("c4", "three"),
                            at("c5", "three"),
                            at("c6", "one")});
  // c6 goes back to v1's content: that is a change from the latest, so it is a new version.
  EXPECT_EQ(createdIds(plan), (std::vector<std::string>{"c4", "c6"}));
  ASSERT_EQ(plan.skipped.size(), 4U);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kAlreadyImported);
  EXPECT_EQ(plan.skipped[0].detail, "v1");
  EXPECT_EQ(plan.skipped[2].reason, SkipReason::kSameContent);
  EXPECT_EQ(plan.skipped[2].detail, "v2");
  EXPECT_EQ(plan.skipped[3].reason, SkipReason::kSameContent);
  EXPECT_EQ(plan.skipped[3].detail, "commit c4");
}

TEST(PlanSyncTest, ComparesWithTheNewestVersionEvenWhenItWasNotImported) {
  // v2 was written in the console (no commit): Git's next change is compared with it.
  std::vector<storage::PromptVersion> existing = {stored(2, "console", ""), stored(1, "one", "c1")};
  SyncPlan plan = planSync(existing, {at("c1", "one"), at("c2", "console"), at("c3", "three")});
  EXPECT_EQ(createdIds(plan), (std::vector<std::string>{"c3"}));
}

TEST(PlanSyncTest, SkipsRemovalsAndContentThatCannotBeAPrompt) {
  std::string invalid_utf8 = "bad \xC3\x28 prompt";
  HistoricPrompt unreadable = at("c5", std::nullopt);
  unreadable.unreadable = "tenants/acme/prompt.md is a symbolic link";
  SyncLimits limits;
  limits.max_prompt_bytes = 10;
  SyncPlan plan = planSync({},
                           {at("c1", std::nullopt),
                            at("c2", " \n\t"),
                            at("c3", invalid_utf8),
                            at("c4", "this one is too long"),
                            unreadable,
                            at("c6", "ok")},
                           limits);
  EXPECT_EQ(createdIds(plan), (std::vector<std::string>{"c6"}));
  ASSERT_EQ(plan.skipped.size(), 5U);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kRemoved);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(plan.skipped[i].reason, SkipReason::kInvalid) << i;
  }
  EXPECT_NE(plan.skipped[4].detail.find("symbolic link"), std::string::npos);
}

class SyncTenantTest : public ::testing::Test {
 protected:
  livery::testing::TempDir dir_;
  GitFixture git_{dir_.str()};
  livery::testing::FakeClock clock_;
  InMemoryPromptVersionStore store_{clock_};

  Result<SyncResult> sync(const std::string& ref, const std::string& slug = "acme") {
    auto repo = GitRepository::open(dir_.str());
    EXPECT_TRUE(repo);
    return syncTenant(*repo, store_, "tnt_" + slug, slug, ref);
  }
};

TEST_F(SyncTenantTest, ImportsEachVersionWithItsCommitAuthorAndTime) {
  Author ana{"Ana", "ana@example.com", 1'790'000'000};
  Author bo{"Bo", "bo@example.com", 1'790'086'400};
  std::string c1 = git_.commit(
      {{"tenants/acme/prompt.md", "You are Acme's assistant."}}, "First prompt", "main", ana);
  std::string c2 = git_.commit(
      {{"tenants/acme/prompt.md", "You are Acme's friendly assistant."}}, "Friendlier", "main", bo);
  auto r = sync("main");
  ASSERT_TRUE(r) << r.error().client_message;
  EXPECT_EQ(r->head.id, c2);
  ASSERT_EQ(r->created.size(), 2U);
  const auto& v1 = r->created[0];
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.commit_id, c1);
  EXPECT_EQ(v1.author, "Ana <ana@example.com>");
  EXPECT_EQ(v1.created_at, 1'790'000'000'000);
  EXPECT_EQ(v1.note, "git " + c1.substr(0, 7) + ": First prompt");
  EXPECT_EQ(v1.content, "You are Acme's assistant.");
  EXPECT_EQ(r->created[1].author, "Bo <bo@example.com>");
  for (const auto& v : *store_.list("tnt_acme")) {
    EXPECT_EQ(v.status, storage::PromptStatus::kDraft) << "sync must never activate";
  }
}

TEST_F(SyncTenantTest, IsIdempotentAndImportsOnlyNewChanges) {
  git_.commit({{"tenants/acme/prompt.md", "one"}, {"tenants/acme/golden.jsonl", "{}"}}, "one");
  git_.commit({{"tenants/acme/prompt.md", "two"}}, "two");
  ASSERT_EQ(sync("main")->created.size(), 2U);

  auto again = sync("main");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->created.empty());
  EXPECT_EQ(again->skipped.size(), 2U);
  EXPECT_EQ(store_.list("tnt_acme")->size(), 2U);

  git_.commit({{"tenants/acme/golden.jsonl", "{\"changed\":1}"}}, "dataset only");
  git_.commit({{"tenants/globex/prompt.md", "globex"}}, "another tenant");
  EXPECT_TRUE(sync("main")->created.empty());

  std::string c5 = git_.commit({{"tenants/acme/prompt.md", "three"}}, "three");
  auto third = sync("main");
  ASSERT_EQ(third->created.size(), 1U);
  EXPECT_EQ(third->created[0].version, 3);
  EXPECT_EQ(third->created[0].commit_id, c5);
  EXPECT_EQ(store_.list("tnt_globex")->size(), 0U);
}

TEST_F(SyncTenantTest, SyncsTheRequestedRefOnly) {
  git_.commit({{"tenants/acme/prompt.md", "one"}}, "one");
  git_.branch("pr-7", "main");
  git_.commit({{"tenants/acme/prompt.md", "proposal"}}, "proposal", "pr-7");
  EXPECT_EQ(sync("main")->created.size(), 1U);
  auto pr = sync("pr-7");
  ASSERT_EQ(pr->created.size(), 1U);
  EXPECT_EQ(pr->created[0].content, "proposal");
}

TEST_F(SyncTenantTest, ErrorsForUnknownRefsMissingPromptsAndBadSlugs) {
  git_.commit({{"tenants/acme/prompt.md", "one"}}, "one");
  EXPECT_EQ(sync("nope").error().code, ErrorCode::kNotFound);
  auto missing = sync("main", "globex");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().client_message.find("tenants/globex/prompt.md"), std::string::npos);
  EXPECT_EQ(sync("main", "../acme").error().code, ErrorCode::kBadRequest);
}

TEST_F(SyncTenantTest, ASymlinkedPromptIsSkippedNotFollowed) {
  git_.commit({{"tenants/acme/prompt.md", "one"}, {"secret.txt", "s3cr3t"}}, "one");
  git_.commitSymlink("tenants/acme/prompt.md", "../../secret.txt");
  auto r = sync("main");
  ASSERT_TRUE(r) << r.error().client_message;
  ASSERT_EQ(r->created.size(), 1U);
  EXPECT_EQ(r->created[0].content, "one");
  ASSERT_EQ(r->skipped.size(), 1U);
  EXPECT_EQ(r->skipped[0].reason, SkipReason::kInvalid);
  for (const auto& v : *store_.list("tnt_acme")) {
    EXPECT_EQ(v.content.find("s3cr3t"), std::string::npos);
  }
}

}  // namespace
}  // namespace livery::prompts
