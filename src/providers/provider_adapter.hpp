#pragma once

// ProviderAdapter: the pure translation between Livery's canonical (OpenAI-format) requests and
// one provider's wire format. An adapter never does I/O, never sees a provider key and holds no
// per-request state; the gateway drives it:
//
//   auto up = adapter.buildChatRequest(chat, target, system_prompt);   // -> UpstreamRequest
//   // upstream client: injects the tenant's key as up.auth says, sends, reads the reply
//   if (2xx && !chat.stream) reply = adapter.parseChatResponse(chat, {status, body}, ctx);
//   if (2xx &&  chat.stream) { t = adapter.makeStreamTranslator(chat, ctx);
//                              for each upstream SSE event: step = t->onEvent(ev, out) ... }
//   otherwise                failure = adapter.classifyError({status, body, retry_after});
//
// Contract:
//   - build*() returns kBadRequest when the request cannot be expressed for this provider (e.g.
//     n > 1 for Anthropic), kUnprocessable when the deployment target is invalid (bad base URL,
//     options); the router may try the next deployment.
//   - parse*() take 2xx replies only; a malformed reply is kUpstreamUnavailable. The client body
//     they return is OpenAI-format JSON.
//   - classifyError() never echoes provider text that can carry a key, an account or an
//     organisation id (401/403/429/5xx messages are Livery's own); 400-class messages, which
//     describe the client's own request, are passed on after redaction and truncation.
//   - Usage keeps cached and reasoning tokens apart (they are priced differently).
//
// Thread-safety and ownership: adapters are immutable after construction and shared by every
// I/O thread (the registry owns them). A StreamTranslator belongs to one stream and one thread;
// its memory is bounded (a few strings of one event's size plus fixed state).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "providers/chat_request.hpp"
#include "providers/sse/sse_parser.hpp"

namespace livery::providers {

// The deployment an attempt goes to (storage::Deployment + its Credential, borrowed).
struct Target {
  std::string_view base_url;             // Credential.base_url; empty: the provider default
  std::string_view model;                // upstream model (Azure: the deployment name)
  std::string_view options_json = "{}";  // Credential.options_json
};

// How the upstream client injects the provider key: header `header` with value prefix + key.
// The adapter names the scheme; only the upstream client ever holds the key.
struct AuthScheme {
  std::string header;  // "Authorization", "x-api-key", "api-key"; empty: send no key
  std::string prefix;  // "Bearer " or ""
};

struct UpstreamRequest {
  std::string method;  // "POST" or "GET"
  std::string url;     // absolute: https://api.openai.com/v1/chat/completions
  std::vector<std::pair<std::string, std::string>> headers;  // never a secret
  std::string body;
  AuthScheme auth;
  bool stream = false;  // the response is an SSE stream
};

// Token counts as the provider reported them, in OpenAI semantics.
struct Usage {
  std::uint64_t prompt_tokens = 0;       // every input token, cached ones included
  std::uint64_t completion_tokens = 0;   // every output token, reasoning ones included
  std::uint64_t cached_tokens = 0;       // of prompt_tokens: read from the prompt cache
  std::uint64_t cache_write_tokens = 0;  // of prompt_tokens: written to the cache (Anthropic)
  std::uint64_t reasoning_tokens = 0;    // of completion_tokens
  bool reported = false;                 // false: the provider sent no usage (estimate instead)

