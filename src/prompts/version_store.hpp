#pragma once

// The store side of the prompt repository: what sync, eval and promote need from wherever prompt
// versions live. The lead adapts storage's PromptStore to it; InMemoryPromptVersionStore is the
// reference implementation, and tests/unit/prompts/version_store_contract.hpp is the contract
// suite every implementation must pass.
//
// Records are storage::PromptVersion (src/storage/model.hpp): id, tenant_id, version (1, 2, 3 …
// per tenant), content, author, note, commit_id, eval_json, eval_passed, status, created_at,
// activated_at.
//
// Contract (every implementation):
//  - list() returns every version of the tenant, ascending by `version`; an unknown tenant has
//    none (not an error).
//  - create() stores a kDraft version numbered one more than the tenant's highest, with a fresh
//    id; it never activates anything. created_at is the given time (the commit's author time for
//    imported versions) or the store's clock when 0. kConflict when the tenant already has a
//    version with the same non-empty commit_id (two concurrent syncs cannot import one commit
//    twice).
//  - recordEval() replaces the version's eval_json and eval_passed, whatever its status.
//    kNotFound when the tenant has no such version.
//  - activate() makes the version the tenant's only kActive one (the previous one becomes
//    kRetired), sets activated_at, and makes requests use it from then on (the change feed of
//    the real store). Activating the active version again is a no-op success. kNotFound as above.
//  - Versions are never deleted or edited otherwise: content and commit_id are immutable.
//  - Tenant isolation: every call is scoped by tenant_id; a version id of another tenant is
//    kNotFound.
//  - Thread-safety: implementations are safe to call from several threads. Calls may block
//    (disk, network): never call them on an I/O thread.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"

namespace livery::prompts {

struct NewPromptVersion {
  std::string tenant_id;
  std::string content;
  std::string author;     // "Name <email>" of the commit author (or the console user)
  std::string note;       // e.g. "git 1a2b3c4: Tighten the refund answer"
  std::string commit_id;  // 40 hex; empty for versions not imported from Git
  storage::Millis created_at = 0;
};

class PromptVersionStore {
 public:
  virtual ~PromptVersionStore() = default;

  [[nodiscard]] virtual Result<std::vector<storage::PromptVersion>> list(
      std::string_view tenant_id) = 0;
  [[nodiscard]] virtual Result<storage::PromptVersion> create(NewPromptVersion version) = 0;
  [[nodiscard]] virtual Result<void> recordEval(std::string_view tenant_id,
                                                std::string_view version_id,
                                                std::string eval_json,
                                                bool passed) = 0;
  [[nodiscard]] virtual Result<void> activate(std::string_view tenant_id,
                                              std::string_view version_id) = 0;
};

}  // namespace livery::prompts
