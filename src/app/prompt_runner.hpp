#pragma once

// prompts::ChatRunner over the gateway's own request pipeline: each evaluation call is a
// non-streaming chat completion that Pipeline::runInternal sends through the tenant's routes and
// fallbacks, its provider keys (decrypted by the vault for the call only), its limits and quota,
// prompt injection and metering, on one of the gateway's I/O threads. Nothing is a side channel:
// a call that a client request of the tenant could not make fails here the same way.
//
//  - Prompt: a kCase call injects the candidate template where the active version would go
//    (rendered with {{tenant_name}}, {{user}}, {{date}}, {{model}}, after the operator policy);
//    a kJudge call injects no tenant prompt and no operator policy (the judge's instructions
//    are the first message; its answer is checked as a verdict and never shown to end users).
//  - Metering: every call is a usage record of the tenant like any request, with
//    api_key_id = kEvaluationKeyId ("eval"; real key ids start with "key_") so evaluation
//    traffic can be told apart in usage reports, and end_user = the golden case's `user`. It
//    counts against the tenant's rate limits and monthly quota (it spends the tenant's tokens).
//  - Deadline: ChatCall::timeout (capped by Options::max_timeout) bounds the whole call,
//    fallbacks included; the EvalRunner's cancellation reaches the call too.
//  - Errors: the pipeline's errors, whose client_message is client-safe; a reply without text
//    (a tool call) is kUnprocessable.
//
// Thread-safety: complete() may be called concurrently from any executor; the call itself runs
// on an I/O thread (round robin). Ownership: the Pipeline, IoThreads and Clock are borrowed and
// must outlive the runner; the I/O threads must be running (Gateway::start or startForTools).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "prompts/chat_runner.hpp"

namespace livery {
class Clock;
}
namespace livery::http {
class IoThreads;
}
namespace livery::pipeline {
class Pipeline;
}

namespace livery::app {

// The api_key_id of evaluation traffic in the usage ledger.
inline constexpr std::string_view kEvaluationKeyId = "eval";

class PipelineChatRunner final : public prompts::ChatRunner {
 public:
  struct Options {
    // Upper bound of one call whatever ChatCall::timeout says (and the bound when it is 0).
    std::chrono::milliseconds max_timeout{std::chrono::minutes(10)};
  };

  PipelineChatRunner(const pipeline::Pipeline& pipeline,
                     http::IoThreads& io,
                     const Clock& clock,
                     Options options);

  net::awaitable<Result<std::string>> complete(prompts::ChatCall call) override;

  // The OpenAI chat-completions body of a call (non-streaming). Exposed for tests.
  static std::string requestBody(const prompts::ChatCall& call);
  // The assistant's text of an OpenAI chat.completion body; kUnprocessable when it has none.
  static Result<std::string> replyText(std::string_view body);

 private:
  std::string nextRequestId();

  const pipeline::Pipeline& pipeline_;
  http::IoThreads& io_;
  const Clock& clock_;
  Options options_;
  std::atomic<std::size_t> next_worker_{0};
  std::mutex ids_mu_;  // guards ids_ (an IdGenerator is single-threaded)
  IdGenerator ids_;
};

}  // namespace livery::app