  std::uint64_t totalTokens() const { return prompt_tokens + completion_tokens; }
  bool operator==(const Usage&) const = default;
};

// What the upstream answered (the adapter needs no other header).
struct UpstreamReply {
  int status = 0;
  std::string_view body;
  std::string_view retry_after;     // the Retry-After header ("7" or an HTTP date), if any
  std::string_view retry_after_ms;  // retry-after-ms (OpenAI, Azure), if any
};

// Values a translation needs that must not come from a clock inside the adapter.
struct ResponseContext {
  std::int64_t created_unix_s = 0;  // `created` of translated responses and chunks
};

struct ChatReply {
  std::string body;  // OpenAI chat.completion JSON for the client
  Usage usage;
  std::string finish_reason;  // of choice 0 ("stop", "length", "tool_calls", ...)
};

struct EmbeddingsReply {
  std::string body;  // OpenAI embeddings list JSON
  Usage usage;
};

// An upstream error as the router sees it.
struct UpstreamFailure {
  Error error;  // client-safe: code, message, OpenAI code/param, retry_after_s, upstream_status
  bool retryable = false;          // the same deployment may succeed later (429, 5xx, overloaded)
  bool fallback_eligible = false;  // another deployment may succeed (never for a bad request)
  bool context_window_exceeded = false;  // fall back only to a larger context window
  bool credential_refused = false;       // 401/403: mark the tenant's credential unhealthy
  std::optional<int> retry_after_s;      // from Retry-After / retry-after-ms (rounded up)
  int upstream_status = 0;
};

// One step of a stream translation.
struct StreamStep {
  bool done = false;  // the client stream is complete (its terminator was written)
  // The upstream reported an error or broke the stream. Nothing was written for it: before the
  // first byte reached the client the router may fall back; after it, the gateway writes
  // streamErrorEvent(failure->error) and ends the stream.
  std::optional<UpstreamFailure> failure;
};

class StreamTranslator {
 public:
  virtual ~StreamTranslator() = default;
  // Translates one upstream SSE event, appending client SSE bytes to `out`.
  virtual StreamStep onEvent(const sse::SseEvent& event, std::string& out) = 0;
  // The upstream body ended. A stream that ended before its terminal event is a failure.
  virtual StreamStep onEnd(std::string& out) = 0;
  // Usage seen so far (final after done); partial streams still report what arrived.
  virtual const Usage& usage() const = 0;
};

// The outcome of a key-validation probe (list models).
struct ModelsProbe {
  enum class Outcome { kOk, kKeyRefused, kNoPermission, kRateLimited, kUnavailable, kUnexpected };
  Outcome outcome = Outcome::kUnexpected;
  std::string message;  // client-safe, for the console ("the provider refused the key")
  std::size_t model_count = 0;
};
std::string_view toString(ModelsProbe::Outcome outcome);

class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  virtual std::string_view name() const = 0;

  [[nodiscard]] virtual Result<UpstreamRequest> buildChatRequest(
      const ChatRequest& request, const Target& target, std::string_view system_prompt) const = 0;
  [[nodiscard]] virtual Result<ChatReply> parseChatResponse(const ChatRequest& request,
                                                            const UpstreamReply& reply,
                                                            const ResponseContext& ctx) const = 0;
  [[nodiscard]] virtual std::unique_ptr<StreamTranslator> makeStreamTranslator(
      const ChatRequest& request, const ResponseContext& ctx) const = 0;

  // Embeddings; providers without them answer kBadRequest.
  [[nodiscard]] virtual Result<UpstreamRequest> buildEmbeddingsRequest(
      const EmbeddingsRequest& request, const Target& target) const = 0;
  [[nodiscard]] virtual Result<EmbeddingsReply> parseEmbeddingsResponse(
      const EmbeddingsRequest& request, const UpstreamReply& reply) const = 0;

  // A cheap authenticated request for key validation, and its verdict (any status).
  [[nodiscard]] virtual Result<UpstreamRequest> buildListModelsRequest(
      const Target& target) const = 0;
  virtual ModelsProbe parseListModelsResponse(const UpstreamReply& reply) const = 0;

  // Any non-2xx reply.
  virtual UpstreamFailure classifyError(const UpstreamReply& reply) const = 0;
};

// "data: {"error":{...}}\n\n": how a stream that already started reports a failure (the OpenAI
// SDKs raise an APIError on it).
std::string streamErrorEvent(const Error& error);

}  // namespace livery::providers
