#pragma once

#include <string>

#include "pipeline/stage.hpp"

namespace livery {
class Clock;
}
namespace livery::whitelabel {
class PromptCache;
struct PromptValues;
}  // namespace livery::whitelabel

namespace livery::pipeline {

// The tenant's system prompt for this request: the operator policy prompt, then the tenant's
// active prompt version, rendered with {{tenant_name}}, {{user}}, {{date}}, {{model}}. The
// request's own system message is merged after both by the provider adapter (it stays in the
// body). Compiled prompts are cached by (tenant id, prompt version id) only, so an activation or
// a rollback takes effect on the next request and nothing is shared across tenants.
// An internal call (Pipeline::runInternal) may carry a PromptOverride: its template replaces the
// active version for that call only (compiled for the call, not cached), and it may leave the
// operator policy out.
class InjectPromptStage final : public Stage {
 public:
  InjectPromptStage(std::string operator_policy,
                    whitelabel::PromptCache& cache,
                    const Clock& clock);
  std::string_view name() const override { return "inject_prompt"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  static Result<std::string> renderOverride(const RequestContext& ctx,
                                            const whitelabel::PromptValues& values);

  std::string operator_policy_;
  whitelabel::PromptCache& cache_;
  const Clock& clock_;
};

}  // namespace livery::pipeline
