#include "prompts/sync.hpp"

#include <algorithm>
#include <unordered_map>

#include "prompts/layout.hpp"
#include "whitelabel/prompt_template.hpp"

namespace livery::prompts {

namespace {

std::string shortId(const std::string& id) {
  return id.substr(0, 7);
}

}  // namespace

std::string_view toString(SkipReason reason) {
  switch (reason) {
    case SkipReason::kAlreadyImported:
      return "already imported";
    case SkipReason::kSameContent:
      return "same content as";
    case SkipReason::kRemoved:
      return "prompt.md removed";
    case SkipReason::kInvalid:
      return "not a valid prompt";
  }
  return "skipped";
}

std::string authorOf(const CommitInfo& commit) {
  if (commit.author_email.empty()) {
    return commit.author_name;
  }
  return commit.author_name + " <" + commit.author_email + ">";
}

SyncPlan planSync(const std::vector<storage::PromptVersion>& existing,
                  std::vector<HistoricPrompt> history,
                  const SyncLimits& limits) {
  SyncPlan plan;
  std::unordered_map<std::string, std::int64_t> imported;  // commit id -> version number
  const storage::PromptVersion* newest = nullptr;
  for (const auto& v : existing) {
    if (!v.commit_id.empty()) {
      imported.emplace(v.commit_id, v.version);
    }
    if (newest == nullptr || v.version > newest->version) {
      newest = &v;
    }
  }
  std::optional<std::string> latest_content;
  std::string latest_label;
  if (newest != nullptr) {
    latest_content = newest->content;
    latest_label = "v" + std::to_string(newest->version);
  }

  whitelabel::PromptLimits prompt_limits;
  prompt_limits.max_template_bytes = limits.max_prompt_bytes;
  for (auto& h : history) {
    auto skip = [&](SkipReason reason, std::string detail) {
      plan.skipped.push_back({std::move(h.commit), reason, std::move(detail)});
    };
    if (auto it = imported.find(h.commit.id); it != imported.end()) {
      skip(SkipReason::kAlreadyImported, "v" + std::to_string(it->second));
      continue;
    }
    if (!h.unreadable.empty()) {
      skip(SkipReason::kInvalid, h.unreadable);
      continue;
    }
    if (!h.content) {
      skip(SkipReason::kRemoved, {});
      continue;
    }
    if (h.content->find_first_not_of(" \t\r\n") == std::string::npos) {
      skip(SkipReason::kInvalid, "the prompt is empty");
      continue;
    }
    // The gateway compiles every version with the same limits before serving it: a version that
    // would not compile is never created.
    auto compiled = whitelabel::CompiledPrompt::compile(*h.content, {}, prompt_limits);
    if (!compiled) {
      skip(SkipReason::kInvalid, compiled.error().client_message);
      continue;
    }
    if (latest_content && *latest_content == *h.content) {
      skip(SkipReason::kSameContent, latest_label);
      continue;
    }
    latest_content = *h.content;
    latest_label = "commit " + shortId(h.commit.id);
    plan.create.push_back({std::move(h.commit), std::move(*h.content)});
  }
  return plan;
}

Result<SyncResult> syncTenant(const GitRepository& repo,
                              PromptVersionStore& store,
                              std::string_view tenant_id,
                              std::string_view tenant_slug,
                              std::string_view ref,
                              const SyncLimits& limits) {
  auto paths = tenantPaths(tenant_slug);
  if (!paths) {
    return paths.error();
  }
  auto head = repo.resolve(ref);
  if (!head) {
    return head.error();
  }
  auto commits = repo.history(head->id, paths->prompt);
  if (!commits) {
    return commits.error();
  }
  if (commits->empty()) {
    return fail(ErrorCode::kNotFound,
                "no " + paths->prompt + " in the history of '" + std::string(ref) + "'");
  }
  std::vector<HistoricPrompt> history;
  history.reserve(commits->size());
  for (auto& c : *commits) {
    HistoricPrompt h;
    auto content = repo.readFile(c.id, paths->prompt, limits.max_prompt_bytes);
    if (content) {
      h.content = std::move(*content);
    } else if (content.error().code == ErrorCode::kPayloadTooLarge ||
               content.error().code == ErrorCode::kUnprocessable) {
      h.unreadable = content.error().client_message;
    } else {
      return content.error();
    }
    h.commit = std::move(c);
    history.push_back(std::move(h));
  }
  auto existing = store.list(tenant_id);
  if (!existing) {
    return existing.error();
  }
  SyncPlan plan = planSync(*existing, std::move(history), limits);
  if (plan.create.size() > limits.max_new_versions) {
    return fail(ErrorCode::kPayloadTooLarge,
                "sync would create " + std::to_string(plan.create.size()) +
                    " versions, more than the limit of " + std::to_string(limits.max_new_versions));
  }
  SyncResult result;
  result.head = std::move(*head);
  result.skipped = std::move(plan.skipped);
  for (auto& p : plan.create) {
    NewPromptVersion nv;
    nv.tenant_id = std::string(tenant_id);
    nv.content = std::move(p.content);
    nv.author = authorOf(p.commit);
    nv.note = "git " + shortId(p.commit.id) + ": " + p.commit.summary;
    nv.commit_id = p.commit.id;
    nv.created_at = p.commit.time_ms;
    auto created = store.create(std::move(nv));
    if (!created) {
      return created.error();
    }
    result.created.push_back(std::move(*created));
  }
  return result;
}

}  // namespace livery::prompts
