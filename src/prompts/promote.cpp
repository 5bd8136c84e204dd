#include "prompts/promote.hpp"

#include <algorithm>
#include <cstdio>

#include "prompts/dataset.hpp"
#include "prompts/eval_report.hpp"

namespace livery::prompts {

namespace {

std::string label(const storage::PromptVersion& v) {
  return "v" + std::to_string(v.version);
}

std::string stays(const std::optional<storage::PromptVersion>& active) {
  return active ? label(*active) + " stays active" : "no version is active";
}

std::optional<std::int64_t> versionNumber(std::string_view s) {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 15) {
    return std::nullopt;
  }
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

Result<storage::PromptVersion> findVersion(const std::vector<storage::PromptVersion>& versions,
                                           std::string_view selector) {
  if (selector.empty()) {
    return fail(ErrorCode::kBadRequest, "no version given (a number, an id or 'latest')");
  }
  if (selector == "latest") {
    auto it = std::max_element(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
      return a.version < b.version;
    });
    if (it == versions.end()) {
      return fail(ErrorCode::kNotFound, "the tenant has no prompt versions");
    }
    return *it;
  }
  auto number = versionNumber(selector);
  for (const auto& v : versions) {
    if (v.id == selector || (number && v.version == *number)) {
      return v;
    }
  }
  return fail(ErrorCode::kNotFound,
              "prompt version '" + std::string(selector.substr(0, 64)) + "' not found");
}

std::optional<storage::PromptVersion> activeVersion(
    const std::vector<storage::PromptVersion>& versions) {
  for (const auto& v : versions) {
    if (v.status == storage::PromptStatus::kActive) {
      return v;
    }
  }
  return std::nullopt;
}

Result<PromoteResult> promoteVersion(PromptVersionStore& store,
                                     std::string_view tenant_id,
                                     std::string_view selector) {
  auto versions = store.list(tenant_id);
  if (!versions) {
    return versions.error();
  }
  auto target = findVersion(*versions, selector);
  if (!target) {
    return target.error();
  }
  PromoteResult result;
  result.previous = activeVersion(*versions);
  result.version = *target;
  const std::string name = label(*target);
  auto refuse = [&](const std::string& why) {
    return fail(ErrorCode::kConflict,
                "refusing to promote " + name + ": " + why + "; " + stays(result.previous));
  };
  if (target->eval_json.empty()) {
    return refuse("it has no recorded evaluation (run `livery prompts eval --version " +
                  std::to_string(target->version) + "` first)");
  }
  auto summary = parseEvalSummary(target->eval_json);
  if (!summary) {
    return refuse("its recorded evaluation cannot be read (run the evaluation again)");
  }
  if (summary->content_sha256 != sha256Hex(target->content) || summary->version_id != target->id) {
    return refuse("its recorded evaluation was of different content (run the evaluation again)");
  }
  if (!summary->passed || !target->eval_passed) {
    char rate[64];
    std::snprintf(rate,
                  sizeof rate,
                  "%zu/%zu cases passed, threshold %.0f%%",
                  summary->cases_passed,
                  summary->cases_total,
                  summary->threshold * 100.0);
    return refuse("it failed its evaluation (" + std::string(rate) + ")");
  }
  if (target->status == storage::PromptStatus::kActive) {
    result.already_active = true;
    return result;
  }
  if (auto activated = store.activate(tenant_id, target->id); !activated) {
    return activated.error();
  }
  return result;
}

}  // namespace livery::prompts
