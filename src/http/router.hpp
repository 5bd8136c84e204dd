#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/exchange.hpp"

namespace livery::http {

struct RouteOptions {
  // Stable name for metrics and logs (defaults to the pattern).
  std::string name;
  // Watch the client connection while the handler runs and cancel the handler when the client
  // goes away (proxy routes: the upstream request is cancelled with it).
  bool watch_client_close = false;
};

struct RouteMatch {
  const Handler* handler = nullptr;
  const RouteOptions* options = nullptr;
  bool path_matched = false;  // the path exists for another method (405)
};

// Maps (method, path) to a handler. Patterns are literal segments and {name} parameters
// ("/admin/v1/tenants/{id}"); a trailing "/*" matches any rest ("/assets/*" puts it in
// params["*"]). Exact paths are looked up in a hash map first (the /v1 hot path). Built at
// start-up, read-only afterwards, so concurrent lookups are safe.
class Router {
 public:
  void add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  RouteMatch match(Method method, std::string_view path, Exchange* ex) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;
    bool has_params = false;
    bool wildcard = false;
    Handler handler;
    RouteOptions options;
  };
  std::vector<std::unique_ptr<Route>> routes_;
  std::unordered_map<std::string, std::vector<Route*>> exact_;
};

}  // namespace livery::http
