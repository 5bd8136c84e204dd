#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "http/exchange.hpp"
#include "limits/limiter.hpp"
#include "providers/chat_request.hpp"
#include "providers/provider_adapter.hpp"
#include "tenancy/key_index.hpp"
#include "tenancy/tenant_state.hpp"

namespace livery::pipeline {

enum class Endpoint { kChat, kEmbeddings };

// Who is calling, established by authenticate.cpp.
struct Principal {
  // kInternal: an in-process caller of Pipeline::runInternal (the prompt evaluation gate),
  // never established from a request.
  enum class Kind { kApiKey, kJwt, kSession, kInternal };
  Kind kind = Kind::kApiKey;
  std::string tenant_id;
  std::string api_key_id;  // kApiKey
  std::optional<tenancy::KeyEntry> key;
  std::string end_user;         // bound to the key, the JWT `sub`, or the session's user
  bool end_user_bound = false;  // true: the request's own `user` field is ignored
};

// Replaces the tenant's active prompt version for one internal call (Pipeline::runInternal):
// the candidate version of a prompt evaluation. The template is rendered and layered exactly as
// the active version would be (inject_prompt.cpp).
struct PromptOverride {
  std::string template_text;    // the tenant prompt template; empty: no tenant prompt
  std::string version_id;       // the stored version it is, if any (ctx.prompt_version_id)
  bool operator_policy = true;  // false: no operator policy either (an evaluation's judge call)
};

// What happened, filled in as the request runs; meter.cpp turns it into the usage record.
struct Outcome {
  int status = 0;
  std::string result = "ok";  // ok | error | aborted
  std::optional<Error> error;
  providers::Usage usage;
  std::string deployment;
  std::string provider;
  std::string upstream_model;
  std::uint32_t attempts = 0;
  std::string fallback_reason;  // "openai:gpt-4o=429; anthropic:claude=timeout"
  bool streamed = false;
  bool first_byte_sent = false;
  std::optional<std::chrono::steady_clock::time_point> first_token_at;
  bool upstream_called = false;
  bool committed = false;  // the usage record is durable (success path)
  bool mock = false;
};

// Per-request state, created by the pipeline runner and passed to every stage. Lives on the
// handler coroutine's frame; stages keep no pointers into it beyond the request.
struct RequestContext {
  http::Exchange& ex;
  Endpoint endpoint = Endpoint::kChat;
  std::chrono::steady_clock::time_point started;
  std::int64_t started_unix_ms = 0;

  std::optional<Principal> principal;
  tenancy::TenantStatePtr tenant;
  std::string host;  // normalised request host (after trusted proxies)

  providers::ChatRequest chat;              // kChat
  providers::EmbeddingsRequest embeddings;  // kEmbeddings
  std::string model;                        // as requested
  std::string end_user;                     // effective end user

  limits::RateLimitHeaders rate_headers;
  limits::Reservation reservation;
  std::string system_prompt;  // operator policy + tenant prompt, rendered
  std::string prompt_version_id;
  std::optional<PromptOverride> prompt_override;  // set by runInternal only
  const storage::Route* route = nullptr;          // into *tenant (kept alive by the snapshot)

  Outcome outcome;
  // A buffered answer (non-streaming success or error) for the runner to send; empty when the
  // response was streamed through ex.stream.
  std::optional<http::Response> response;

  explicit RequestContext(http::Exchange& exchange) : ex(exchange) {}
};

}  // namespace livery::pipeline
