#pragma once

// The one seam between the evaluation gate and the gateway: a ChatRunner sends one chat
// completion the way a real request would travel (the tenant's routes, keys, limits and
// metering) and returns the assistant's reply text. The lead implements it on top of the request
// pipeline; tests use fakes whose answers depend on the prompt they receive.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/net.hpp"
#include "prompts/chat_message.hpp"

namespace livery::prompts {

enum class ChatPurpose {
  kCase,   // a golden case: the candidate tenant prompt is injected
  kJudge,  // a judge assertion: no tenant prompt is injected
};

struct ChatCall {
  ChatPurpose purpose = ChatPurpose::kCase;
  std::string tenant_id;
  // The model alias as the tenant's routes know it (prompt.yaml eval.model or judge.model).
  std::string model;
  // kCase: the candidate system prompt *template*, exactly as in prompt.md or the stored version.
  // The runner injects it where the gateway injects the tenant's active version (template
  // rendering with {{tenant_name}}/{{user}}/{{date}}/{{model}}, operator policy layering), in
  // place of the active version. kJudge: empty, and the runner injects no tenant prompt at all
  // (the judge's instructions are the first message).
  std::string prompt_template;
  // The stored version id of prompt_template when it has one (empty for an unsynced ref): a
  // cache key for the compiled template, never anything less specific.
  std::string prompt_version_id;
  // The end user for {{user}} (a golden case's "user"); empty: none.
  std::string end_user;
  std::vector<ChatMessage> messages;
  std::optional<double> temperature;
  std::optional<std::uint32_t> max_tokens;
  // What is left of the case's deadline when the call starts. The EvalRunner also cancels the
  // call (Asio per-operation cancellation) when it runs out.
  std::chrono::milliseconds timeout{0};
};

// Contract:
//  - complete() returns the assistant reply's text (non-streaming), or an Error for anything that
//    kept a reply from arriving (upstream refusal, quota, timeout, no route). Reports show only
//    Error::client_message, which must therefore be safe to print in CI logs; log_detail is
//    never shown or stored.
//  - It honours the Asio cancellation slot of the awaiting coroutine: when the EvalRunner's
//    deadline fires it cancels the call and records a timeout, so an implementation that ignores
//    cancellation delays the whole evaluation until it returns.
//  - Thread-safety: the EvalRunner calls complete() concurrently (up to its concurrency) from
//    one strand; implementations must be safe for that.
//  - Ownership: the runner outlives every EvalRunner that uses it.
class ChatRunner {
 public:
  virtual ~ChatRunner() = default;
  virtual net::awaitable<Result<std::string>> complete(ChatCall call) = 0;
};

}  // namespace livery::prompts
