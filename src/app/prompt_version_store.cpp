#include "app/prompt_version_store.hpp"

#include <algorithm>
#include <utility>

#include "control/index_sync.hpp"
#include "core/log.hpp"
#include "storage/store_common.hpp"
#include "storage/stores.hpp"

namespace livery::app {

ControlPlanePromptVersionStore::ControlPlanePromptVersionStore(control::ControlPlane& control,
                                                               control::IndexSync* sync,
                                                               control::Actor actor,
                                                               Logger* log)
    : control_(control), sync_(sync), actor_(std::move(actor)), log_(log) {}

Result<std::vector<storage::PromptVersion>> ControlPlanePromptVersionStore::list(
    std::string_view tenant_id) {
  auto versions = control_.stores().prompts.list(tenant_id, storage::kMaxPageSize);
  if (!versions) {
    return versions.error();
  }
  std::reverse(versions->begin(), versions->end());  // the store lists newest first
  return versions;
}

Result<storage::PromptVersion> ControlPlanePromptVersionStore::create(
    prompts::NewPromptVersion version) {
  storage::PromptVersion draft;
  draft.tenant_id = std::move(version.tenant_id);
  draft.content = std::move(version.content);
  draft.author = std::move(version.author);
  draft.note = std::move(version.note);
  draft.commit_id = std::move(version.commit_id);
  draft.created_at = version.created_at;
  return control_.createPrompt(actor_, std::move(draft));
}

Result<void> ControlPlanePromptVersionStore::recordEval(std::string_view tenant_id,
                                                        std::string_view version_id,
                                                        std::string eval_json,
                                                        bool passed) {
  return control_.recordPromptEval(actor_, tenant_id, version_id, eval_json, passed);
}

Result<void> ControlPlanePromptVersionStore::activate(std::string_view tenant_id,
                                                      std::string_view version_id) {
  auto active = control_.activatePrompt(actor_, tenant_id, version_id);
  if (!active) {
    return active.error();
  }
  if (sync_ != nullptr) {
    // The change feed would bring it within a poll; this node's next request should not wait.
    if (auto refreshed = sync_->refreshTenant(tenant_id); !refreshed && log_ != nullptr) {
      LIVERY_LOG(*log_,
                 Warn,
                 "index_refresh_failed",
                 {"tenant_id", tenant_id},
                 {"error", refreshed.error().log_detail});
    }
  }
  return {};
}

}  // namespace livery::app
