#include "pipeline/pipeline.hpp"

#include <boost/asio/this_coro.hpp>

#include "core/clock.hpp"

namespace livery::pipeline {

namespace {

http::Response errorResponse(const RequestContext& ctx, const Error& e) {
  auto res = http::Response::error(e);
  for (const auto& [name, value] : ctx.rate_headers.toHeaders()) {
    res.headers.add(std::string(name), value);
  }
  return res;
}

}  // namespace

net::awaitable<http::Response> Pipeline::run(http::Exchange& ex, Endpoint endpoint) const {
  // When the client goes away the session cancels this coroutine. Operations then complete
  // with operation_aborted instead of throwing, so the stages see it (dispatch checks the
  // cancellation state), and every onComplete still runs: the aborted request is metered and
  // its reservation settled.
  co_await net::this_coro::throw_if_cancelled(false);
  RequestContext ctx(ex);
  ctx.endpoint = endpoint;
  ctx.started = ex.started;
  ctx.started_unix_ms = clock_.unixMillis();
  Result<void> result;
  for (const auto& stage : stages_) {
    result = co_await stage->onRequest(ctx);
    if (!result || ctx.response || ex.stream.begun() || ctx.outcome.result == "aborted") {
      break;
    }
  }
  if (!result) {
    ctx.outcome.error = result.error();
    ctx.outcome.status = httpStatus(result.error());
    ctx.outcome.result = "error";
    ctx.response = errorResponse(ctx, result.error());
  } else if (ctx.outcome.status == 0) {
    ctx.outcome.status = ctx.response ? ctx.response->status : 200;
  }
  // Every stage completes, whichever stage stopped the request: the meter records failed and
  // aborted requests too, and reservations are always settled.
  for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) {
    (*it)->onComplete(ctx);
  }
  ex.upstream_attempts = ctx.outcome.attempts;
  if (!ctx.outcome.deployment.empty()) {
    ex.route_detail = ctx.model + " -> " + ctx.outcome.deployment;
  }
  if (ctx.response) {
    co_return std::move(*ctx.response);
  }
  co_return http::Response{};
}

net::awaitable<http::Response> Pipeline::runPrefix(
    http::Exchange& ex,
    std::size_t count,
    std::function<http::Response(RequestContext&)> then) const {
  RequestContext ctx(ex);
  ctx.started = ex.started;
  ctx.started_unix_ms = clock_.unixMillis();
  for (std::size_t i = 0; i < count && i < stages_.size(); ++i) {
    auto r = co_await stages_[i]->onRequest(ctx);
    if (!r) {
      co_return http::Response::error(r.error());
    }
  }
  co_return then(ctx);
}

}  // namespace livery::pipeline
