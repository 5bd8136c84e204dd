#pragma once

// The promotion gate: a prompt version becomes the tenant's active version only when its
// recorded evaluation passed and was an evaluation of exactly that content (the SHA-256 in the
// stored report equals the version's content hash, and the report names that version).
// Otherwise promotion is refused with a message that says why and which version stays active;
// nothing changes in the store.
//
// Blocking (store calls): CLI or worker thread only.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "prompts/version_store.hpp"
#include "storage/model.hpp"

namespace livery::prompts {

// "latest" (the highest version number), "3" or "v3" (a version number), or a version id.
// kNotFound when nothing matches; kBadRequest for an empty selector.
[[nodiscard]] Result<storage::PromptVersion> findVersion(
    const std::vector<storage::PromptVersion>& versions, std::string_view selector);

// The tenant's active version, if any.
std::optional<storage::PromptVersion> activeVersion(
    const std::vector<storage::PromptVersion>& versions);

struct PromoteResult {
  storage::PromptVersion version;                  // as it was before activation
  std::optional<storage::PromptVersion> previous;  // the version that was active
  bool already_active = false;
};

// kConflict (refused; client_message explains and names the version that stays active) when the
// version has no recorded evaluation, its evaluation failed, cannot be read, or was of other
// content or another version; kNotFound / kBadRequest from findVersion; the store's errors.
[[nodiscard]] Result<PromoteResult> promoteVersion(PromptVersionStore& store,
                                                   std::string_view tenant_id,
                                                   std::string_view selector);

}  // namespace livery::prompts
