#pragma once

// Upstream error classification shared by every adapter: provider error bodies (OpenAI, Azure,
// Anthropic, Ollama, vLLM shapes) and statuses become the UpstreamFailure the router acts on.
//
// Client-safety: Livery writes its own message for 401/403/404/429/5xx (provider text there can
// name keys, organisations or accounts of the tenant). For 400/413/422, which describe the
// client's own request, the provider message is passed on after clientSafeText(). Pure functions;
// thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider_adapter.hpp"

namespace livery::providers {

// The fields of a provider error body; empty when absent or not JSON.
struct ProviderErrorText {
  std::string message;
  std::string type;   // OpenAI `type`, Anthropic `error.type`
  std::string code;   // OpenAI `code` (string or number as text)
  std::string param;  // OpenAI `param`
};
ProviderErrorText extractErrorText(std::string_view body);

// Seconds from Retry-After (delta-seconds; an HTTP date is ignored because adapters have no
// clock) or retry-after-ms (rounded up). Clamped to one day.
std::optional<int> parseRetryAfter(std::string_view retry_after, std::string_view retry_after_ms);

// Provider text fit for a client: likely secrets masked (sk-…, Bearer …, and any run of 32 or
// more key characters), control characters replaced, at most 512 bytes (whole UTF-8 sequences).
std::string clientSafeText(std::string_view text);

// The provider said the prompt does not fit the model's context window.
bool isContextOverflow(const ProviderErrorText& text);

// Classifies a non-2xx reply. `provider` names the provider in Livery's own messages.
UpstreamFailure classifyHttpError(std::string_view provider, const UpstreamReply& reply);

// A malformed 2xx reply or a broken stream: the attempt failed after the provider accepted it.
UpstreamFailure malformedUpstream(std::string_view provider, std::string_view what);

// The verdict of a list-models probe from its status (and body, for the model count).
ModelsProbe probeFromStatus(std::string_view provider, int status);

}  // namespace livery::providers
