#pragma once

#include <memory>
#include <vector>

#include "http/exchange.hpp"
#include "pipeline/internal_call.hpp"
#include "pipeline/stage.hpp"

namespace livery {
class Clock;
}

namespace livery::pipeline {

// The ordered list of stages and the runner that drives a request through them.
// Thread-safety: built once at start-up, then run() concurrently from every I/O thread.
class Pipeline {
 public:
  explicit Pipeline(const Clock& clock) : clock_(clock) {}
  void add(std::unique_ptr<Stage>&& stage) { stages_.push_back(std::move(stage)); }

  // Runs every stage in order until one fails or answers; then every stage's onComplete (in
  // reverse order). Returns the response to send (ignored when it was streamed).
  net::awaitable<http::Response> run(http::Exchange& ex, Endpoint endpoint) const;

  // Runs only the first `count` stages (authentication and tenant resolution for /v1/models)
  // and hands the context to `then` (taken by value: it must live in the coroutine frame).
  net::awaitable<http::Response> runPrefix(
      http::Exchange& ex,
      std::size_t count,
      std::function<http::Response(RequestContext&)> then) const;

  // Runs one chat completion for an in-process caller (pipeline/internal_call.hpp): every stage
  // but authentication (the principal is given), with the request's prompt override, under the
  // request's deadline. Returns the reply, or the Error a client would have received (its
  // client_message is client-safe). Must be awaited on the io_context of I/O thread
  // `request.worker`. Defined in internal_call.cpp.
  net::awaitable<Result<InternalReply>> runInternal(InternalRequest request) const;

 private:
  // The stage loop of runInternal. `ctx` lives in runInternal's frame, which awaits this
  // coroutine's completion even when the deadline cancels it.
  net::awaitable<Result<void>> runInternalStages(RequestContext& ctx) const;

  const Clock& clock_;
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace livery::pipeline
