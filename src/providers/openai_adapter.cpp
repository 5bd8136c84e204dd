// OpenAI (api.openai.com): the reference wire format; requests and responses pass through.
//
// Security posture: sends only to the credential's base URL (default https://api.openai.com/v1),
// which the upstream client's outbound guard checks again at connect time. The key travels in
// "Authorization: Bearer", injected by the upstream client. Options: "organization" and
// "project" become the OpenAI-Organization / OpenAI-Project headers (identifiers, not secrets;
// restricted to [A-Za-z0-9._-]). Error messages of 401/403/429 (which name keys and
// organisations) are never passed to clients.

#include "providers/openai_family.hpp"
#include "providers/target_options.hpp"

namespace livery::providers {

namespace {

class OpenAiAdapter final : public OpenAiFamilyAdapter {
 public:
  std::string_view name() const override { return "openai"; }

 protected:
  Result<std::string> url(Endpoint endpoint, const Target& target) const override {
    auto base = normalizeBaseUrl(target.base_url, "https://api.openai.com/v1", name());
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

  Result<void> addHeaders(const Target& target, UpstreamRequest& request) const override {
    for (auto [option, header] : {std::pair{"organization", "OpenAI-Organization"},
                                  std::pair{"project", "OpenAI-Project"}}) {
      auto value = optionString(target.options_json, option);
      if (!value) {
        return value.error();
      }
      if (!*value) {
        continue;
      }
      if (!isUrlSafeToken(**value)) {
        return fail(ErrorCode::kUnprocessable,
                    std::string("The deployment's openai credential option '") + option +
                        "' must be an identifier.");
      }
      request.headers.emplace_back(header, std::move(**value));
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<ProviderAdapter> makeOpenAiAdapter() {
  return std::make_unique<OpenAiAdapter>();
}

}  // namespace livery::providers
