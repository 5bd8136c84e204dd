// Azure OpenAI: the OpenAI wire format behind per-deployment URLs,
//   {base}/openai/deployments/{deployment}/chat/completions?api-version={version}
// where the deployment is the Deployment's model and the version comes from the credential's
// options ({"api_version": "..."}, default kDefaultApiVersion, the GA version that supports
// stream_options.include_usage).
//
// Security posture: sends only to the credential's base URL (required, e.g.
// https://<resource>.openai.azure.com), re-checked by the outbound guard at connect time. The
// deployment name and API version are restricted to [A-Za-z0-9._-], so neither can change the
// path or add query parameters. The key travels in the "api-key" header (or "Authorization:
// Bearer" for an Entra ID token with {"auth": "bearer"}), injected by the upstream client.
// Options: "api_version", "auth" ("api-key" | "bearer"), "stream_usage" (false for API versions
// that reject stream_options).

#include "providers/openai_family.hpp"
#include "providers/target_options.hpp"

namespace livery::providers {

namespace {

constexpr std::string_view kDefaultApiVersion = "2024-10-21";

class AzureOpenAiAdapter final : public OpenAiFamilyAdapter {
 public:
  std::string_view name() const override { return "azure"; }

 protected:
  Result<std::string> url(Endpoint endpoint, const Target& target) const override {
    auto base = normalizeBaseUrl(target.base_url, {}, name(), "/openai");
    if (!base) {
      return base.error();
    }
    auto version = optionString(target.options_json, "api_version");
    if (!version) {
      return version.error();
    }
    std::string api_version = version->value_or(std::string(kDefaultApiVersion));
    if (!isUrlSafeToken(api_version)) {
      return fail(ErrorCode::kUnprocessable,
                  "The deployment's azure credential option 'api_version' must look like "
                  "2024-10-21.");
    }
    if (endpoint == Endpoint::kModels) {
      return *base + "/openai/models?api-version=" + api_version;
    }
    if (!isUrlSafeToken(target.model)) {
      return fail(ErrorCode::kUnprocessable,
                  "The Azure deployment name must be letters, digits, '.', '_' or '-'.");
    }
    std::string url = *base + "/openai/deployments/" + std::string(target.model);
    url += endpoint == Endpoint::kChat ? "/chat/completions" : "/embeddings";
    url += "?api-version=" + api_version;
    return url;
  }

  Result<AuthScheme> auth(const Target& target) const override {
    auto mode = optionString(target.options_json, "auth");
    if (!mode) {
      return mode.error();
    }
    if (!*mode || **mode == "api-key") {
      return AuthScheme{"api-key", ""};
    }
    if (**mode == "bearer") {
      return AuthScheme{"Authorization", "Bearer "};
    }
    return fail(ErrorCode::kUnprocessable,
                "The deployment's azure credential option 'auth' must be \"api-key\" or "
                "\"bearer\".");
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

std::unique_ptr<ProviderAdapter> makeAzureOpenAiAdapter() {
  return std::make_unique<AzureOpenAiAdapter>();
}

}  // namespace livery::providers
