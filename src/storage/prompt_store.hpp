#pragma once

// Versioned system prompts per tenant. Versions are numbered 1, 2, 3 … per tenant (gap-free,
// assigned under a lock). At most one version of a tenant is active, and Tenant.active_prompt_id
// always names it: activate() and rollback() retire the previous one, activate the new one and
// update the tenant (revision bump) in ONE transaction, recording "prompt" and "tenant"
// changes. The evaluation gate is enforced here as a last line of defence: activate() refuses
// a version whose recorded evaluation did not pass unless told otherwise. Thread-safe; see
// store_common.hpp for conventions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

// What activate() checks about the version's recorded evaluation, inside its transaction:
// kRequirePassed: it must have passed; kRefuseFailed: it must not have failed (a version never
// evaluated may go live: the console's rule); kSkip: nothing.
enum class EvalGate { kRequirePassed, kRefuseFailed, kSkip };

class PromptStore {
 public:
  PromptStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Adds a draft as the tenant's next version (tenant_id, content, author, note, commit_id
  // and created_at are taken from `draft`; id generated if empty, created_at from the clock if
  // 0). kConflict if the tenant does not exist, or if `draft.commit_id` is non-empty and the
  // tenant already has a version of that commit (a Git commit is imported once).
  [[nodiscard]] Result<PromptVersion> create(PromptVersion draft);
  [[nodiscard]] Result<PromptVersion> get(std::string_view tenant_id, std::string_view id);
  [[nodiscard]] Result<PromptVersion> getVersion(std::string_view tenant_id, std::int64_t version);
  // Newest first, at most `limit`.
  [[nodiscard]] Result<std::vector<PromptVersion>> list(std::string_view tenant_id,
                                                        std::size_t limit = 100);
  // The active version; kNotFound if none.
  [[nodiscard]] Result<PromptVersion> active(std::string_view tenant_id);
  // The active version of every tenant that has one, in tenant-id order, a page at a time
  // (start-up index loading; Page::after is a tenant id).
  [[nodiscard]] Result<std::vector<PromptVersion>> listActiveAll(const Page& page);
  // Stores the latest evaluation result of a version.
  [[nodiscard]] Result<void> recordEval(std::string_view tenant_id,
                                        std::string_view id,
                                        std::string_view eval_json,
                                        bool passed);
  // Makes `id` the active version. With kRequirePassed, a version whose evaluation has not
  // passed is refused with kUnprocessable; with kRefuseFailed, one whose recorded evaluation
  // failed. Activating the active version is a no-op.
  [[nodiscard]] Result<PromptVersion> activate(std::string_view tenant_id,
                                               std::string_view id,
                                               EvalGate gate = EvalGate::kRequirePassed);
  // Steps back: activates the highest version below the active one that was ever active
  // (v3 → v2 → v1 on repeated calls). kNotFound if nothing is active or nothing was earlier.
  [[nodiscard]] Result<PromptVersion> rollback(std::string_view tenant_id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
