#include "api/gateway_api.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "http/router.hpp"
#include "pipeline/pipeline.hpp"

namespace livery::api {

void addGatewayRoutes(http::Router& router, const pipeline::Pipeline& pipeline) {
  router.add(
      http::Method::kPost,
      "/v1/chat/completions",
      [&pipeline](http::Exchange& ex) { return pipeline.run(ex, pipeline::Endpoint::kChat); },
      {.name = "/v1/chat/completions", .watch_client_close = true});
  router.add(
      http::Method::kPost,
      "/v1/embeddings",
      [&pipeline](http::Exchange& ex) { return pipeline.run(ex, pipeline::Endpoint::kEmbeddings); },
      {.name = "/v1/embeddings", .watch_client_close = true});
  router.add(http::Method::kGet, "/v1/models", [&pipeline](http::Exchange& ex) {
    // authenticate + resolve_tenant are the first two stages (pipeline.cpp).
    return pipeline.runPrefix(ex, 2, [](pipeline::RequestContext& ctx) {
      boost::json::array data;
      for (const auto& [model, route] : ctx.tenant->routes) {
        boost::json::object m;
        m["id"] = model;
        m["object"] = "model";
        m["created"] = route.updated_at / 1000;
        m["owned_by"] = ctx.tenant->tenant.slug;
        data.emplace_back(std::move(m));
      }
      boost::json::object root;
      root["object"] = "list";
      root["data"] = std::move(data);
      return http::Response::json(200, boost::json::serialize(root));
    });
  });
}

}  // namespace livery::api
