#include "pipeline/route.hpp"

#include <fmt/format.h>

namespace livery::pipeline {

net::awaitable<Result<void>> RouteStage::onRequest(RequestContext& ctx) {
  const auto& tenant = *ctx.tenant;  // resolve_tenant runs first (pipeline.cpp)
  if (ctx.endpoint == Endpoint::kChat && ctx.chat.mock_response) {
    if (!tenant.tenant.mock_response_enabled) {
      co_return Error{ErrorCode::kBadRequest, "mock_response is disabled for this account."}
          .withParam("mock_response");
    }
    ctx.outcome.mock = true;
    co_return Result<void>{};
  }
  ctx.route = tenant.route(ctx.model);
  if (ctx.route == nullptr || ctx.route->deployments.empty()) {
    co_return Error{
        ErrorCode::kNotFound,
        fmt::format("The model `{}` does not exist or you do not have access to it.", ctx.model)}
        .withCode("model_not_found")
        .withParam("model");
  }
  co_return Result<void>{};
}

}  // namespace livery::pipeline
