#pragma once

// PromptVersionStore in memory: the reference implementation of the contract in
// prompts/version_store.hpp, for tests and for tools that run without a database.
//
// Thread-safety: every member is safe to call concurrently (one mutex). The Clock is borrowed and
// must outlive the store.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "prompts/version_store.hpp"

namespace livery::prompts {

class InMemoryPromptVersionStore final : public PromptVersionStore {
 public:
  explicit InMemoryPromptVersionStore(const Clock& clock) : clock_(clock) {}

  Result<std::vector<storage::PromptVersion>> list(std::string_view tenant_id) override;
  Result<storage::PromptVersion> create(NewPromptVersion version) override;
  Result<void> recordEval(std::string_view tenant_id,
                          std::string_view version_id,
                          std::string eval_json,
                          bool passed) override;
  Result<void> activate(std::string_view tenant_id, std::string_view version_id) override;

 private:
  storage::PromptVersion* findLocked(std::string_view tenant_id, std::string_view version_id);

  const Clock& clock_;
  std::mutex mu_;  // guards versions_
  std::map<std::string, std::vector<storage::PromptVersion>, std::less<>> versions_;
};

}  // namespace livery::prompts
