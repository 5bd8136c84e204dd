#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace livery {

// The one error vocabulary of the data plane. The mapping to an HTTP status and to the
// OpenAI-shaped error body lives only in core/error.cpp (httpStatus, openAiErrorJson).
enum class ErrorCode {
  kBadRequest,           // 400 invalid_request_error
  kUnauthenticated,      // 401 invalid_api_key
  kPermissionDenied,     // 403 (scope, cross-tenant, CSRF)
  kTenantSuspended,      // 403 account_suspended
  kNotFound,             // 404 (route, model, entity)
  kMethodNotAllowed,     // 405
  kRequestTimeout,       // 408 client too slow
  kConflict,             // 409 (duplicate slug, compare-and-set lost)
  kPayloadTooLarge,      // 413
  kUnprocessable,        // 422 (semantically invalid configuration)
  kRateLimited,          // 429 rate_limit_exceeded
  kQuotaExceeded,        // 429 insufficient_quota
  kHeadersTooLarge,      // 431
  kInternal,             // 500
  kUpstreamRejected,     // upstream 4xx that is the request's fault (status passed through)
  kUpstreamAuth,         // 502: the tenant's provider key was refused (401/403 upstream)
  kUpstreamUnavailable,  // 502: connect failure, reset, 5xx
  kUnavailable,          // 503: shedding load, draining, dependency down
  kUpstreamTimeout,      // 504
};

std::string_view toString(ErrorCode code);

// An error as a value. `client_message` is safe to return to the caller; `log_detail` is for
// our logs only and must never contain a secret (keys, tokens, prompts). `openai_code` overrides
// the default OpenAI `code` field (e.g. "invalid_api_key", "model_not_found").
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string client_message;
  std::string log_detail;
  std::string openai_code;
  std::string param;
  std::optional<int> retry_after_s;
  // For kUpstreamRejected: the upstream status to pass through (4xx).
  int upstream_status = 0;

  Error() = default;
  Error(ErrorCode c, std::string message) : code(c), client_message(std::move(message)) {}
  Error(ErrorCode c, std::string message, std::string detail)
      : code(c), client_message(std::move(message)), log_detail(std::move(detail)) {}

  Error&& withCode(std::string openai) && {
    openai_code = std::move(openai);
    return std::move(*this);
  }
  Error&& withParam(std::string p) && {
    param = std::move(p);
    return std::move(*this);
  }
  Error&& withRetryAfter(int seconds) && {
    retry_after_s = seconds;
    return std::move(*this);
  }
};

// Thrown only by Result::value() (a smell on the data plane) and by start-up code.
class GatewayException : public std::exception {
 public:
  explicit GatewayException(Error error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return error_.client_message.c_str(); }
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// ADL customisation point used by boost::system::result<T, Error>::value().
[[noreturn]] void throw_exception_from_error(  // NOLINT(readability-identifier-naming)
    const Error& e,
    const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// Convenience for `return fail(ErrorCode::kBadRequest, "...")` in functions returning Result<T>.
inline Error fail(ErrorCode code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

// HTTP status for an error (kUpstreamRejected passes the upstream status through).
int httpStatus(const Error& e);
// OpenAI error `type` for an error.
std::string_view openAiType(const Error& e);
// {"error":{"message":..,"type":..,"param":..,"code":..}}; never includes log_detail.
std::string openAiErrorJson(const Error& e);

}  // namespace livery
