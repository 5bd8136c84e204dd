#include "prompts/memory_version_store.hpp"

#include "core/ids.hpp"

namespace livery::prompts {

namespace {

Error versionNotFound(std::string_view version_id) {
  return fail(ErrorCode::kNotFound,
              "prompt version '" + std::string(version_id.substr(0, 64)) + "' not found");
}

}  // namespace

storage::PromptVersion* InMemoryPromptVersionStore::findLocked(std::string_view tenant_id,
                                                               std::string_view version_id) {
  auto it = versions_.find(tenant_id);
  if (it == versions_.end()) {
    return nullptr;
  }
  for (auto& v : it->second) {
    if (v.id == version_id) {
      return &v;
    }
  }
  return nullptr;
}

Result<std::vector<storage::PromptVersion>> InMemoryPromptVersionStore::list(
    std::string_view tenant_id) {
  std::lock_guard lock(mu_);
  auto it = versions_.find(tenant_id);
  if (it == versions_.end()) {
    return std::vector<storage::PromptVersion>{};
  }
  return it->second;  // kept in ascending version order by create()
}

Result<storage::PromptVersion> InMemoryPromptVersionStore::create(NewPromptVersion version) {
  if (version.tenant_id.empty()) {
    return fail(ErrorCode::kBadRequest, "a prompt version needs a tenant");
  }
  std::lock_guard lock(mu_);
  auto& list = versions_[version.tenant_id];
  if (!version.commit_id.empty()) {
    for (const auto& v : list) {
      if (v.commit_id == version.commit_id) {
        return fail(ErrorCode::kConflict,
                    "commit " + version.commit_id + " is already imported as v" +
                        std::to_string(v.version));
      }
    }
  }
  storage::PromptVersion v;
  v.id = randomId("pv");
  v.tenant_id = std::move(version.tenant_id);
  v.version = list.empty() ? 1 : list.back().version + 1;
  v.content = std::move(version.content);
  v.author = std::move(version.author);
  v.note = std::move(version.note);
  v.commit_id = std::move(version.commit_id);
  v.status = storage::PromptStatus::kDraft;
  v.created_at = version.created_at != 0 ? version.created_at : clock_.unixMillis();
  list.push_back(v);
  return v;
}

Result<void> InMemoryPromptVersionStore::recordEval(std::string_view tenant_id,
                                                    std::string_view version_id,
                                                    std::string eval_json,
                                                    bool passed) {
  std::lock_guard lock(mu_);
  storage::PromptVersion* v = findLocked(tenant_id, version_id);
  if (v == nullptr) {
    return versionNotFound(version_id);
  }
  v->eval_json = std::move(eval_json);
  v->eval_passed = passed;
  return {};
}

Result<void> InMemoryPromptVersionStore::activate(std::string_view tenant_id,
                                                  std::string_view version_id) {
  std::lock_guard lock(mu_);
  storage::PromptVersion* target = findLocked(tenant_id, version_id);
  if (target == nullptr) {
    return versionNotFound(version_id);
  }
  if (target->status == storage::PromptStatus::kActive) {
    return {};
  }
  for (auto& v : versions_.find(tenant_id)->second) {
    if (v.status == storage::PromptStatus::kActive) {
      v.status = storage::PromptStatus::kRetired;
    }
  }
  target->status = storage::PromptStatus::kActive;
  target->activated_at = clock_.unixMillis();
  return {};
}

}  // namespace livery::prompts
