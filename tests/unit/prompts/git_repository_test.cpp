#include "prompts/git_repository.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "unit/prompts/git_fixture.hpp"

namespace livery::prompts {
namespace {

using testing::Author;
using testing::GitFixture;

class GitRepositoryTest : public ::testing::Test {
 protected:
  livery::testing::TempDir dir_;
  GitFixture git_{dir_.str()};

  GitRepository open(const RepoLimits& limits = {}) {
    auto repo = GitRepository::open(dir_.str(), limits);
    EXPECT_TRUE(repo) << repo.error().client_message;
    return std::move(*repo);
  }
};

TEST_F(GitRepositoryTest, ResolvesBranchesTagsAndCommitIds) {
  Author ana{"Ana Tester", "ana@example.com", 1'790'000'000};
  std::string c1 =
      git_.commit({{"tenants/acme/prompt.md", "v1"}}, "First prompt\n\nBody.", "main", ana);
  std::string c2 = git_.commit({{"tenants/acme/prompt.md", "v2"}}, "Second");
  git_.branch("draft", "main");
  std::string c3 = git_.commit({{"tenants/acme/prompt.md", "v3"}}, "On draft", "draft");
  git_.tag("v1", c1, /*annotated=*/false);
  git_.tag("release-2", c2, /*annotated=*/true);
  GitRepository repo = open();

  auto head = repo.resolve("main");
  ASSERT_TRUE(head) << head.error().client_message;
  EXPECT_EQ(head->id, c2);
  EXPECT_EQ(repo.resolve("refs/heads/draft")->id, c3);
  EXPECT_EQ(repo.resolve("draft")->id, c3);
  EXPECT_EQ(repo.resolve("v1")->id, c1);
  EXPECT_EQ(repo.resolve("release-2")->id, c2);  // annotated tag peeled to its commit
  EXPECT_EQ(repo.resolve(c1)->id, c1);
  EXPECT_EQ(repo.resolve(c1.substr(0, 10))->id, c1);
  EXPECT_EQ(repo.resolve("main~1")->id, c1);
  EXPECT_EQ(repo.resolve("HEAD")->id, c2);

  auto first = repo.resolve("v1");
  EXPECT_EQ(first->author_name, "Ana Tester");
  EXPECT_EQ(first->author_email, "ana@example.com");
  EXPECT_EQ(first->time_ms, 1'790'000'000'000);
  EXPECT_EQ(first->summary, "First prompt");
}

TEST_F(GitRepositoryTest, MissingOrInvalidRefsAreClearErrors) {
  git_.commit({{"tenants/acme/prompt.md", "v1"}}, "First");
  GitRepository repo = open();
  auto missing = repo.resolve("no-such-branch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().client_message.find("ref 'no-such-branch' not found"),
            std::string::npos);
  EXPECT_EQ(repo.resolve("0123456789abcdef0123456789abcdef01234567").error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(repo.resolve("main^{tree}").error().code, ErrorCode::kUnprocessable);
  EXPECT_EQ(repo.resolve("main:tenants/acme/prompt.md").error().code, ErrorCode::kUnprocessable);
  EXPECT_EQ(repo.resolve("").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo.resolve("--upload-pack=x").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo.resolve("main\nx").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo.resolve(std::string(300, 'a')).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo.resolve(":/First").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo.resolve("main^{/First}").error().code, ErrorCode::kBadRequest);
}

TEST_F(GitRepositoryTest, OpeningSomethingThatIsNotARepositoryFails) {
  livery::testing::TempDir empty;
  auto repo = GitRepository::open(empty.str());
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, ErrorCode::kNotFound);
  // No search upwards: a folder inside the work tree is not the repository.
  git_.commit({{"tenants/acme/prompt.md", "v1"}}, "First");
  std::filesystem::create_directories(dir_.path() / "tenants" / "acme");
  EXPECT_FALSE(GitRepository::open((dir_.path() / "tenants" / "acme").string()));
  EXPECT_EQ(GitRepository::open("").error().code, ErrorCode::kBadRequest);
}

TEST_F(GitRepositoryTest, ReadsFilesFromTheCommitTreeNotTheWorkingDirectory) {
  std::string c1 = git_.commit({{"tenants/acme/prompt.md", "committed v1"}}, "First");
  std::string c2 = git_.commit({{"tenants/acme/prompt.md", "committed v2"}}, "Second");
  std::filesystem::create_directories(dir_.path() / "tenants" / "acme");
  std::ofstream(dir_.path() / "tenants" / "acme" / "prompt.md") << "uncommitted edit";
  std::ofstream(dir_.path() / "tenants" / "acme" / "golden.jsonl") << "untracked";
  GitRepository repo = open();

  EXPECT_EQ(**repo.readFile(c1, "tenants/acme/prompt.md", 1024), "committed v1");
  EXPECT_EQ(**repo.readFile(c2, "tenants/acme/prompt.md", 1024), "committed v2");
  auto untracked = repo.readFile(c2, "tenants/acme/golden.jsonl", 1024);
  ASSERT_TRUE(untracked);
  EXPECT_FALSE(*untracked);
  EXPECT_FALSE(*repo.readFile(c2, "tenants/globex/prompt.md", 1024));
}

TEST_F(GitRepositoryTest, ReadFileChecksTheSizeBeforeLoading) {
  std::string c = git_.commit({{"tenants/acme/golden.jsonl", std::string(5000, 'x')}}, "Big");
  GitRepository repo = open();
  auto big = repo.readFile(c, "tenants/acme/golden.jsonl", 4999);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(big.error().client_message.find("5000 bytes"), std::string::npos);
  EXPECT_EQ((*repo.readFile(c, "tenants/acme/golden.jsonl", 5000))->size(), 5000U);
}

TEST_F(GitRepositoryTest, RefusesSymlinksDirectoriesAndUnsafePaths) {
  git_.commit({{"secrets.txt", "do not read"}, {"tenants/acme/golden.jsonl", "{}"}}, "Files");
  std::string c = git_.commitSymlink("tenants/acme/prompt.md", "../../secrets.txt");
  GitRepository repo = open();
  auto link = repo.readFile(c, "tenants/acme/prompt.md", 1024);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, ErrorCode::kUnprocessable);
  EXPECT_NE(link.error().client_message.find("symbolic link"), std::string::npos);
  auto dir = repo.readFile(c, "tenants/acme", 1024);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().client_message.find("directory"), std::string::npos);

