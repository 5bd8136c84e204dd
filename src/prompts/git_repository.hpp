#pragma once

// Read-only access to a local prompt repository with libgit2: resolve a ref, read files from a
// commit's tree (never from the working directory, so uncommitted edits are invisible), and list
// the commits that changed a path, for the audit trail of imported prompt versions.
//
// Fetching is not Livery's job: the repository is a local clone (work tree or bare) that the
// operator or the CI job keeps up to date. Only the given directory is opened (no search upwards).
//
// Bounds: file reads check the blob size before loading it; paths are relative, '/'-separated,
// without '.', '..' or empty components and at most `max_path_depth` deep; tree entries that are
// not regular files (symlinks, submodules, directories) are refused, so a symlink cannot pull in
// content from elsewhere; history walks stop with an error after `max_commits_walked` commits.
//
// Blocking (disk I/O and inflating objects): never call on an I/O thread. Reading Git is never on
// the request path: sync imports versions into the store, and requests read the store's snapshot.
// Thread-safety: not thread-safe (a libgit2 repository handle must not be shared between threads);
// use one GitRepository per thread. Move-only; owns its libgit2 handles.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace livery::prompts {

struct RepoLimits {
  std::size_t max_commits_walked = 20'000;
  std::size_t max_path_bytes = 512;
  std::size_t max_path_depth = 8;
  std::size_t max_ref_bytes = 256;
};

struct CommitInfo {
  std::string id;  // 40 lower-case hex digits
  std::string author_name;
  std::string author_email;
  std::int64_t time_ms = 0;  // author time, Unix milliseconds (UTC)
  std::string summary;       // first line of the message, sanitised, at most 200 bytes
};

class GitRepository {
 public:
  // kNotFound when `path` holds no Git repository; kBadRequest for an empty path.
  [[nodiscard]] static Result<GitRepository> open(const std::string& path,
                                                  const RepoLimits& limits = {});

  GitRepository(GitRepository&&) noexcept;
  GitRepository& operator=(GitRepository&&) noexcept;
  GitRepository(const GitRepository&) = delete;
  GitRepository& operator=(const GitRepository&) = delete;
  ~GitRepository();

  // A branch, tag (annotated or lightweight), full or abbreviated commit id, or any other
  // revision git understands ("main", "v3", "refs/heads/main", "1a2b3c4", "HEAD~1"), peeled to a
  // commit. kNotFound (missing or ambiguous), kUnprocessable (names something that is not a
  // commit), kBadRequest (empty, too long, control characters, leading '-', or a commit-message
  // search such as ":/fix", which would walk the whole history).
  [[nodiscard]] Result<CommitInfo> resolve(std::string_view ref) const;

  // The content of the regular file at `path` in the tree of commit `commit_id` (40 hex), or
  // nullopt when the commit has no such file. kPayloadTooLarge above `max_bytes`;
  // kUnprocessable when the entry is a symlink, submodule or directory; kBadRequest for a bad path.
  [[nodiscard]] Result<std::optional<std::string>> readFile(std::string_view commit_id,
                                                            std::string_view path,
                                                            std::size_t max_bytes) const;

  // The commits reachable from `commit_id` that changed `path` (a file or a folder), oldest
  // first: the same commits as `git log --topo-order --reverse <commit> -- <path>` (default
  // history simplification: a merge identical to one parent follows that parent only). A commit
  // that removed the path is included.
  [[nodiscard]] Result<std::vector<CommitInfo>> history(std::string_view commit_id,
                                                        std::string_view path) const;

 private:
  struct State;
  explicit GitRepository(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace livery::prompts
