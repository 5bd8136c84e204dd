#include "prompts/git_repository.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <git2.h>

#include "whitelabel/text.hpp"

namespace livery::prompts {

namespace {

struct RepoFree {
  void operator()(git_repository* p) const { git_repository_free(p); }
};
struct ObjectFree {
  void operator()(git_object* p) const { git_object_free(p); }
};
struct CommitFree {
  void operator()(git_commit* p) const { git_commit_free(p); }
};
struct TreeFree {
  void operator()(git_tree* p) const { git_tree_free(p); }
};
struct EntryFree {
  void operator()(git_tree_entry* p) const { git_tree_entry_free(p); }
};
struct BlobFree {
  void operator()(git_blob* p) const { git_blob_free(p); }
};
struct OdbFree {
  void operator()(git_odb* p) const { git_odb_free(p); }
};

using RepoPtr = std::unique_ptr<git_repository, RepoFree>;
using ObjectPtr = std::unique_ptr<git_object, ObjectFree>;
using CommitPtr = std::unique_ptr<git_commit, CommitFree>;
using TreePtr = std::unique_ptr<git_tree, TreeFree>;
using EntryPtr = std::unique_ptr<git_tree_entry, EntryFree>;
using BlobPtr = std::unique_ptr<git_blob, BlobFree>;
using OdbPtr = std::unique_ptr<git_odb, OdbFree>;

// libgit2's message for the last failure on this thread (operator-facing: paths and refs only).
std::string lastGitError() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? std::string(e->message) : std::string("unknown");
}

Error gitFailure(const std::string& what) {
  return fail(ErrorCode::kInternal, what + ": " + lastGitError());
}

std::string hexOf(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return std::string(buf);
}

std::string clean(std::string_view text, std::size_t max_bytes) {
  whitelabel::TextPolicy policy;
  policy.max_bytes = max_bytes;
  return whitelabel::sanitizeText(text, policy);
}

CommitInfo infoOf(const git_commit* commit) {
  CommitInfo info;
  info.id = hexOf(git_commit_id(commit));
  if (const git_signature* author = git_commit_author(commit)) {
    info.author_name = clean(author->name != nullptr ? author->name : "", 200);
    info.author_email = clean(author->email != nullptr ? author->email : "", 200);
    info.time_ms = static_cast<std::int64_t>(author->when.time) * 1000;
  }
  const char* summary = git_commit_summary(const_cast<git_commit*>(commit));
  info.summary = clean(summary != nullptr ? summary : "", 200);
  return info;
}

Result<void> checkPath(std::string_view path, const RepoLimits& limits) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kBadRequest, "invalid repository path: " + std::string(why));
  };
  if (path.empty() || path.size() > limits.max_path_bytes) {
    return bad("empty or too long");
  }
  if (path.front() == '/' || path.back() == '/') {
    return bad("must be relative, without a trailing '/'");
  }
  std::size_t depth = 0;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    std::string_view part = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part == "." || part == "..") {
      return bad("empty, '.' or '..' component");
    }
    for (char c : part) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7F) {
        return bad("control character or backslash");
      }
    }
    if (++depth > limits.max_path_depth) {
      return bad("nested deeper than " + std::to_string(limits.max_path_depth));
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return {};
}

}  // namespace

struct GitRepository::State {
  RepoPtr repo;
  RepoLimits limits;

  State() { git_libgit2_init(); }  // reference-counted and thread-safe in libgit2
  ~State() {
    repo.reset();
    git_libgit2_shutdown();
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  Result<CommitPtr> lookupCommit(std::string_view commit_id) const {
    if (commit_id.size() != GIT_OID_HEXSZ) {
      return fail(ErrorCode::kBadRequest, "a commit id must be 40 hex digits");
    }
    git_oid oid;
    std::string id(commit_id);
    if (git_oid_fromstr(&oid, id.c_str()) != 0) {
      return fail(ErrorCode::kBadRequest, "a commit id must be 40 hex digits");
    }
    return lookupCommit(oid);
  }

  Result<CommitPtr> lookupCommit(const git_oid& oid) const {
    git_commit* raw = nullptr;
    int rc = git_commit_lookup(&raw, repo.get(), &oid);
    if (rc == GIT_ENOTFOUND) {
      return fail(ErrorCode::kNotFound, "commit " + hexOf(&oid) + " not found");
    }
    if (rc != 0) {
      return gitFailure("reading commit " + hexOf(&oid));
    }
    return CommitPtr(raw);
  }

  // The tree entry at `path` in `commit`, or nullptr when absent.
  Result<EntryPtr> entryAt(const git_commit* commit, std::string_view path) const {
    git_tree* tree_raw = nullptr;
    if (git_commit_tree(&tree_raw, commit) != 0) {
      return gitFailure("reading the tree of " + hexOf(git_commit_id(commit)));
    }
    TreePtr tree(tree_raw);
    git_tree_entry* entry = nullptr;
    std::string p(path);
    int rc = git_tree_entry_bypath(&entry, tree.get(), p.c_str());
    if (rc == GIT_ENOTFOUND) {
      return EntryPtr();
    }
    if (rc != 0) {
      return gitFailure("looking up " + p);
    }
    return EntryPtr(entry);
  }
};

GitRepository::GitRepository(std::unique_ptr<State> state) : state_(std::move(state)) {}
GitRepository::GitRepository(GitRepository&&) noexcept = default;
GitRepository& GitRepository::operator=(GitRepository&&) noexcept = default;
GitRepository::~GitRepository() = default;

Result<GitRepository> GitRepository::open(const std::string& path, const RepoLimits& limits) {
  if (path.empty()) {
    return fail(ErrorCode::kBadRequest, "the prompt repository path is empty");
  }
  auto state = std::make_unique<State>();
  state->limits = limits;
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc != 0) {
    std::string why = lastGitError();
    ErrorCode code = rc == GIT_ENOTFOUND ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    return fail(code, "cannot open a Git repository at '" + path + "': " + why);
  }
  state->repo.reset(raw);
  return GitRepository(std::move(state));
}

