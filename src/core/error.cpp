#include "core/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace livery {

std::string_view toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "bad_request";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kTenantSuspended:
      return "tenant_suspended";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kRequestTimeout:
      return "request_timeout";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kUnprocessable:
      return "unprocessable";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kQuotaExceeded:
      return "quota_exceeded";
    case ErrorCode::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUpstreamRejected:
      return "upstream_rejected";
    case ErrorCode::kUpstreamAuth:
      return "upstream_auth";
    case ErrorCode::kUpstreamUnavailable:
      return "upstream_unavailable";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUpstreamTimeout:
      return "upstream_timeout";
  }
  return "internal";
}

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw GatewayException(e);
}

int httpStatus(const Error& e) {
  switch (e.code) {
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kTenantSuspended:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kRequestTimeout:
      return 408;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnprocessable:
      return 422;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kQuotaExceeded:
      return 429;
    case ErrorCode::kHeadersTooLarge:
      return 431;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUpstreamRejected:
      return (e.upstream_status >= 400 && e.upstream_status < 500) ? e.upstream_status : 400;
    case ErrorCode::kUpstreamAuth:
      return 502;
    case ErrorCode::kUpstreamUnavailable:
      return 502;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kUpstreamTimeout:
      return 504;
  }
  return 500;
}

std::string_view openAiType(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kBadRequest:
    case ErrorCode::kNotFound:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kConflict:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kUnprocessable:
    case ErrorCode::kHeadersTooLarge:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kUpstreamRejected:
      return "invalid_request_error";
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kTenantSuspended:
      return "permission_error";
    case ErrorCode::kRateLimited:
      return "rate_limit_error";
    case ErrorCode::kQuotaExceeded:
      return "insufficient_quota";
    case ErrorCode::kInternal:
    case ErrorCode::kUpstreamAuth:
    case ErrorCode::kUpstreamUnavailable:
    case ErrorCode::kUnavailable:
    case ErrorCode::kUpstreamTimeout:
      return "server_error";
  }
  return "server_error";
}

namespace {
std::string_view defaultCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthenticated:
      return "invalid_api_key";
    case ErrorCode::kTenantSuspended:
      return "account_suspended";
    case ErrorCode::kRateLimited:
      return "rate_limit_exceeded";
    case ErrorCode::kQuotaExceeded:
      return "insufficient_quota";
    case ErrorCode::kPayloadTooLarge:
      return "request_too_large";
    case ErrorCode::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorCode::kRequestTimeout:
      return "request_timeout";
    case ErrorCode::kUpstreamTimeout:
      return "upstream_timeout";
    case ErrorCode::kUpstreamUnavailable:
      return "upstream_unavailable";
    case ErrorCode::kUpstreamAuth:
      return "upstream_credential_refused";
    default:
      return {};
  }
}
}  // namespace

std::string openAiErrorJson(const Error& e) {
  boost::json::object err;
  err["message"] = e.client_message.empty() ? std::string(toString(e.code)) : e.client_message;
  err["type"] = openAiType(e);
  if (e.param.empty()) {
    err["param"] = nullptr;
  } else {
    err["param"] = e.param;
  }
  std::string_view code = e.openai_code.empty() ? defaultCode(e.code) : e.openai_code;
  if (code.empty()) {
    err["code"] = nullptr;
  } else {
    err["code"] = code;
  }
  boost::json::object root;
  root["error"] = std::move(err);
  return boost::json::serialize(root);
}

}  // namespace livery
