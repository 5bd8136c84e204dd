#pragma once

// Builds real Git repositories in a test's temp directory with libgit2: commits with chosen
// authors and times on named branches, merges, tags (lightweight and annotated) and symlinks.
// Each commit states the full effect on the tree as changes on top of its first parent's files.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct git_repository;

namespace livery::prompts::testing {

struct Author {
  std::string name = "Ana Tester";
  std::string email = "ana@example.com";
  std::int64_t time_s = 1'790'000'000;  // 2026-09-21
};

// path -> content; nullopt removes the file.
using Changes = std::map<std::string, std::optional<std::string>>;

class GitFixture {
 public:
  // `git init` of a non-bare repository at `dir` (which must exist), HEAD on refs/heads/main.
  explicit GitFixture(std::string dir);
  ~GitFixture();
  GitFixture(const GitFixture&) = delete;
  GitFixture& operator=(const GitFixture&) = delete;

  const std::string& path() const { return dir_; }

  // Commits `changes` on top of `branch`'s tip (a root commit for a new branch) and moves the
  // branch. Returns the commit id (40 hex). Each commit is one second after the previous one
  // unless `author` says otherwise.
  std::string commit(const Changes& changes,
                     const std::string& message,
                     const std::string& branch = "main",
                     std::optional<Author> author = std::nullopt);
  // A merge commit on `into` with parents (tip of into, tip of from); its tree is into's files
  // plus `changes` (the caller states the merge result).
  std::string merge(const std::string& into,
                    const std::string& from,
                    const Changes& changes,
                    const std::string& message);
  // A symlink entry (mode 120000) committed on `branch`.
  std::string commitSymlink(const std::string& path,
                            const std::string& target,
                            const std::string& branch = "main");
  void branch(const std::string& name, const std::string& from_branch);
  void tag(const std::string& name, const std::string& commit_id, bool annotated);
  std::string tip(const std::string& branch) const;

 private:
  struct File {
    std::string content;
    std::uint32_t mode = 0100644;
  };
  using Files = std::map<std::string, File>;

  std::string write(const Files& files,
                    const std::vector<std::string>& parents,
                    const std::string& message,
                    const std::string& branch,
                    const Author& author);

  std::string dir_;
  git_repository* repo_ = nullptr;
  std::map<std::string, std::string> tips_;  // branch -> commit id
  std::map<std::string, Files> snapshots_;   // commit id -> files
  std::int64_t next_time_s_ = 1'790'000'000;
};

// Output of `git <args>` run in `dir` (stdout only), or nullopt when git cannot run.
std::optional<std::string> runGit(const std::string& dir, const std::string& args);

}  // namespace livery::prompts::testing