Result<CommitInfo> GitRepository::resolve(std::string_view ref) const {
  if (ref.empty() || ref.size() > state_->limits.max_ref_bytes || ref.front() == '-') {
    return fail(ErrorCode::kBadRequest, "invalid ref: empty, too long or starting with '-'");
  }
  for (char c : ref) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return fail(ErrorCode::kBadRequest, "invalid ref: control character");
    }
  }
  // ":/text" and "rev^{/text}" search commit messages through the whole history: unbounded, and
  // never what a sync or an eval means.
  if (ref.find(":/") != std::string_view::npos || ref.find("^{/") != std::string_view::npos) {
    return fail(ErrorCode::kBadRequest, "invalid ref: message search (:/text) is not supported");
  }
  std::string spec(ref);
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, state_->repo.get(), spec.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    return fail(ErrorCode::kNotFound,
                "ref '" + clean(spec, 100) + "' not found in the prompt repository");
  }
  if (rc == GIT_EAMBIGUOUS) {
    return fail(ErrorCode::kNotFound,
                "ref '" + clean(spec, 100) + "' is ambiguous: use a longer commit id");
  }
  if (rc != 0) {
    return gitFailure("resolving ref '" + clean(spec, 100) + "'");
  }
  ObjectPtr object(raw);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0) {
    return fail(ErrorCode::kUnprocessable, "ref '" + clean(spec, 100) + "' does not name a commit");
  }
  ObjectPtr commit_object(peeled);
  auto commit = state_->lookupCommit(*git_object_id(commit_object.get()));
  if (!commit) {
    return commit.error();
  }
  return infoOf(commit->get());
}

Result<std::optional<std::string>> GitRepository::readFile(std::string_view commit_id,
                                                           std::string_view path,
                                                           std::size_t max_bytes) const {
  if (auto ok = checkPath(path, state_->limits); !ok) {
    return ok.error();
  }
  auto commit = state_->lookupCommit(commit_id);
  if (!commit) {
    return commit.error();
  }
  auto entry = state_->entryAt(commit->get(), path);
  if (!entry) {
    return entry.error();
  }
  if (!*entry) {
    return std::optional<std::string>();
  }
  std::string p(path);
  switch (git_tree_entry_filemode(entry->get())) {
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
      break;
    case GIT_FILEMODE_LINK:
      return fail(ErrorCode::kUnprocessable, p + " is a symbolic link; it must be a regular file");
    case GIT_FILEMODE_TREE:
      return fail(ErrorCode::kUnprocessable, p + " is a directory; it must be a regular file");
    default:
      return fail(ErrorCode::kUnprocessable, p + " is a submodule; it must be a regular file");
  }
  const git_oid* oid = git_tree_entry_id(entry->get());
  // Check the size from the object header before inflating the blob.
  git_odb* odb_raw = nullptr;
  if (git_repository_odb(&odb_raw, state_->repo.get()) != 0) {
    return gitFailure("opening the object database");
  }
  OdbPtr odb(odb_raw);
  std::size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&size, &type, odb.get(), oid) != 0) {
    return gitFailure("reading " + p);
  }
  if (size > max_bytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                p + " is " + std::to_string(size) + " bytes, more than the limit of " +
                    std::to_string(max_bytes));
  }
  git_blob* blob_raw = nullptr;
  if (git_blob_lookup(&blob_raw, state_->repo.get(), oid) != 0) {
    return gitFailure("reading " + p);
  }
  BlobPtr blob(blob_raw);
  auto n = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
  if (n > max_bytes) {
    return fail(ErrorCode::kPayloadTooLarge, p + " is larger than the limit");
  }
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  return std::optional<std::string>(std::string(data, n));
}

