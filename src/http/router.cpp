#include "http/router.hpp"

#include <stdexcept>

namespace livery::http {

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) {
      j = path.size();
    }
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

void Router::add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with /: " + pattern);
  }
  auto r = std::make_unique<Route>();
  r->method = method;
  r->pattern = pattern;
  for (auto seg : split(pattern)) {
    r->segments.emplace_back(seg);
    if (seg.front() == '{') {
      r->has_params = true;
    }
  }
  if (!r->segments.empty() && r->segments.back() == "*") {
    r->wildcard = true;
    r->segments.pop_back();
  }
  r->handler = std::move(handler);
  if (options.name.empty()) {
    options.name = pattern;
  }
  r->options = std::move(options);
  if (!r->has_params && !r->wildcard) {
    exact_[pattern].push_back(r.get());
  }
  routes_.push_back(std::move(r));
}

RouteMatch Router::match(Method method, std::string_view path, Exchange* ex) const {
  RouteMatch result;
  auto head_ok = [&](Method m) {
    return m == method || (method == Method::kHead && m == Method::kGet);
  };
  if (auto it = exact_.find(std::string(path)); it != exact_.end()) {
    for (const Route* r : it->second) {
      if (head_ok(r->method)) {
        return {&r->handler, &r->options, true};
      }
    }
    result.path_matched = true;
  }
  auto segs = split(path);
  for (const auto& r : routes_) {
    if (!r->has_params && !r->wildcard) {
      continue;
    }
    if (r->wildcard ? segs.size() < r->segments.size() : segs.size() != r->segments.size()) {
      continue;
    }
    bool ok = true;
    for (std::size_t i = 0; i < r->segments.size() && ok; ++i) {
      const auto& p = r->segments[i];
      if (p.front() != '{' && p != segs[i]) {
        ok = false;
      }
    }
    if (!ok) {
      continue;
    }
    if (!head_ok(r->method)) {
      result.path_matched = true;
      continue;
    }
    if (ex != nullptr) {
      for (std::size_t i = 0; i < r->segments.size(); ++i) {
        const auto& p = r->segments[i];
        if (p.front() == '{') {
          ex->params[p.substr(1, p.size() - 2)] = percentDecode(segs[i]);
        }
      }
      if (r->wildcard) {
        std::string rest;
        for (std::size_t i = r->segments.size(); i < segs.size(); ++i) {
          if (!rest.empty()) {
            rest.push_back('/');
          }
          rest.append(segs[i]);
        }
        ex->params["*"] = std::move(rest);
      }
    }
    return {&r->handler, &r->options, true};
  }
  return result;
}

}  // namespace livery::http
