#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livery {
struct Error;
}

namespace livery::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view toString(Method m);
Method parseMethod(std::string_view m);

// Case-insensitive ASCII comparison for header names.
bool iequals(std::string_view a, std::string_view b) noexcept;

// An ordered list of header fields. Names compare case-insensitively. Values set by Livery are
// checked for CR/LF/NUL before they are written (see Headers::isSafeValue).
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };
  // First value of `name`, or empty.
  std::string_view get(std::string_view name) const noexcept;
  bool has(std::string_view name) const noexcept;
  // Number of fields named `name` (duplicate Content-Length detection and the like).
  std::size_t count(std::string_view name) const noexcept;
  void add(std::string name, std::string value) {
    fields_.push_back({std::move(name), std::move(value)});
  }
  // Replaces every field named `name` with one.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  const std::vector<Field>& fields() const noexcept { return fields_; }
  std::size_t size() const noexcept { return fields_.size(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

  static bool isSafeValue(std::string_view v) noexcept;

 private:
  std::vector<Field> fields_;
};

// A complete request as read by the server: the body is fully received (bounded by
// http.max_body_bytes) before a handler runs.
struct Request {
  Method method = Method::kGet;
  std::string method_text;
  std::string target;  // as sent: path + optional query
  Headers headers;
  std::string body;
  std::string remote_ip;  // peer address of the TCP connection
  unsigned version = 11;  // 10 or 11
  bool keep_alive = true;

  std::string_view path() const noexcept;
  std::string_view query() const noexcept;
  // Value of query parameter `name` (percent-decoded), or empty.
  std::string queryParam(std::string_view name) const;
  // The Host header without port, lower-cased.
  std::string host() const;
};

// A buffered response. Handlers that stream use Exchange::stream instead.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response json(int status, std::string body);
  static Response text(int status,
                       std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  // OpenAI-shaped error body, status from core/error.cpp, Retry-After when the error has one.
  static Response error(const Error& e);
};

std::string_view reasonPhrase(int status) noexcept;

// Percent-decodes a URL component ('+' stays '+'). Invalid escapes are kept as-is.
std::string percentDecode(std::string_view s);

}  // namespace livery::http
