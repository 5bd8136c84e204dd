#pragma once

// The shared implementation of every OpenAI-format provider (openai, azure, ollama,
// openai_compatible): requests are the client's body spliced by body_rewrite.hpp, responses are
// passed through byte for byte after usage extraction, and streams are passed through event by
// event, except the usage chunk Livery asked for, which is removed again when the client did not
// ask for it (issue 5 item 6). A concrete adapter only says where to send (URLs) and how to
// authenticate.
//
// Thread-safety: as ProviderAdapter (immutable, shared).

#include <string>
#include <string_view>

#include "providers/json_scratch.hpp"
#include "providers/provider_adapter.hpp"

namespace livery::providers {

class OpenAiFamilyAdapter : public ProviderAdapter {
 public:
  Result<UpstreamRequest> buildChatRequest(const ChatRequest& request,
                                           const Target& target,
                                           std::string_view system_prompt) const override;
  Result<ChatReply> parseChatResponse(const ChatRequest& request,
                                      const UpstreamReply& reply,
                                      const ResponseContext& ctx) const override;
  std::unique_ptr<StreamTranslator> makeStreamTranslator(const ChatRequest& request,
                                                         const ResponseContext& ctx) const override;
  Result<UpstreamRequest> buildEmbeddingsRequest(const EmbeddingsRequest& request,
                                                 const Target& target) const override;
  Result<EmbeddingsReply> parseEmbeddingsResponse(const EmbeddingsRequest& request,
                                                  const UpstreamReply& reply) const override;
  Result<UpstreamRequest> buildListModelsRequest(const Target& target) const override;
  ModelsProbe parseListModelsResponse(const UpstreamReply& reply) const override;
  UpstreamFailure classifyError(const UpstreamReply& reply) const override;

 protected:
  enum class Endpoint { kChat, kEmbeddings, kModels };
  // The absolute URL of an endpoint for a target.
  virtual Result<std::string> url(Endpoint endpoint, const Target& target) const = 0;
  virtual Result<AuthScheme> auth(const Target& target) const;  // default: Authorization: Bearer
  // Whether to force stream_options.include_usage upstream (servers that reject it opt out).
  virtual Result<bool> streamUsage(const Target& target) const;
  // Extra non-secret headers (none by default).
  virtual Result<void> addHeaders(const Target& target, UpstreamRequest& request) const;
};

// Usage of an OpenAI-format response or usage chunk ({"usage":{...}} at the top level).
struct OpenAiScan {
  Usage usage;
  std::string finish_reason;   // choices[0].finish_reason, if a string
  bool choices_empty = false;  // "choices":[] (a usage-only chunk)
  bool has_error = false;      // a top-level "error" member
  std::string error_json;      // its raw JSON, when has_error
};
// Parses `json` (any buffer; it is copied into the scratch's padded buffer). Invalid JSON or a
// non-object root is an error. Members other than usage, choices and error are skipped, not
// validated: the bytes go to the client as the provider sent them.
[[nodiscard]] Result<OpenAiScan> scanOpenAiJson(std::string_view json, JsonScratch& scratch);

}  // namespace livery::providers
