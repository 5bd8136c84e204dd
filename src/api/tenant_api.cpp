// The tenant console API (/api/v1 on a tenant's host): sign-in, invitations, and the tenant
// resources of tenant_resources.cpp acted on by the signed-in console admin.

#include <boost/json/value.hpp>

#include "api/api_support.hpp"
#include "api/control_api.hpp"
#include "api/json_model.hpp"
#include "api/tenant_resources.hpp"
#include "control/control_plane.hpp"
#include "core/offload.hpp"
#include "crypto/password.hpp"
#include "http/router.hpp"
#include "tenancy/directory.hpp"

namespace livery::api {

namespace {

namespace json = boost::json;
using http::Exchange;
using http::Method;
using http::Response;

// The console admin session of the request on `tenant`'s host (no CSRF check).
net::awaitable<Result<SessionInfo>> adminSession(SessionManager& sessions,
                                                 const http::Request& request,
                                                 std::string tenant_id) {
  auto found = co_await sessions.lookup(request);
  if (!found) {
    co_return signInRequired();
  }
  if (!*found) {
    co_return found->error();
  }
  if ((*found)->kind != "admin" || (*found)->tenant_id != tenant_id || !(*found)->user) {
    co_return signInRequired();
  }
  co_return std::move(**found);
}

}  // namespace

void addTenantRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions) {
  router.add(Method::kPost,
             "/api/v1/auth/login",
             [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
               co_return co_await tenantPasswordLogin(ctx, sessions, ex, "admin");
             });

  router.add(Method::kPost,
             "/api/v1/auth/logout",
             [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
               if (!hostTenant(ctx, ex.request)) {
                 co_return errorResponse(ctx, ex, noSuchRoute());
               }
               auto cookie = co_await sessions.end(ex.request);
               co_return withCookie(noContent(), cookie);
             });

  router.add(
      Method::kGet, "/api/v1/auth/me", [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
        auto tenant = hostTenant(ctx, ex.request);
        if (!tenant) {
          co_return errorResponse(ctx, ex, noSuchRoute());
        }
        ex.tenant_id = tenant->tenant.id;
        auto session = co_await adminSession(sessions, ex.request, tenant->tenant.id);
        if (!session) {
          co_return errorResponse(ctx, ex, session.error());
        }
        json::object out;
        out["user"] = toJson(*session->user);
        out["tenant"] = toJson(tenant->tenant);
        out["csrf_token"] = session->csrf_token;
        out["expires_at"] = session->expires_at;
        co_return jsonResponse(200, out);
      });

  router.add(Method::kPost,
             "/api/v1/auth/accept-invite",
             [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
               auto form = readTenantPasswordForm(ctx, ex, {"token", "display_name"});
               if (!form) {
                 co_return errorResponse(ctx, ex, form.error());
               }
               const auto& tenant = form->tenant;
               auto* taken = &form->body;
               auto token = taken->rest.requiredString("token", 256);
               auto name = taken->rest.optionalString("display_name", 120);
               if (auto e = firstError(token, name)) {
                 co_return errorResponse(ctx, ex, *e);
               }
               if (!taken->secret) {
                 co_return errorResponse(ctx, ex, badField("password", "'password' is required"));
               }
               if (auto r = validatePassword(*taken->secret); !r) {
                 co_return errorResponse(ctx, ex, r.error());
               }
               if (*name && !(*name)->empty()) {
                 if (auto r = validateDisplayName("display_name", **name); !r) {
                   co_return errorResponse(ctx, ex, r.error());
                 }
               }
               std::string tenant_id = tenant->tenant.id;
               const SecretBytes& password = *taken->secret;
               auto accepted = co_await offload(ctx.blocking, [&]() -> Result<storage::User> {
                 auto user = findInvitedUser(ctx, tenant_id, *token);
                 if (!user) {
                   return user.error();
                 }
                 auto hashed = ctx.passwords.hash(password);
                 if (!hashed) {
                   return hashed.error();
                 }
                 control::Actor actor{"tenant-admin", user->id, tenant_id};
                 if (auto r = ctx.control.setUserPassword(actor, tenant_id, user->id, *hashed);
                     !r) {
                   return r.error();
                 }
                 user->password_hash = *hashed;
                 if (*name && !(*name)->empty()) {
                   user->display_name = **name;
                   auto updated = ctx.control.updateUser(actor, *user);
                   if (!updated) {
                     return updated.error();
                   }
                 }
                 (void)ctx.control.audit(actor, tenant_id, "admin.invite_accepted", "{}");
                 return user;
               });
               taken->secret->wipe();
               if (!accepted) {
                 co_return errorResponse(ctx, ex, accepted.error());
               }
               auto started = co_await sessions.start(ex.request, "admin", tenant_id, accepted->id);
               if (!started) {
                 co_return errorResponse(ctx, ex, started.error());
               }
               json::object out;
               out["user"] = toJson(*accepted);
               out["csrf_token"] = started->info.csrf_token;
               co_return withCookie(jsonResponse(200, out), started->set_cookie);
             });

  // Everything else under /api/v1 is a tenant resource, acted on by the console admin of the
  // host's tenant.
  ScopeResolver resolve = [&ctx, &sessions](Exchange& ex) -> net::awaitable<Result<TenantScope>> {
    auto tenant = hostTenant(ctx, ex.request);
    if (!tenant) {
      co_return noSuchRoute();
    }
    auto session = co_await adminSession(sessions, ex.request, tenant->tenant.id);
    if (!session) {
      co_return session.error();
    }
    if (!sessions.csrfSatisfied(ex.request, *session)) {
      co_return csrfRefused();
    }
    if (isMutating(ex.request) && session->user->role == storage::UserRole::kMember) {
      co_return readOnlyRole();
    }
    TenantScope scope;
    scope.tenant_id = tenant->tenant.id;
    scope.actor = control::Actor{"tenant-admin", session->user_id, tenant->tenant.id};
    scope.author = session->user->email;
    scope.user_id = session->user_id;
    scope.public_host = publicHost(ctx, ex.request);
    co_return scope;
  };
  addTenantResourceRoutes(router, ctx, sessions, "/api/v1", std::move(resolve));
}

}  // namespace livery::api
