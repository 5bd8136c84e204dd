#pragma once

namespace livery::http {
class Router;
}
namespace livery::pipeline {
class Pipeline;
}

namespace livery::api {

// The OpenAI-compatible surface: POST /v1/chat/completions and /v1/embeddings through the full
// pipeline, GET /v1/models (the tenant's configured model names) through authentication and
// tenant resolution only. The pipeline must outlive the router.
void addGatewayRoutes(http::Router& router, const pipeline::Pipeline& pipeline);

}  // namespace livery::api
