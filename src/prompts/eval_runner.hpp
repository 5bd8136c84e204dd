#pragma once

// Runs a golden dataset against one prompt candidate through a ChatRunner and produces an
// EvalReport.
//
// - Bounded concurrency: at most min(prompt.yaml eval.concurrency, EvalOptions::max_concurrency)
//   cases are in flight; cases start in dataset order.
// - Per-case deadline: eval.case_timeout_s (capped by EvalOptions::max_case_timeout) covers the
//   case's chat call and its judge calls; at the deadline the pending call is cancelled (Asio
//   per-operation cancellation) and the case fails with a timeout.
// - A case passes when its call returned a reply within max_reply_bytes and every assertion
//   held. Judge assertions run last and only when every other assertion held (a failed case
//   does not spend the tenant's tokens on a judge); each judge call injects no tenant prompt.
// - The report passes when cases_passed >= requiredPasses(threshold, cases_total).
//
// Thread-safety: run() may be awaited from any executor; the cases of one run execute on a
// strand of that executor, so the ChatRunner sees concurrent calls from one strand. An
// EvalRunner holds no per-run state and may serve several runs at once. The ChatRunner and the
// Clock are borrowed and must outlive every run.

#include <chrono>
#include <cstddef>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/net.hpp"
#include "prompts/chat_runner.hpp"
#include "prompts/dataset.hpp"
#include "prompts/eval_report.hpp"
#include "prompts/layout.hpp"

namespace livery::prompts {

struct EvalOptions {
  std::size_t max_concurrency = 16;  // operator cap over prompt.yaml
  std::chrono::milliseconds max_case_timeout{std::chrono::minutes(10)};
  std::size_t max_reply_bytes = 1024 * 1024;  // a larger reply fails its case
};

// What to evaluate: the candidate prompt, the dataset and settings it is judged by, and where
// they came from (for the report).
struct EvalSubject {
  std::string tenant_id;
  std::string tenant_slug;
  std::string version_id;  // empty when the candidate is not a stored version
  std::int64_t version = 0;
  std::string prompt;  // the candidate template (prompt.md or the stored content)
  std::string ref;
  std::string commit_id;  // where meta and dataset were read
  PromptMeta meta;
  GoldenDataset dataset;
};

class EvalRunner {
 public:
  EvalRunner(ChatRunner& runner, const Clock& clock, EvalOptions options = {});

  // kUnprocessable (before any call) when the dataset uses judge assertions and prompt.yaml has
  // no judge section, or when the dataset is empty. Otherwise the report; ChatRunner errors and
  // timeouts are case failures inside it, never an Error here.
  net::awaitable<Result<EvalReport>> run(EvalSubject subject);

  // The per-case timeout and concurrency a subject gets after the operator caps.
  std::chrono::milliseconds caseTimeout(const PromptMeta& meta) const;
  std::size_t concurrency(const PromptMeta& meta, std::size_t cases) const;

 private:
  ChatRunner& runner_;
  const Clock& clock_;
  EvalOptions options_;
};

}  // namespace livery::prompts
