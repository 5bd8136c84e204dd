#pragma once

// The control-plane HTTP surfaces of docs/API.md. Each add*Routes registers its handlers on the
// router; the ApiContext (and the session manager) must outlive the router.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_context.hpp"
#include "core/secret.hpp"
#include "pipeline/ports.hpp"
#include "storage/model.hpp"

namespace livery::http {
class Router;
struct Exchange;
}  // namespace livery::http

namespace livery::api {

// An authenticated console, workspace or operator session.
struct SessionInfo {
  std::string kind;       // "operator" | "admin" (tenant console) | "end_user" (workspace)
  std::string tenant_id;  // empty for operator sessions
  std::string user_id;    // users.id, or the operator token id of an operator session
  std::string csrf_token;
  storage::Millis expires_at = 0;
  std::optional<storage::User> user;  // the account (admin and end-user sessions)
};

// A session just started: what to return to the client (the cookie is the only place the
// session token ever appears; the store keeps its keyed hash).
struct StartedSession {
  SessionInfo info;
  std::string set_cookie;  // the Set-Cookie header value
};

// Console (tenant admin), workspace (end user) and operator sessions: cookies, CSRF tokens,
// login throttling. Also authenticates /v1 requests made by the console playground and the
// workspace (pipeline::SessionAuthenticator). The implementation lives in sessions.cpp.
//
// Cookie: `__Host-livery_session` when security.cookie_secure, else `livery_session` (HttpOnly,
// SameSite=Strict, Path=/, Max-Age = security.session_ttl). The value is a session token
// (crypto::api_key, kind "sess"); the store keeps only its keyed hash. Lookups go through a
// short in-memory cache (a few seconds) so /v1 requests of the workspace do not hit the store;
// logout, user removal and token revocation drop the cache entries of this node, other nodes
// see the change when their entry expires.
//
// Thread-safety: every method may be called from any I/O thread concurrently. Methods that
// touch the store or hash passwords run that work on ctx.blocking.
class SessionManager : public pipeline::SessionAuthenticator {
 public:
  ~SessionManager() override = default;

  // The session named by the request's cookie. nullopt: no session cookie at all;
  // kUnauthenticated: the cookie names no live session (unknown, expired, ended).
  virtual net::awaitable<std::optional<Result<SessionInfo>>> lookup(
      const http::Request& request) = 0;

  // Starts a session for an account the caller has authenticated. Ends the session the request
  // carried, if any (no session fixation).
  virtual net::awaitable<Result<StartedSession>> start(const http::Request& request,
                                                       std::string kind,
                                                       std::string tenant_id,
                                                       std::string user_id) = 0;

  // Logout: ends the request's session (if any) and returns the Set-Cookie value that clears
  // the cookie.
  virtual net::awaitable<std::string> end(const http::Request& request) = 0;

  // Ends every session of a user (tenant_id empty: of an operator token), in the store and in
  // this node's cache.
  virtual net::awaitable<Result<void>> endAllFor(std::string tenant_id, std::string user_id) = 0;

  // True when the request may act with `session`: safe methods always; POST, PUT, PATCH and
  // DELETE only with an X-CSRF-Token header equal to the session's token (constant time).
  virtual bool csrfSatisfied(const http::Request& request, const SessionInfo& session) const = 0;

  // Password sign-in of a console admin (kind "admin") or workspace user ("end_user") of
  // `tenant_id`. Throttled per (tenant, e-mail) and per client address (429 with Retry-After);
  // failures are audited as "auth.login_failed" (never with the password). The same error
  // (401) for an unknown e-mail, a wrong password, a disabled or not yet activated account.
  virtual net::awaitable<Result<storage::User>> checkPassword(const http::Request& request,
                                                              std::string tenant_id,
                                                              std::string kind,
                                                              std::string email,
                                                              SecretBytes password) = 0;

  // Operator sign-in with an operator token, throttled per client address and audited like
  // checkPassword.
  virtual net::awaitable<Result<storage::OperatorToken>> checkOperatorToken(
      const http::Request& request, SecretBytes token) = 0;

  // The client address of a request (X-Forwarded-For only from trusted proxies).
  virtual std::string clientIp(const http::Request& request) const = 0;
};

std::unique_ptr<SessionManager> makeSessionManager(ApiContext& ctx);

// POST {"email","password"} on a tenant's host: checks the password of that tenant's user of
// `kind` ("admin" for the console, "end_user" for the workspace), starts a session and answers
// {"user","csrf_token"} with its cookie. The request body is wiped once the password is taken.
net::awaitable<http::Response> tenantPasswordLogin(ApiContext& ctx,
                                                   SessionManager& sessions,
                                                   http::Exchange& ex,
                                                   std::string_view kind);
inline pipeline::SessionAuthenticator& sessionAuthenticator(SessionManager& sessions) {
  return sessions;
}

// /admin/v1/* (operator token or operator session).
void addAdminRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions);
// /api/v1/* (tenant-admin session on the tenant's host).
void addTenantRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions);
// /api/v1/workspace/* (end-user session on the tenant's host).
void addWorkspaceRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions);
// Pages and public documents: /, /console, /operator, /static/*, /theme.css, /branding.json,
// /assets/*, /.well-known/livery-challenge/*.
void addPublicRoutes(http::Router& router, ApiContext& ctx);

}  // namespace livery::api
