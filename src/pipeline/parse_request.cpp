#include "pipeline/parse_request.hpp"

#include <fmt/format.h>

#include "providers/chat_request.hpp"

namespace livery::pipeline {

ParseRequestStage::ParseRequestStage(
    std::vector<std::unique_ptr<providers::RequestParser>> per_worker)
    : parsers_(std::move(per_worker)) {}

ParseRequestStage::~ParseRequestStage() = default;

net::awaitable<Result<void>> ParseRequestStage::onRequest(RequestContext& ctx) {
  // Each I/O thread has its own parser (they are not thread-safe); ex.worker names the thread.
  auto& parser = *parsers_.at(static_cast<std::size_t>(ctx.ex.worker) % parsers_.size());
  std::string body = std::move(ctx.ex.request.body);
  std::string user;
  if (ctx.endpoint == Endpoint::kChat) {
    auto parsed = parser.parseChat(std::move(body));
    if (!parsed) {
      co_return parsed.error();
    }
    ctx.chat = std::move(*parsed);
    ctx.model = ctx.chat.model;
    user = ctx.chat.user;
  } else {
    auto parsed = parser.parseEmbeddings(std::move(body));
    if (!parsed) {
      co_return parsed.error();
    }
    ctx.embeddings = std::move(*parsed);
    ctx.model = ctx.embeddings.model;
    user = ctx.embeddings.user;
  }
  ctx.ex.route_detail = ctx.model;
  const auto& principal = *ctx.principal;  // authenticate runs first (pipeline.cpp)
  if (principal.key && !principal.key->allowsModel(ctx.model)) {
    co_return Error{ErrorCode::kPermissionDenied,
                    fmt::format("This API key may not use the model `{}`.", ctx.model)}
        .withCode("model_not_allowed")
        .withParam("model");
  }
  ctx.end_user = principal.end_user_bound ? principal.end_user : user.substr(0, 256);
  co_return Result<void>{};
}

}  // namespace livery::pipeline
