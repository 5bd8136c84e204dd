// Pipeline::runInternal: a chat completion for an in-process caller, through the same stages as a
// client request (see pipeline/internal_call.hpp). Kept apart from pipeline.cpp so the request
// path proper is untouched by it.

#include <exception>
#include <tuple>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "core/clock.hpp"
#include "pipeline/pipeline.hpp"

namespace livery::pipeline {

namespace {

// An internal call has no connection to stream to. A streaming body is refused once parsed
// (runInternalStages); this writer is the backstop: dispatch treats its refusal like a client
// that went away.
class NoStreamWriter final : public http::StreamWriter {
 public:
  net::awaitable<Result<void>> begin(int /*status*/, http::Headers /*headers*/) override {
    co_return refused();
  }
  net::awaitable<Result<void>> write(std::string_view /*data*/) override { co_return refused(); }
  net::awaitable<Result<void>> end() override { co_return refused(); }
  bool begun() const noexcept override { return false; }
  std::uint64_t bytesWritten() const noexcept override { return 0; }

 private:
  static Error refused() {
    return fail(ErrorCode::kBadRequest, "An internal call cannot stream its answer.");
  }
};

}  // namespace

net::awaitable<Result<void>> Pipeline::runInternalStages(RequestContext& ctx) const {
  // As in run(): when the deadline cancels this coroutine, operations complete with
  // operation_aborted instead of throwing, dispatch sees the cancellation and ends the attempt,
  // and every onComplete still runs (the call is metered, its reservation settled).
  co_await net::this_coro::throw_if_cancelled(false);
  Result<void> result;
  for (const auto& stage : stages_) {
    if (stage->name() == "authenticate") {
      continue;  // the caller established the principal
    }
    result = co_await stage->onRequest(ctx);
    if (result && ctx.chat.stream) {
      // Refused once the body is parsed, before anything is reserved or sent upstream.
      result = fail(ErrorCode::kBadRequest, "An internal call cannot stream its answer.");
    }
    if (!result || ctx.response || ctx.outcome.result == "aborted") {
      break;
    }
  }
  if (!result) {
    ctx.outcome.error = result.error();
    ctx.outcome.status = httpStatus(result.error());
    ctx.outcome.result = "error";
  } else if (ctx.outcome.status == 0) {
    ctx.outcome.status = ctx.response ? ctx.response->status : 200;
  }
  for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) {
    (*it)->onComplete(ctx);
  }
  co_return result;
}

net::awaitable<Result<InternalReply>> Pipeline::runInternal(InternalRequest request) const {
  if (request.timeout.count() <= 0) {
    co_return fail(ErrorCode::kUpstreamTimeout, "No time was left for the call.");
  }
  if (request.principal.tenant_id.empty() || request.request_id.empty()) {
    co_return fail(ErrorCode::kInternal, "internal error", "runInternal without tenant or id");
  }
  http::Request http_request;
  http_request.method = http::Method::kPost;
  http_request.method_text = "POST";
  http_request.target = "/v1/chat/completions";
  http_request.body = std::move(request.body);
  NoStreamWriter stream;
  http::Exchange ex{http_request, stream};
  ex.request_id = std::move(request.request_id);
  ex.started = clock_.now();
  ex.worker = request.worker;
  RequestContext ctx(ex);
  ctx.endpoint = Endpoint::kChat;
  ctx.started = ex.started;
  ctx.started_unix_ms = clock_.unixMillis();
  ctx.principal = std::move(request.principal);
  ctx.prompt_override = std::move(request.prompt);

  // The stages race the deadline; whichever finishes first cancels the other, and the group
  // completes only when both have, so `ctx` outlives the stage coroutine.
  auto executor = co_await net::this_coro::executor;
  net::steady_timer deadline(executor, request.timeout);
  auto stages_op = net::co_spawn(executor, runInternalStages(ctx), net::deferred);
  auto timer_op = deadline.async_wait(net::deferred);
  auto group = net::experimental::make_parallel_group(std::move(stages_op), std::move(timer_op));
  auto outcome =
      co_await std::move(group).async_wait(net::experimental::wait_for_one(), net::use_awaitable);
  const auto& order = std::get<0>(outcome);
  if (order[0] == 1) {
    co_return fail(ErrorCode::kUpstreamTimeout,
                   fmt::format("No answer within the deadline of {} ms.", request.timeout.count()));
  }
  if (std::get<1>(outcome)) {
    co_return fail(ErrorCode::kInternal, "internal error", "a stage threw during an internal call");
  }
  Result<void> result = std::move(std::get<2>(outcome));
  if (!result) {
    co_return result.error();
  }
  if (ctx.outcome.result == "aborted") {
    // Cancelled by the caller (or refused to stream) before an answer.
    co_return fail(ErrorCode::kUpstreamTimeout, "The call was cancelled before an answer.");
  }
  if (!ctx.response || ctx.response->status != 200) {
    if (ctx.outcome.error) {
      co_return *ctx.outcome.error;
    }
    int status = ctx.response ? ctx.response->status : 0;
    co_return fail(ErrorCode::kUnavailable,
                   "The request did not complete.",
                   fmt::format("internal call ended with status {}", status));
  }
  InternalReply reply;
  reply.body = std::move(ctx.response->body);
  reply.deployment = ctx.outcome.deployment;
  reply.attempts = ctx.outcome.attempts;
  reply.usage = ctx.outcome.usage;
  co_return reply;
}

}  // namespace livery::pipeline
