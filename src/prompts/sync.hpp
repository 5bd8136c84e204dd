#pragma once

// Sync: import a tenant's prompt history from the repository into the version store.
//
// One version per commit that changed tenants/<slug>/prompt.md (GitRepository::history, oldest
// first), recording the commit id, its author and author time: the audit trail is the Git
// history. A commit is skipped when it is already imported (its commit id is in the store), when
// its content equals the latest version (the store's newest, or the one planned just before it),
// when it removed the file, or when the content cannot be a prompt (empty, not UTF-8, too large).
// Creating a version never activates it; a second sync of the same ref creates nothing.
//
// planSync() is the pure decision; syncTenant() reads Git, plans and creates. Blocking (Git and
// store I/O): run it from the CLI or a worker thread, never on an I/O thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "prompts/git_repository.hpp"
#include "prompts/version_store.hpp"
#include "storage/model.hpp"

namespace livery::prompts {

// One commit of the history with prompt.md's content at that commit (nullopt: removed).
struct HistoricPrompt {
  CommitInfo commit;
  std::optional<std::string> content;
  std::string unreadable;  // why the content could not be read (too large, a symlink); or empty
};

enum class SkipReason { kAlreadyImported, kSameContent, kRemoved, kInvalid };
std::string_view toString(SkipReason reason);

struct SkippedCommit {
  CommitInfo commit;
  SkipReason reason = SkipReason::kSameContent;
  std::string detail;  // "v3", "v2", the validation error …
};

struct PlannedVersion {
  CommitInfo commit;
  std::string content;
};

struct SyncPlan {
  std::vector<PlannedVersion> create;  // in commit order
  std::vector<SkippedCommit> skipped;
};

struct SyncLimits {
  std::size_t max_prompt_bytes = 256 * 1024;  // = whitelabel::PromptLimits::max_template_bytes
  std::size_t max_new_versions = 1'000;       // per sync run
};

// `existing`: the tenant's versions (any order); `history`: oldest first.
SyncPlan planSync(const std::vector<storage::PromptVersion>& existing,
                  std::vector<HistoricPrompt> history,
                  const SyncLimits& limits = {});

struct SyncResult {
  CommitInfo head;  // what `ref` resolved to
  std::vector<storage::PromptVersion> created;
  std::vector<SkippedCommit> skipped;
};

// Resolves `ref`, plans against the store and creates the planned versions in order. Errors:
// the ref's (kNotFound, ...), the store's, kNotFound when the ref has no prompt.md for the slug,
// kPayloadTooLarge beyond max_new_versions. A failure part-way leaves the versions created so
// far; running sync again completes the import (it is idempotent).
[[nodiscard]] Result<SyncResult> syncTenant(const GitRepository& repo,
                                            PromptVersionStore& store,
                                            std::string_view tenant_id,
                                            std::string_view tenant_slug,
                                            std::string_view ref,
                                            const SyncLimits& limits = {});

// "Name <email>" as recorded in a version's author.
std::string authorOf(const CommitInfo& commit);

}  // namespace livery::prompts
