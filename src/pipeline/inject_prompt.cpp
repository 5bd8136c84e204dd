#include "pipeline/inject_prompt.hpp"

#include "core/clock.hpp"
#include "whitelabel/prompt_cache.hpp"
#include "whitelabel/prompt_template.hpp"

namespace livery::pipeline {

InjectPromptStage::InjectPromptStage(std::string operator_policy,
                                     whitelabel::PromptCache& cache,
                                     const Clock& clock)
    : operator_policy_(std::move(operator_policy)), cache_(cache), clock_(clock) {}

net::awaitable<Result<void>> InjectPromptStage::onRequest(RequestContext& ctx) {
  if (ctx.endpoint != Endpoint::kChat) {
    co_return Result<void>{};
  }
  const auto& tenant = *ctx.tenant;  // resolve_tenant runs first (pipeline.cpp)
  whitelabel::PromptValues values;
  values.tenant_name = tenant.branding.display_name.empty() ? tenant.tenant.display_name
                                                            : tenant.branding.display_name;
  values.user = ctx.end_user;
  values.model = ctx.model;
  values.now = clock_.wallNow();

  std::string tenant_prompt;
  if (ctx.prompt_override) {
    auto rendered = renderOverride(ctx, values);
    if (!rendered) {
      co_return rendered.error();
    }
    tenant_prompt = std::move(*rendered);
    ctx.prompt_version_id = ctx.prompt_override->version_id;
  } else if (tenant.active_prompt) {
    const auto& pv = *tenant.active_prompt;
    auto compiled = cache_.getOrCompile(
        tenant.tenant.id, pv.id, [&]() -> Result<std::string> { return pv.content; });
    if (!compiled) {
      co_return compiled.error();
    }
    tenant_prompt = (*compiled)->render(values);
    ctx.prompt_version_id = pv.id;
  }
  std::string policy;
  if (!operator_policy_.empty() && (!ctx.prompt_override || ctx.prompt_override->operator_policy)) {
    // The operator policy is compiled under a reserved owner; it is the same for every tenant
    // and carries no tenant data until rendered with this request's values.
    auto compiled = cache_.getOrCompile(
        "~operator", "policy", [&]() -> Result<std::string> { return operator_policy_; });
    if (!compiled) {
      co_return compiled.error();
    }
    policy = (*compiled)->render(values);
  }
  ctx.system_prompt = whitelabel::composeSystemPrompt(policy, tenant_prompt, {});
  co_return Result<void>{};
}

Result<std::string> InjectPromptStage::renderOverride(const RequestContext& ctx,
                                                      const whitelabel::PromptValues& values) {
  const PromptOverride& o = *ctx.prompt_override;
  if (o.template_text.empty()) {
    return std::string();
  }
  // Compiled per call, never through the cache: a candidate is not the active version, and an
  // entry keyed by its version id must only ever hold that version's stored content.
  auto compiled =
      whitelabel::CompiledPrompt::compile(o.template_text, {ctx.tenant->tenant.id, o.version_id});
  if (!compiled) {
    return compiled.error();
  }
  return compiled->render(values);
}

}  // namespace livery::pipeline
