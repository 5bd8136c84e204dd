#pragma once

// The control-plane HTTP surfaces of docs/API.md. Each add*Routes registers its handlers on the
// router; the ApiContext (and the session manager) must outlive the router.

#include <memory>

#include "api/api_context.hpp"
#include "pipeline/ports.hpp"

namespace livery::http {
class Router;
}

namespace livery::api {

// Console (tenant admin), workspace (end user) and operator sessions: cookies, CSRF tokens,
// login rate limiting. Also authenticates /v1 requests made by the console playground and the
// workspace (pipeline::SessionAuthenticator). The implementation lives in sessions.cpp.
class SessionManager : public pipeline::SessionAuthenticator {
 public:
  ~SessionManager() override = default;
};

std::unique_ptr<SessionManager> makeSessionManager(ApiContext& ctx);
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
