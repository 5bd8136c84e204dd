#include "http/message.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace livery::http {

std::string_view toString(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method parseMethod(std::string_view m) {
  if (m == "GET")
    return Method::kGet;
  if (m == "POST")
    return Method::kPost;
  if (m == "HEAD")
    return Method::kHead;
  if (m == "PUT")
    return Method::kPut;
  if (m == "PATCH")
    return Method::kPatch;
  if (m == "DELETE")
    return Method::kDelete;
  if (m == "OPTIONS")
    return Method::kOptions;
  return Method::kOther;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Headers::get(std::string_view name) const noexcept {
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) {
      return f.value;
    }
  }
  return {};
}

bool Headers::has(std::string_view name) const noexcept {
  return std::any_of(
      fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.name, name); });
}

std::size_t Headers::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.name, name); }));
}

void Headers::set(std::string_view name, std::string value) {
  remove(name);
  fields_.push_back({std::string(name), std::move(value)});
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.name, name); });
}

bool Headers::isSafeValue(std::string_view v) noexcept {
  return std::none_of(
      v.begin(), v.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string_view Request::path() const noexcept {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query() const noexcept {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Request::queryParam(std::string_view name) const {
  std::string_view q = query();
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    if (k == name) {
      return eq == std::string_view::npos ? std::string{} : percentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::string Request::host() const {
  std::string_view h = headers.get("host");
  if (!h.empty() && h.front() == '[') {  // [v6]:port
    auto close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else {
    auto colon = h.rfind(':');
    if (colon != std::string_view::npos) {
      h = h.substr(0, colon);
    }
  }
  std::string out(h);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::error(const Error& e) {
  Response r = json(httpStatus(e), openAiErrorJson(e));
  if (e.retry_after_s) {
    r.headers.add("Retry-After", std::to_string(*e.retry_after_s));
  }
  return r;
}

std::string_view reasonPhrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace livery::http
