#include "unit/prompts/git_fixture.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>

#include <git2.h>

namespace livery::prompts::testing {

namespace {

void check(int rc, const char* what) {
  if (rc != 0) {
    const git_error* e = git_error_last();
    throw std::runtime_error(std::string(what) + ": " +
                             (e != nullptr && e->message != nullptr ? e->message : "?"));
  }
}

std::string hexOf(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

git_oid oidOf(const std::string& hex) {
  git_oid oid;
  check(git_oid_fromstr(&oid, hex.c_str()), "oid");
  return oid;
}

}  // namespace

GitFixture::GitFixture(std::string dir) : dir_(std::move(dir)) {
  git_libgit2_init();
  check(git_repository_init(&repo_, dir_.c_str(), 0), "git init");
  check(git_repository_set_head(repo_, "refs/heads/main"), "set HEAD");
}

GitFixture::~GitFixture() {
  git_repository_free(repo_);
  git_libgit2_shutdown();
}

std::string GitFixture::tip(const std::string& branch) const {
  auto it = tips_.find(branch);
  if (it == tips_.end()) {
    throw std::runtime_error("no branch " + branch);
  }
  return it->second;
}

std::string GitFixture::write(const Files& files,
                              const std::vector<std::string>& parents,
                              const std::string& message,
                              const std::string& branch,
                              const Author& author) {
  git_index* index = nullptr;
  check(git_repository_index(&index, repo_), "index");
  check(git_index_clear(index), "index clear");
  for (const auto& [path, file] : files) {
    git_index_entry entry{};
    entry.mode = file.mode;
    entry.path = path.c_str();
    check(git_index_add_from_buffer(index, &entry, file.content.data(), file.content.size()),
          "index add");
  }
  git_oid tree_oid;
  check(git_index_write_tree(&tree_oid, index), "write tree");
  git_index_free(index);
  git_tree* tree = nullptr;
  check(git_tree_lookup(&tree, repo_, &tree_oid), "tree lookup");

  std::vector<git_commit*> parent_commits;
  for (const auto& p : parents) {
    git_commit* c = nullptr;
    git_oid oid = oidOf(p);
    check(git_commit_lookup(&c, repo_, &oid), "parent lookup");
    parent_commits.push_back(c);
  }
  git_signature* sig = nullptr;
  check(git_signature_new(&sig, author.name.c_str(), author.email.c_str(), author.time_s, 0),
        "signature");
  git_oid commit_oid;
  std::vector<const git_commit*> const_parents(parent_commits.begin(), parent_commits.end());
  check(git_commit_create(&commit_oid,
                          repo_,
                          nullptr,
                          sig,
                          sig,
                          nullptr,
                          message.c_str(),
                          tree,
                          const_parents.size(),
                          const_parents.data()),
        "commit");
  git_signature_free(sig);
  for (auto* c : parent_commits) {
    git_commit_free(c);
  }
  git_tree_free(tree);

  git_reference* ref = nullptr;
  std::string ref_name = "refs/heads/" + branch;
  check(git_reference_create(&ref, repo_, ref_name.c_str(), &commit_oid, 1, "test"), "ref");
  git_reference_free(ref);
  std::string id = hexOf(commit_oid);
  tips_[branch] = id;
  snapshots_[id] = files;
  return id;
}

std::string GitFixture::commit(const Changes& changes,
                               const std::string& message,
                               const std::string& branch,
                               std::optional<Author> author) {
  Files files;
  std::vector<std::string> parents;
  if (auto it = tips_.find(branch); it != tips_.end()) {
    files = snapshots_[it->second];
    parents.push_back(it->second);
  }
  for (const auto& [path, content] : changes) {
    if (content) {
      files[path] = File{*content};
    } else {
      files.erase(path);
    }
  }
  Author a = author.value_or(Author{});
  if (!author) {
    a.time_s = next_time_s_;
  }
  next_time_s_ = std::max(next_time_s_, a.time_s) + 1;
  return write(files, parents, message, branch, a);
}

std::string GitFixture::merge(const std::string& into,
                              const std::string& from,
                              const Changes& changes,
                              const std::string& message) {
  Files files = snapshots_[tip(into)];
  for (const auto& [path, content] : changes) {
    if (content) {
      files[path] = File{*content};
    } else {
      files.erase(path);
    }
  }
  Author a;
  a.time_s = next_time_s_++;
  return write(files, {tip(into), tip(from)}, message, into, a);
}

std::string GitFixture::commitSymlink(const std::string& path,
                                      const std::string& target,
                                      const std::string& branch) {
  Files files;
  std::vector<std::string> parents;
  if (auto it = tips_.find(branch); it != tips_.end()) {
    files = snapshots_[it->second];
    parents.push_back(it->second);
  }
  files[path] = File{target, 0120000};
  Author a;
  a.time_s = next_time_s_++;
  return write(files, parents, "symlink " + path, branch, a);
}

void GitFixture::branch(const std::string& name, const std::string& from_branch) {
  std::string id = tip(from_branch);
  git_oid oid = oidOf(id);
  git_reference* ref = nullptr;
  std::string ref_name = "refs/heads/" + name;
  check(git_reference_create(&ref, repo_, ref_name.c_str(), &oid, 1, "test"), "branch");
  git_reference_free(ref);
  tips_[name] = id;
}

void GitFixture::tag(const std::string& name, const std::string& commit_id, bool annotated) {
  git_oid oid = oidOf(commit_id);
  git_object* target = nullptr;
  check(git_object_lookup(&target, repo_, &oid, GIT_OBJECT_COMMIT), "tag target");
  git_oid tag_oid;
  if (annotated) {
    git_signature* sig = nullptr;
    check(git_signature_new(&sig, "Tagger", "tagger@example.com", next_time_s_, 0), "tagger");
    check(git_tag_create(&tag_oid, repo_, name.c_str(), target, sig, "release", 1), "tag");
    git_signature_free(sig);
  } else {
    check(git_tag_create_lightweight(&tag_oid, repo_, name.c_str(), target, 1), "tag");
  }
  git_object_free(target);
}

std::optional<std::string> runGit(const std::string& dir, const std::string& args) {
  std::string cmd = "git -C '" + dir + "' " + args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): test-only cross-check
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    out.append(buf.data(), n);
  }
  int rc = pclose(pipe);
  if (rc != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace livery::prompts::testing
