#pragma once

// `mock_response` (issue 5 item 7): a complete OpenAI response with the given text, built without
// any provider, for a tenant's own testing. JSON (chat.completion) or SSE (chat.completion.chunk
// events, a usage chunk when the client asked for it, `data: [DONE]`), n choices when n > 1.
// Usage is Livery's estimate: prompt_tokens is ChatRequest::prompt_tokens_estimate and
// completion_tokens the same estimate over the text (Usage::reported stays false).
// Pure function; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "providers/chat_request.hpp"
#include "providers/provider_adapter.hpp"

namespace livery::providers {

struct MockContext {
  std::string_view id;  // response id, e.g. "chatcmpl-mock-" + request id
  std::int64_t created_unix_s = 0;
};

struct MockReply {
  std::string body;  // JSON, or the whole SSE stream when the request streams
  bool stream = false;
  Usage usage;
};

MockReply buildMockResponse(const ChatRequest& request,
                            std::string_view text,
                            const MockContext& ctx);

}  // namespace livery::providers
