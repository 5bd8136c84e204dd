#pragma once

// Upstream bodies for OpenAI-family providers, produced by splicing the client's raw bytes at the
// offsets ChatRequest recorded: nothing is re-serialised, so the cost is one pass of memcpy over
// the body (a 1 MiB body is rewritten in tens of microseconds; see bench/providers_bench.cpp).
//
// What changes:
//   - `model` becomes the deployment's upstream model;
//   - the layered system prompt (operator policy, then tenant prompt, then the request's own
//     system message) is merged into messages[0] when that is a system/developer message with
//     string content (or parts: a text part is prepended), and otherwise inserted as a new first
//     {"role":"system"} message; the text is JSON-escaped (invalid UTF-8 becomes U+FFFD);
//   - when streaming, `stream_options.include_usage` is forced to true (other stream_options
//     members are kept), so Livery always meters streams; the stream translator removes the usage
//     chunk again when the client did not ask for it;
//   - Livery-only members (`mock_response`) are dropped.
// Whitespace between top-level members is not preserved; everything else is byte-identical.
//
// Pure functions over values; thread-safe.

#include <string>
#include <string_view>

#include "providers/chat_request.hpp"

namespace livery::providers {

// The system-prompt layers, outermost first. Empty layers are skipped.
struct PromptLayers {
  std::string_view operator_policy;  // config: prompts.operator_policy
  std::string_view tenant_prompt;    // the tenant's active prompt version
};

// The layers joined by a blank line; empty when every layer is empty.
std::string layeredSystemPrompt(const PromptLayers& layers);

// The separator between the injected text and the request's own system message.
inline constexpr std::string_view kPromptSeparator = "\n\n";

struct ChatRewrite {
  std::string_view model;          // upstream model; empty keeps the client's
  std::string_view system_prompt;  // layered prompt to inject; empty injects nothing
  bool stream_usage = true;        // streaming: force stream_options.include_usage = true
};

std::string rewriteChatBody(const ChatRequest& request, const ChatRewrite& rewrite);

// Replaces `model` (empty keeps the client's).
std::string rewriteEmbeddingsBody(const EmbeddingsRequest& request, std::string_view model);

}  // namespace livery::providers
