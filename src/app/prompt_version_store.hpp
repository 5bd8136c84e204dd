#pragma once

// prompts::PromptVersionStore over the product's store (the contract is in
// prompts/version_store.hpp): what `livery prompts sync|eval|promote` and the evaluation gate
// read and change. Reads come from storage's PromptStore; every change goes through the
// ControlPlane, so it is validated and audited like the same change from the console
// ("prompt.created", "prompt.evaluated", "prompt.activated") and, for an activation, recorded in
// the change feed that every node's IndexSync applies within one poll. When this process runs a
// node (`sync` given), the activation also refreshes this node's indexes at once, so the next
// request here carries the new version.
//
// The store-level gate stays in force: ControlPlane::activatePrompt refuses a version whose
// recorded evaluation failed, whatever the caller checked before.
//
// Bounds: list() returns at most storage::kMaxPageSize (10,000) versions per tenant (the newest).
//
// Thread-safety: stateless; safe to call from several threads (the ControlPlane and IndexSync
// are). Every call blocks on the store: never call from an I/O thread. The ControlPlane, the
// IndexSync and the Logger are borrowed and must outlive the adapter.

#include <string>
#include <string_view>
#include <vector>

#include "control/control_plane.hpp"
#include "prompts/version_store.hpp"

namespace livery {
class Logger;
}
namespace livery::control {
class IndexSync;
}

namespace livery::app {

class ControlPlanePromptVersionStore final : public prompts::PromptVersionStore {
 public:
  // `sync`: this node's index sync, or nullptr when the process serves no requests (the CLI).
  ControlPlanePromptVersionStore(control::ControlPlane& control,
                                 control::IndexSync* sync,
                                 control::Actor actor,
                                 Logger* log = nullptr);

  Result<std::vector<storage::PromptVersion>> list(std::string_view tenant_id) override;
  Result<storage::PromptVersion> create(prompts::NewPromptVersion version) override;
  Result<void> recordEval(std::string_view tenant_id,
                          std::string_view version_id,
                          std::string eval_json,
                          bool passed) override;
  Result<void> activate(std::string_view tenant_id, std::string_view version_id) override;

 private:
  control::ControlPlane& control_;
  control::IndexSync* sync_;
  control::Actor actor_;
  Logger* log_;
};

}  // namespace livery::app
