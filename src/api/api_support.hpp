#pragma once

// Helpers shared by the control-plane handlers (admin_api, tenant_api, workspace_api and
// tenant_resources): JSON responses, host and scope checks, strict query parsing, usage reads,
// the live usage feed, and secret fields of request bodies. Internal to src/api.
//
// Every function here is thread-safe; the ApiContext must outlive the calls.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "api/api_context.hpp"
#include "api/json_model.hpp"
#include "core/error.hpp"
#include "core/net.hpp"
#include "core/secret.hpp"
#include "http/exchange.hpp"
#include "storage/model.hpp"
#include "tenancy/tenant_state.hpp"

namespace livery::storage {
struct UsageFilter;
}

namespace livery::api {

// ---- responses --------------------------------------------------------------------------------

// JSON body with `Cache-Control: no-store` (API answers carry account data and never belong in a
// shared cache).
http::Response jsonResponse(int status, const boost::json::value& body);
http::Response noContent();
// The OpenAI-shaped error (core/error.cpp), no-store. 5xx errors are logged with their detail.
http::Response errorResponse(ApiContext& ctx, const http::Exchange& ex, const Error& e);

Error notFound(std::string_view what);  // 404 "No such <what>."
// `e`, or notFound(what) when `e` is a store's kNotFound (whose wording names no resource).
Error orNotFound(const Error& e, std::string_view what);
// The router's own 404, for API routes answered on a host they do not belong to: neutral.
Error noSuchRoute();
// 400 for a body that is not declared as JSON (a JSON body cannot be sent cross-site without a
// CORS preflight, which is what keeps login and state changes free of CSRF).
Error jsonRequired();
// After a successful change to a tenant: refreshes this node's snapshot of it (the change feed
// would, within one poll; this makes it immediate here). A failed refresh is logged, not
// returned: the change is already stored. Blocking; call on the blocking pool.
void refreshTenantOrWarn(ApiContext& ctx, const std::string& tenant_id);
// `r` with a Set-Cookie header.
http::Response withCookie(http::Response r, const std::string& set_cookie);
Error signInRequired();                                      // 401 code "unauthenticated"
Error csrfRefused();                                         // 403 code "csrf_token_invalid"
Error readOnlyRole();                                        // 403 code "permission_denied"
Error badQuery(std::string_view name, std::string message);  // 400 naming the parameter

// The first error among field readings, in order (nullopt when all succeeded).
template <class... R>
std::optional<Error> firstError(const R&... results) {
  std::optional<Error> out;
  ((out || results ? void() : void(out = results.error())), ...);
  return out;
}

// ---- requests ---------------------------------------------------------------------------------

// POST, PUT, PATCH, DELETE.
bool isMutating(const http::Request& request);
// Content-Type is application/json (with optional parameters).
bool hasJsonContentType(const http::Request& request);
// The body as a strict JSON object (empty body: {}), at most `max_bytes`.
Result<BodyReader> jsonBody(const http::Request& request,
                            std::size_t max_bytes = std::size_t{256} * 1024);
// Integer query parameter; absent: nullopt; malformed or out of range: kBadRequest.
Result<std::optional<std::int64_t>> queryInt(const http::Request& request,
                                             std::string_view name,
                                             std::int64_t min,
                                             std::int64_t max);

// The request's normalised host (X-Forwarded-Host only via a trusted proxy); empty when the
// Host is missing or invalid.
std::string requestHost(const ApiContext& ctx, const http::Request& request);
// The request's host as a browser would write it in a link: the normalised host plus the port
// of the Host header when it names the same host ("acme.localhost:8080").
std::string publicHost(const ApiContext& ctx, const http::Request& request);
// The tenant the request's host maps to (<slug>.<base_domain> or an active custom domain);
// null for any other host.
tenancy::TenantStatePtr hostTenant(const ApiContext& ctx, const http::Request& request);
// True when the request may reach the operator surface: the configured http.operator_host, or
// (none configured) the platform's own hosts (an IP literal, the base domain, a reserved label
// under it); never a tenant's host.
bool isOperatorHost(const ApiContext& ctx, const http::Request& request);

// ---- time -------------------------------------------------------------------------------------

// Start of the current UTC calendar month, in Unix ms, and its "YYYY-MM" name.
storage::Millis monthStartMs(const Clock& clock);
std::string monthName(const Clock& clock);

// ---- usage ------------------------------------------------------------------------------------

// GET …/usage: query `from`, `to` (ms), `group_by` (tenant, model, key, user, hour, day, month;
// default day), optional `key_id`, `model`, `end_user` filters and `format=csv`. `base` carries
// the scope (a tenant, or all tenants for the operator); `allow_tenant_group` is the
// operator's. CSV answers are text/csv attachments whose cells cannot start a formula.
net::awaitable<http::Response> usageTotals(ApiContext& ctx,
                                           http::Exchange& ex,
                                           storage::UsageFilter base,
                                           bool allow_tenant_group);

// GET …/usage/events: Server-Sent Events of committed usage records of `tenant_id` (empty: every
// tenant), with a keep-alive comment every 15 s. Streams until the client goes away, a write
// fails, or the stream has lasted an hour (clients reconnect).
net::awaitable<http::Response> usageEvents(ApiContext& ctx,
                                           http::Exchange& ex,
                                           std::string tenant_id);

// The month's totals of one tenant ({"key":tenant_id,…}), or null when it has no usage.
boost::json::value monthUsage(ApiContext& ctx, const std::string& tenant_id);

// ---- secrets ----------------------------------------------------------------------------------

// Parses `body` as a JSON object, moves the string field `field` (if present) into SecretBytes
// and overwrites its bytes in the parsed document, then returns the remaining fields re-read
// through BodyReader. The caller should wipe the raw request body afterwards. kBadRequest when
// the field is not a string or longer than `max_len`.
struct SecretBody {
  BodyReader rest;
  std::optional<SecretBytes> secret;
};
Result<SecretBody> takeSecretField(std::string_view body,
                                   std::string_view field,
                                   std::size_t max_len = 8192);

// The common start of the password forms on a tenant's domain (console and workspace sign-in,
// accepting an invitation): the tenant of the request's host (noSuchRoute() otherwise; sets
// ex.tenant_id), a JSON body (a cross-site form cannot send one without a CORS preflight: no
// login CSRF), "password" moved into SecretBytes with the raw body wiped, and no fields besides
// it other than `allowed`. The password may be absent: the caller decides whether it is required.
struct TenantPasswordForm {
  tenancy::TenantStatePtr tenant;
  SecretBody body;
};
Result<TenantPasswordForm> readTenantPasswordForm(const ApiContext& ctx,
                                                  http::Exchange& ex,
                                                  std::initializer_list<std::string_view> allowed);

// ---- CSV --------------------------------------------------------------------------------------

// Appends one RFC 4180 cell; a value starting with = + - @ or a tab/CR is prefixed with ' so that
// spreadsheet programs do not evaluate it.
void appendCsvCell(std::string& out, std::string_view value);

}  // namespace livery::api
