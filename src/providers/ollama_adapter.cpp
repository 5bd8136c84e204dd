// Ollama through its OpenAI-compatible endpoints: {base}/v1/chat/completions and
// {base}/v1/embeddings; the key check lists local models with GET {base}/api/tags.
//
// Security posture: Ollama usually runs on a private network address, which the upstream
// client's outbound guard refuses unless the operator allow-lists the host
// (upstream.allow_private_hosts) and, for plain http, upstream.allow_http_hosts. The base URL
// defaults to http://localhost:11434 (so it only works when the operator allowed it); a trailing
// "/v1" is accepted. Ollama itself has no keys; when the credential holds one (Ollama behind an
// authenticating proxy) it travels as "Authorization: Bearer", and an empty key sends no header
// (the upstream client's rule for empty keys).

#include "providers/openai_family.hpp"
#include "providers/target_options.hpp"

namespace livery::providers {

namespace {

class OllamaAdapter final : public OpenAiFamilyAdapter {
 public:
  std::string_view name() const override { return "ollama"; }

 protected:
  Result<std::string> url(Endpoint endpoint, const Target& target) const override {
    auto base = normalizeBaseUrl(target.base_url, "http://localhost:11434", name(), "/v1");
    if (!base) {
      return base.error();
    }
    switch (endpoint) {
      case Endpoint::kChat:
        return *base + "/v1/chat/completions";
      case Endpoint::kEmbeddings:
        return *base + "/v1/embeddings";
      case Endpoint::kModels:
        return *base + "/api/tags";
    }
    return *base;
  }
};

}  // namespace

std::unique_ptr<ProviderAdapter> makeOllamaAdapter() {
  return std::make_unique<OllamaAdapter>();
}

}  // namespace livery::providers
