#pragma once

// The request and reply of Pipeline::runInternal: one chat completion that an in-process caller
// (the prompt evaluation gate, app/prompt_runner.cpp) sends through the real request path for an
// already authenticated principal: the tenant's routes and fallbacks, its provider keys through
// the vault, its limits and quota, prompt injection and metering, exactly as for a client
// request, minus authentication and the HTTP connection.
//
// Plain values, owned by the caller; Pipeline::runInternal takes the request by value and may be
// called concurrently (one call per coroutine), each awaited on its worker's io_context.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "pipeline/request_context.hpp"
#include "providers/provider_adapter.hpp"

namespace livery::pipeline {

struct InternalRequest {
  // Who the call is for. Set kind = kInternal and tenant_id; api_key_id is what the usage record
  // is attributed to (meter.cpp), end_user (with end_user_bound) fills {{user}} and the
  // per-end-user accounting. `key` stays empty: no per-key limits or model scopes apply.
  Principal principal;
  // An OpenAI chat-completions JSON body, parsed by the same parser as a client's (so its
  // limits apply). It must not ask for a stream: an internal call has no connection to stream
  // to, and one that tries ends as aborted.
  std::string body;
  // Replaces the tenant's active prompt version for this call (nullopt: the active version, as
  // for a client request).
  std::optional<PromptOverride> prompt;
  // The whole call, fallbacks included, must finish within this; at the deadline it is cancelled
  // (metered as aborted, like a client that went away) and the result is kUpstreamTimeout.
  std::chrono::milliseconds timeout{0};
  // The I/O thread the call runs on: per-thread parsers and upstream clients are picked by it,
  // so runInternal must be awaited on that thread's io_context.
  int worker = 0;
  // Unique; the usage record's primary key.
  std::string request_id;
};

struct InternalReply {
  std::string body;        // the OpenAI chat.completion JSON a client would have received
  std::string deployment;  // the deployment that answered
  std::uint32_t attempts = 0;
  providers::Usage usage;
};

}  // namespace livery::pipeline
