#pragma once

#include <memory>
#include <vector>

#include "http/exchange.hpp"
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

 private:
  const Clock& clock_;
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace livery::pipeline
