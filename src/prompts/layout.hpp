#pragma once

// The prompt repository layout (docs/design/prompt-repository.md):
//
//   tenants/<slug>/prompt.md      the system prompt template (whitelabel/prompt_template.hpp)
//   tenants/<slug>/prompt.yaml    metadata: description, the evaluation model and threshold,
//                                 concurrency and per-case timeout, judge settings
//   tenants/<slug>/golden.jsonl   the golden dataset (prompts/dataset.hpp)
//
// prompt.yaml:
//
//   description: Support assistant for Acme     # optional, free text
//   eval:
//     model: gpt-4o-mini        # required: a model alias of the tenant's routes
//     threshold: 1.0            # pass rate needed, 0 < t <= 1 (default 1.0: every case)
//     concurrency: 4            # cases in flight (default 4, 1..16)
//     case_timeout_s: 60        # per case, judge calls included (default 60, 1..600)
//     temperature: 0            # optional, 0..2
//     max_tokens: 512           # optional, 1..32768
//   judge:                      # required when a case uses a judge assertion
//     model: gpt-4o             # a model alias of the tenant's routes
//     temperature: 0            # optional (default 0)
//     max_tokens: 256           # optional (default 256)
//
// Unknown keys are errors (with their line), so a misspelt "threshhold" cannot silently leave the
// default in place. Pure functions, safe from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace livery::prompts {

inline constexpr std::string_view kTenantsDir = "tenants";
inline constexpr std::string_view kPromptFile = "prompt.md";
inline constexpr std::string_view kMetaFile = "prompt.yaml";
inline constexpr std::string_view kDatasetFile = "golden.jsonl";

struct TenantPaths {
  std::string dir;      // tenants/<slug>
  std::string prompt;   // tenants/<slug>/prompt.md
  std::string meta;     // tenants/<slug>/prompt.yaml
  std::string dataset;  // tenants/<slug>/golden.jsonl
};

// kBadRequest unless `slug` is a valid tenant slug (whitelabel::isValidSlug): the slug becomes a
// path, so nothing else may reach the tree lookup.
[[nodiscard]] Result<TenantPaths> tenantPaths(std::string_view slug);

struct JudgeSettings {
  std::string model;
  double temperature = 0.0;
  std::uint32_t max_tokens = 256;
};

struct PromptMeta {
  std::string description;
  std::string model;
  double threshold = 1.0;
  std::size_t concurrency = 4;
  std::chrono::seconds case_timeout{60};
  std::optional<double> temperature;
  std::optional<std::uint32_t> max_tokens;
  std::optional<JudgeSettings> judge;
};

// kUnprocessable with "prompt.yaml line N: ..." for malformed or out-of-range metadata.
[[nodiscard]] Result<PromptMeta> parsePromptMeta(std::string_view yaml);

// [A-Za-z0-9._:/@-]{1,128}: what a model alias may look like.
bool isValidModelName(std::string_view model);

}  // namespace livery::prompts
