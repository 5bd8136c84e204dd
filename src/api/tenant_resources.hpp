#pragma once

// The tenant-console resources of docs/API.md (admins, end users, credentials, API keys,
// branding, domains, routes, prompts, usage, quota, alerts, webhook, audit, JWT keys), written
// once and mounted twice: under /api/v1 for a tenant admin on the tenant's own host, and under
// /admin/v1/tenants/{tenant} for the operator acting on that tenant. Only the ScopeResolver
// differs: it decides, per request, which tenant is acted on and by whom (and refuses the
// request otherwise). Every handler then reads and writes that tenant's records only: stores
// are addressed by (tenant, id), so an id of another tenant is a 404 like an unknown one.
//
// Thread-safety: handlers run on any I/O thread; store and control-plane calls are offloaded.

#include <functional>
#include <string>

#include "api/api_context.hpp"
#include "api/control_api.hpp"
#include "control/control_plane.hpp"
#include "core/error.hpp"
#include "core/net.hpp"
#include "core/secret.hpp"
#include "http/exchange.hpp"
#include "storage/model.hpp"

namespace livery::api {

// Who acts on which tenant in one request.
struct TenantScope {
  std::string tenant_id;
  control::Actor actor;
  std::string author;   // recorded on prompt versions: the admin's e-mail, or the operator
  std::string user_id;  // the signed-in console admin (empty for the operator)
  bool is_operator = false;
  std::string public_host;  // Host (with port) to build console links for (invites)
};

// Authenticates the request and names its scope; CSRF and role checks for mutating requests
// happen here too. An Error is answered as is. The resolver outlives the router.
using ScopeResolver = std::function<net::awaitable<Result<TenantScope>>(http::Exchange&)>;

// Registers every resource under `prefix` ("/api/v1" or "/admin/v1/tenants/{tenant}").
void addTenantResourceRoutes(http::Router& router,
                             ApiContext& ctx,
                             SessionManager& sessions,
                             const std::string& prefix,
                             ScopeResolver resolve);

// ---- account helpers shared with the auth endpoints -------------------------------------------

// Password rules for console and workspace accounts: 10 to 1024 bytes.
Result<void> validatePassword(const SecretBytes& password);

// An invitation for a console admin: the account exists (kind "admin", no password yet) and
// `token` (shown once) lets its owner choose a password at `url` within 7 days.
struct Invite {
  storage::User user;
  std::string token;
  std::string url;
  storage::Millis expires_at = 0;
};
net::awaitable<Result<Invite>> createInvite(ApiContext& ctx,
                                            control::Actor actor,
                                            std::string tenant_id,
                                            std::string email,
                                            storage::UserRole role,
                                            std::string public_host);

// The invited account of `tenant_id` that `token` names, if the token is genuine, unused and
// not expired (blocking: run on the blocking pool). kUnauthenticated otherwise.
Result<storage::User> findInvitedUser(ApiContext& ctx,
                                      std::string_view tenant_id,
                                      std::string_view token);

// "owner", "admin", "member" (alias "viewer": read-only).
std::optional<storage::UserRole> parseRole(std::string_view name);

}  // namespace livery::api
