// Any OpenAI-compatible server (vLLM, LM Studio, llama.cpp server, Together, Groq, ...) by base
// URL, with the OpenAI SDK's convention: the base includes the version path
// ("https://api.together.xyz/v1") and "/chat/completions", "/embeddings", "/models" follow.
//
// Security posture: the base URL is required and comes only from the tenant's credential, never
// from a request; the upstream client's outbound guard checks it again at connect time (https
// only, no private addresses unless the operator allow-lists them, no redirects). The key header
// may be chosen among "Authorization" (default, "Bearer " prefix), "api-key" and "x-api-key"
// only, so a tenant cannot make Livery send its key in an arbitrary header.
// Options: "auth_header", "auth_prefix" (for Authorization only), "stream_usage" (false for
// servers that reject stream_options; their streams are then metered by estimate).

#include "providers/openai_family.hpp"
#include "providers/target_options.hpp"

namespace livery::providers {

namespace {

class OpenAiCompatibleAdapter final : public OpenAiFamilyAdapter {
 public:
  std::string_view name() const override { return "openai_compatible"; }

 protected:
  Result<std::string> url(Endpoint endpoint, const Target& target) const override {
    auto base = normalizeBaseUrl(target.base_url, {}, name());
    if (!base) {
      return base.error();
    }
    switch (endpoint) {
      case Endpoint::kChat:
        return *base + "/chat/completions";
      case Endpoint::kEmbeddings:
        return *base + "/embeddings";
      case Endpoint::kModels:
        return *base + "/models";
    }
    return *base;
  }

  Result<AuthScheme> auth(const Target& target) const override {
    auto header = optionString(target.options_json, "auth_header");
    if (!header) {
      return header.error();
    }
    auto prefix = optionString(target.options_json, "auth_prefix");
    if (!prefix) {
      return prefix.error();
    }
    std::string name = header->value_or("Authorization");
    if (name == "Authorization" || name == "authorization") {
      std::string p = prefix->value_or("Bearer ");
      if (p != "Bearer " && p != "Token " && !p.empty()) {
        return fail(ErrorCode::kUnprocessable,
                    "The credential option 'auth_prefix' must be \"Bearer \", \"Token \" or "
                    "empty.");
      }
      return AuthScheme{"Authorization", p};
    }
    if (name == "api-key" || name == "x-api-key") {
      return AuthScheme{name, ""};
    }
    return fail(ErrorCode::kUnprocessable,
                "The credential option 'auth_header' must be Authorization, api-key or "
                "x-api-key.");
  }

  Result<bool> streamUsage(const Target& target) const override {
    auto v = optionBool(target.options_json, "stream_usage");
    if (!v) {
      return v.error();
    }
    return v->value_or(true);
  }
};

}  // namespace

std::unique_ptr<ProviderAdapter> makeOpenAiCompatibleAdapter() {
  return std::make_unique<OpenAiCompatibleAdapter>();
}

}  // namespace livery::providers