Result<std::vector<CommitInfo>> GitRepository::history(std::string_view commit_id,
                                                       std::string_view path) const {
  if (auto ok = checkPath(path, state_->limits); !ok) {
    return ok.error();
  }
  auto tip = state_->lookupCommit(commit_id);
  if (!tip) {
    return tip.error();
  }
  const std::size_t max_commits = state_->limits.max_commits_walked;
  auto too_long = [&] {
    return fail(ErrorCode::kPayloadTooLarge,
                "the history has more than " + std::to_string(max_commits) +
                    " commits; raise the walk limit");
  };

  // What `path` is in a commit: "<mode>:<object id>", or "" when absent. Memoised per commit.
  std::unordered_map<std::string, std::string> entry_cache;
  auto entryKey = [&](const git_commit* commit) -> Result<std::string> {
    std::string id = hexOf(git_commit_id(commit));
    if (auto it = entry_cache.find(id); it != entry_cache.end()) {
      return it->second;
    }
    auto entry = state_->entryAt(commit, path);
    if (!entry) {
      return entry.error();
    }
    std::string key;
    if (*entry) {
      key = std::to_string(static_cast<int>(git_tree_entry_filemode(entry->get()))) + ":" +
            hexOf(git_tree_entry_id(entry->get()));
    }
    entry_cache.emplace(std::move(id), key);
    return key;
  };

  // 1. Simplified history (git's default for `git log -- <path>`): a commit identical to one of
  //    its parents is skipped and only that parent is followed; otherwise the commit changed the
  //    path and every parent is followed.
  std::unordered_map<std::string, std::vector<std::string>> followed;  // commit -> parents walked
  std::unordered_map<std::string, CommitInfo> changed;
  std::vector<git_oid> stack{*git_commit_id(tip->get())};
  while (!stack.empty()) {
    git_oid oid = stack.back();
    stack.pop_back();
    std::string id = hexOf(&oid);
    if (followed.count(id) != 0) {
      continue;
    }
    if (followed.size() >= max_commits) {
      return too_long();
    }
    auto& next = followed[id];
    auto commit = state_->lookupCommit(oid);
    if (!commit) {
      return commit.error();
    }
    auto mine = entryKey(commit->get());
    if (!mine) {
      return mine.error();
    }
    unsigned parents = git_commit_parentcount(commit->get());
    std::optional<git_oid> same_parent;
    for (unsigned i = 0; i < parents && !same_parent; ++i) {
      git_commit* parent_raw = nullptr;
      if (git_commit_parent(&parent_raw, commit->get(), i) != 0) {
        return gitFailure("reading a parent of " + id);
      }
      CommitPtr parent(parent_raw);
      auto theirs = entryKey(parent.get());
      if (!theirs) {
        return theirs.error();
      }
      if (*theirs == *mine) {
        same_parent = *git_commit_id(parent.get());
      }
    }
    if (same_parent) {
      next.push_back(hexOf(&*same_parent));
      stack.push_back(*same_parent);
      continue;
    }
    if (parents > 0 || !mine->empty()) {
      changed.emplace(id, infoOf(commit->get()));
    }
    // Pushed in reverse so the first parent is walked first.
    for (unsigned i = parents; i-- > 0;) {
      next.insert(next.begin(), hexOf(git_commit_parent_id(commit->get(), i)));
      stack.push_back(*git_commit_parent_id(commit->get(), i));
    }
  }

  // 2. Oldest first: a post-order walk of the followed edges lists every parent before its
  //    children, and a merge's first-parent line before its other lines (as git --topo-order).
  std::vector<CommitInfo> out;
  std::unordered_set<std::string> done;
  std::unordered_set<std::string> on_path;
  struct Frame {
    std::string id;
    std::size_t next = 0;
  };
  std::vector<Frame> path_stack{{hexOf(git_commit_id(tip->get())), 0}};
  on_path.insert(path_stack.back().id);
  while (!path_stack.empty()) {
    Frame& f = path_stack.back();
    const auto& parents = followed[f.id];
    if (f.next < parents.size()) {
      const std::string& parent = parents[f.next++];
      if (done.count(parent) == 0 && on_path.insert(parent).second) {
        path_stack.push_back({parent, 0});
      }
      continue;
    }
    if (auto it = changed.find(f.id); it != changed.end()) {
      out.push_back(std::move(it->second));
    }
    done.insert(f.id);
    on_path.erase(f.id);
    path_stack.pop_back();
  }
  return out;
}

}  // namespace livery::prompts
