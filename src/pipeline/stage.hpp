#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/net.hpp"
#include "pipeline/request_context.hpp"

namespace livery::pipeline {

// One step of the request path. Stages are created once at start-up (pipeline.cpp builds the
// ordered list) and shared by every I/O thread, so they keep no per-request state: it lives in
// RequestContext. Thread-safety: onRequest/onComplete run concurrently for different requests.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  // An Error short-circuits the request with that error's response. A stage that answered the
  // request itself (dispatch) returns success; the runner then stops.
  virtual net::awaitable<Result<void>> onRequest(RequestContext& ctx) = 0;
  // Runs once per request that reached this stage, in reverse order, after success, failure or
  // client abort. Must not throw or block.
  virtual void onComplete(RequestContext& /*ctx*/) noexcept {}
};

}  // namespace livery::pipeline
