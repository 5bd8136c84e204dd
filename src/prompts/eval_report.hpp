#pragma once

// The result of evaluating one prompt candidate against a golden dataset: per case pass/fail,
// which assertions failed and why, latency; the pass rate against the threshold. Rendered as
// text for the CLI and as JSON to store with the version (storage::PromptVersion::eval_json).
//
// The report never contains the prompt itself (only its SHA-256: prompts are confidential per
// tenant) nor anything but the client-safe message of a ChatRunner error. Reply excerpts in
// failure messages are short and sanitised.
//
// Pure functions; a report is a plain value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace livery::prompts {

inline constexpr int kEvalReportFormat = 1;

struct AssertionFailure {
  std::size_t index = 0;  // position in the case's "assert" array
  std::string type;       // "contains", "judge", ...
  std::string message;
};

struct CaseResult {
  std::string id;
  std::size_t line = 0;
  bool passed = false;
  std::string error;  // the case produced no reply (call error, timeout); empty otherwise
  std::vector<AssertionFailure> failures;
  std::size_t judges_skipped = 0;  // judge assertions not run because the case had failed
  std::int64_t latency_ms = 0;     // of the case's chat call
  std::size_t reply_chars = 0;
};

struct EvalReport {
  std::string tenant_id;
  std::string tenant_slug;
  std::string version_id;    // empty: the candidate is not a stored version
  std::int64_t version = 0;  // its number, 0 when not stored
  std::string content_sha256;
  std::string dataset_sha256;
  std::string ref;
  std::string commit_id;  // where prompt.yaml and golden.jsonl were read
  std::string model;
  double threshold = 1.0;
  std::size_t cases_total = 0;
  std::size_t cases_passed = 0;
  bool passed = false;
  std::int64_t started_at_ms = 0;
  std::int64_t duration_ms = 0;
  std::vector<CaseResult> cases;

  double passRate() const;
};

// The number of passing cases needed: ceil(threshold × total), with a tolerance for binary
// fractions (0.9 × 10 needs 9, not 10). At least 1 for a non-empty dataset.
std::size_t requiredPasses(double threshold, std::size_t total);

std::string renderText(const EvalReport& report);
std::string toJson(const EvalReport& report);

// The part of a stored report that the promotion gate checks.
struct EvalSummary {
  std::string version_id;
  std::string content_sha256;
  std::string commit_id;
  bool passed = false;
  std::size_t cases_total = 0;
  std::size_t cases_passed = 0;
  double threshold = 1.0;
};

// kUnprocessable for anything that is not a report of kEvalReportFormat.
[[nodiscard]] Result<EvalSummary> parseEvalSummary(std::string_view json);

}  // namespace livery::prompts