  for (const char* bad : {"../secrets.txt",
                          "/secrets.txt",
                          "tenants//acme/prompt.md",
                          "tenants/./acme/prompt.md",
                          "tenants/acme/",
                          "a\\b",
                          "",
                          "a/b/c/d/e/f/g/h/i/j"}) {
    SCOPED_TRACE(bad);
    auto r = repo.readFile(c, bad, 1024);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_EQ(repo.readFile("not-a-sha", "secrets.txt", 1024).error().code, ErrorCode::kBadRequest);
}

TEST_F(GitRepositoryTest, HistoryListsTheCommitsThatChangedAPathOldestFirst) {
  std::string c1 = git_.commit({{"tenants/acme/prompt.md", "v1"}, {"README.md", "r"}}, "Acme v1");
  git_.commit({{"README.md", "r2"}}, "Docs only");
  std::string c3 = git_.commit({{"tenants/acme/prompt.md", "v2"}}, "Acme v2");
  git_.commit({{"tenants/globex/prompt.md", "g1"}}, "Globex");
  git_.commit({{"tenants/acme/golden.jsonl", "{}"}}, "Acme dataset");
  std::string c6 = git_.commit({{"tenants/acme/prompt.md", std::nullopt}}, "Remove acme prompt");
  std::string c7 = git_.commit({{"tenants/acme/prompt.md", "v1"}}, "Restore v1");
  GitRepository repo = open();

  auto h = repo.history(c7, "tenants/acme/prompt.md");
  ASSERT_TRUE(h) << h.error().client_message;
  std::vector<std::string> ids;
  for (const auto& c : *h) {
    ids.push_back(c.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{c1, c3, c6, c7}));
  EXPECT_EQ((*h)[1].summary, "Acme v2");

  auto folder = repo.history(c7, "tenants/acme");  // the tenant's folder: dataset changes count
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->size(), 5U);
  auto none = repo.history(c7, "tenants/nobody/prompt.md");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// The same commits, in the same order, as `git log --topo-order --reverse <ref> -- <path>`,
// including merges and a side branch that changed the prompt and changed it back (pruned by
// git's history simplification because the merge is identical to its first parent).
TEST_F(GitRepositoryTest, HistoryMatchesGitLog) {
  const std::string path = "tenants/acme/prompt.md";
  git_.commit({{path, "v1"}}, "v1");
  git_.branch("feature", "main");
  git_.branch("detour", "main");
  git_.commit({{path, "v2 from feature"}}, "feature: v2", "feature");
  git_.commit({{"other.txt", "x"}}, "main: unrelated");
  git_.commit({{path, "v3 from feature"}}, "feature: v3", "feature");
  git_.merge("main", "feature", {{path, "v3 from feature"}}, "Merge feature");
  git_.commit({{path, "detour"}}, "detour: change", "detour");
  git_.commit({{path, "v1"}}, "detour: change back", "detour");
  git_.merge("main", "detour", {}, "Merge detour");
  git_.commit({{path, "v4"}}, "v4");
  git_.branch("fix", "main");
  git_.commit({{path, "v5 main"}}, "main: v5");
  git_.commit({{path, "v5 fix"}}, "fix: v5", "fix");
  git_.merge("main", "fix", {{path, "v5 merged"}}, "Merge fix with a resolution");

  auto expected =
      testing::runGit(dir_.str(), "log --topo-order --reverse --format=%H main -- " + path);
  if (!expected) {
    GTEST_SKIP() << "the git binary is not available";
  }
  GitRepository repo = open();
  auto h = repo.history(git_.tip("main"), path);
  ASSERT_TRUE(h) << h.error().client_message;
  std::string ours;
  for (const auto& c : *h) {
    ours += c.id + "\n";
  }
  EXPECT_EQ(ours, *expected);
  EXPECT_EQ(h->size(), 7U);  // v1, feature v2, feature v3, v4, v5 main, v5 fix, merge resolution
}

TEST_F(GitRepositoryTest, HistoryStopsAtTheWalkLimit) {
  for (int i = 0; i < 12; ++i) {
    git_.commit({{"tenants/acme/prompt.md", "v" + std::to_string(i)}}, "c");
  }
  RepoLimits limits;
  limits.max_commits_walked = 10;
  GitRepository repo = open(limits);
  auto h = repo.history(git_.tip("main"), "tenants/acme/prompt.md");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, ErrorCode::kPayloadTooLarge);
}

TEST_F(GitRepositoryTest, CommitMetadataIsSanitised) {
  Author odd{"Mallory\x1b[31m", "m\x1b@example.com", 1'790'000'000};
  std::string c =
      git_.commit({{"tenants/acme/prompt.md", "v1"}}, "Summary\x07 with bell", "main", odd);
  GitRepository repo = open();
  auto info = repo.resolve(c);
  ASSERT_TRUE(info) << info.error().client_message;
  EXPECT_EQ(info->author_name.find('\x1b'), std::string::npos);
  EXPECT_EQ(info->author_email.find('\x1b'), std::string::npos);
  EXPECT_EQ(info->summary.find('\x07'), std::string::npos);
}

}  // namespace
}  // namespace livery::prompts
