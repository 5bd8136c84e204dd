#include "observability/health.hpp"

#include "core/metrics.hpp"
#include "http/router.hpp"

namespace livery::observability {

void addHealthRoutes(http::Router& router, MetricsRegistry& metrics, const Readiness& readiness) {
  router.add(http::Method::kGet, "/healthz", [](http::Exchange&) -> net::awaitable<http::Response> {
    co_return http::Response::json(200, R"({"status":"ok"})");
  });
  router.add(http::Method::kGet,
             "/readyz",
             [&readiness](http::Exchange&) -> net::awaitable<http::Response> {
               if (readiness.ready()) {
                 co_return http::Response::json(200, R"({"status":"ready"})");
               }
               co_return http::Response::json(
                   503,
                   readiness.draining() ? R"({"status":"draining"})" : R"({"status":"starting"})");
             });
  router.add(http::Method::kGet,
             "/metrics",
             [&metrics](http::Exchange&) -> net::awaitable<http::Response> {
               co_return http::Response::text(
                   200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
             });
}

}  // namespace livery::observability
