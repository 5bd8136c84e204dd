// The operator API (/admin/v1 on the operator host): sign-in, tenants, plans, operator tokens,
// usage across tenants, alerts, audit, credential health, the KEK lifecycle, operator default
// routes, and every tenant-console resource of one tenant under /admin/v1/tenants/{tenant}/….
// Authentication: `Authorization: Bearer lvr_op_…` on every call, or an operator session cookie
// (plus X-CSRF-Token on mutating calls).

#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "api/api_support.hpp"
#include "api/control_api.hpp"
#include "api/json_model.hpp"
#include "api/tenant_resources.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "control/index_sync.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "crypto/api_key.hpp"
#include "crypto/password.hpp"
#include "http/router.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"

namespace livery::api {

namespace {

namespace json = boost::json;
using http::Exchange;
using http::Method;
using http::Response;

constexpr std::size_t kMaxHealthRows = 10'000;

Error invalidOperator() {
  return Error{ErrorCode::kUnauthenticated, "Sign in as the operator."}.withCode("invalid_api_key");
}

struct OperatorAuth {
  control::Actor actor;
  std::string csrf_token;  // empty for bearer-token calls
};

std::string_view kekState(const control::KekVersionReport& v) {
  if (v.current) {
    return "current";
  }
  if (!v.held) {
    return "missing";
  }
  return v.retirable ? "retirable" : "active";
}

json::object kekStatusJson(const std::vector<control::KekVersionReport>& versions) {
  json::array list;
  for (const auto& v : versions) {
    json::object o;
    o["kek_id"] = v.kek_id;
    o["version"] = v.version;
    o["rows"] = v.rows;
    o["state"] = kekState(v);
    o["held"] = v.held;
    o["current"] = v.current;
    o["retirable"] = v.retirable;
    list.emplace_back(std::move(o));
  }
  return json::object{{"versions", std::move(list)}};
}

// Reads a Plan body onto `plan` (fields absent keep their value). The read-only created_at and
// updated_at of a Plan object are accepted and ignored, so a client may send back what it read.
Result<void> readPlan(const BodyReader& body, storage::Plan& plan, bool create) {
  if (auto r = body.allowOnly({"id",
                               "name",
                               "monthly_token_quota",
                               "rpm",
                               "tpm",
                               "max_api_keys",
                               "features",
                               "created_at",
                               "updated_at"});
      !r) {
    return r;
  }
  auto id = body.optionalString("id", 40);
  auto name = body.optionalString("name", 120);
  auto quota = body.optionalInt("monthly_token_quota", 0, std::int64_t{1} << 53);
  auto rpm = body.optionalInt("rpm", 0, 0xffffffffLL);
  auto tpm = body.optionalInt("tpm", 0, 0xffffffffLL);
  auto keys = body.optionalInt("max_api_keys", 0, 0xffffffffLL);
  auto features = body.optionalStringList("features", 64);
  if (auto e = firstError(id, name, quota, rpm, tpm, keys, features)) {
    return *e;
  }
  if (create) {
    if (!*id || (*id)->empty()) {
      return badField("id", "'id' is required");
    }
    if (auto r = validateSlug(**id); !r) {
      return badField("id", "plan id must be 2 to 40 lower-case letters, digits or '-'");
    }
    plan.id = **id;
  } else if (*id && **id != plan.id) {
    return badField("id", "the plan id cannot change");
  }
  if (*name) {
    plan.name = **name;
  }
  if (*quota) {
    plan.monthly_token_quota = static_cast<std::uint64_t>(**quota);
  }
  if (*rpm) {
    plan.rpm = static_cast<std::uint32_t>(**rpm);
  }
  if (*tpm) {
    plan.tpm = static_cast<std::uint32_t>(**tpm);
  }
  if (*keys) {
    plan.max_api_keys = static_cast<std::uint32_t>(**keys);
  }
  if (*features) {
    plan.features = std::move(**features);
  }
  return {};
}

class AdminApi {
 public:
  AdminApi(ApiContext& ctx, SessionManager& sessions) : ctx_(ctx), sessions_(sessions) {}

  // The operator behind the request: a bearer operator token, or an operator session (with its
  // CSRF token on mutating requests). Only on the operator host.
  net::awaitable<Result<OperatorAuth>> authenticate(Exchange& ex) {
    const auto& req = ex.request;
    if (!isOperatorHost(ctx_, req)) {
      co_return noSuchRoute();
    }
    std::string_view auth = req.headers.get("authorization");
    if (!auth.empty()) {
      if (auth.size() <= 7 || !http::iequals(auth.substr(0, 7), "bearer ")) {
        co_return invalidOperator();
      }
      std::string token(auth.substr(7));
      auto& control = ctx_.control;
      auto t = co_await offload(ctx_.blocking,
                                [&control, &token] { return control.authenticateOperator(token); });
      wipeString(token);
      if (!t) {
        co_return t.error().code == ErrorCode::kUnauthenticated ? invalidOperator() : t.error();
      }
      co_return OperatorAuth{control::Actor{"operator", t->id, ""}, ""};
    }
    auto found = co_await sessions_.lookup(req);
    if (!found || !*found || (*found)->kind != "operator") {
      co_return invalidOperator();
    }
    if (!sessions_.csrfSatisfied(req, **found)) {
      co_return csrfRefused();
    }
    co_return OperatorAuth{control::Actor{"operator", (*found)->user_id, ""}, (*found)->csrf_token};
  }

  using Handler = net::awaitable<Response> (AdminApi::*)(Exchange&, OperatorAuth);

  void mount(http::Router& router, std::shared_ptr<AdminApi> self) {
    auto add = [&](Method m, const std::string& pattern, Handler h, bool watch = false) {
      router.add(m,
                 pattern,
                 [self, h](Exchange& ex) -> net::awaitable<Response> {
                   auto who = co_await self->authenticate(ex);
                   if (!who) {
                     co_return errorResponse(self->ctx_, ex, who.error());
                   }
                   auto response = co_await ((*self).*h)(ex, std::move(*who));
                   co_return response;
                 },
                 {.name = pattern, .watch_client_close = watch});
    };
    router.add(
        Method::kPost, "/admin/v1/auth/login", [self](Exchange& ex) -> net::awaitable<Response> {
          auto r = co_await self->login(ex);
          co_return r;
        });
    router.add(
        Method::kPost, "/admin/v1/auth/logout", [self](Exchange& ex) -> net::awaitable<Response> {
          if (!isOperatorHost(self->ctx_, ex.request)) {
            co_return errorResponse(self->ctx_, ex, noSuchRoute());
          }
          auto cookie = co_await self->sessions_.end(ex.request);
          co_return withCookie(noContent(), cookie);
        });
    add(Method::kGet, "/admin/v1/auth/me", &AdminApi::me);

    add(Method::kGet, "/admin/v1/tenants", &AdminApi::listTenants);
    add(Method::kPost, "/admin/v1/tenants", &AdminApi::createTenant);
    add(Method::kGet, "/admin/v1/tenants/{id}", &AdminApi::getTenant);
    add(Method::kPatch, "/admin/v1/tenants/{id}", &AdminApi::patchTenant);
    add(Method::kDelete, "/admin/v1/tenants/{id}", &AdminApi::deleteTenant);
    add(Method::kPost, "/admin/v1/tenants/{id}/suspend", &AdminApi::suspendTenant);
    add(Method::kPost, "/admin/v1/tenants/{id}/resume", &AdminApi::resumeTenant);

    add(Method::kGet, "/admin/v1/plans", &AdminApi::listPlans);
    add(Method::kPost, "/admin/v1/plans", &AdminApi::createPlan);
    add(Method::kGet, "/admin/v1/plans/{id}", &AdminApi::getPlan);
    add(Method::kPut, "/admin/v1/plans/{id}", &AdminApi::putPlan);
    add(Method::kDelete, "/admin/v1/plans/{id}", &AdminApi::deletePlan);

    add(Method::kGet, "/admin/v1/tokens", &AdminApi::listTokens);
    add(Method::kPost, "/admin/v1/tokens", &AdminApi::createToken);
    add(Method::kDelete, "/admin/v1/tokens/{id}", &AdminApi::revokeToken);

    add(Method::kGet, "/admin/v1/usage", &AdminApi::usage);
    add(Method::kGet, "/admin/v1/usage/events", &AdminApi::usageEventsFeed, true);
    add(Method::kGet, "/admin/v1/alerts", &AdminApi::listAlerts);
    add(Method::kPost, "/admin/v1/alerts/{id}/ack", &AdminApi::ackAlert);
    add(Method::kGet, "/admin/v1/audit", &AdminApi::audit);
    add(Method::kGet, "/admin/v1/audit/verify", &AdminApi::verifyAudit);
    add(Method::kGet, "/admin/v1/health", &AdminApi::health);

    add(Method::kGet, "/admin/v1/kms/status", &AdminApi::kmsStatus);
    add(Method::kPost, "/admin/v1/kms/rotate", &AdminApi::kmsRotate);
    add(Method::kPost, "/admin/v1/kms/rewrap", &AdminApi::kmsRewrap);
    add(Method::kPost, "/admin/v1/kms/retire", &AdminApi::kmsRetire);

    add(Method::kGet, "/admin/v1/routes", &AdminApi::listRoutes);
    add(Method::kPut, "/admin/v1/routes/{model}", &AdminApi::putRoute);
    add(Method::kDelete, "/admin/v1/routes/{model}", &AdminApi::deleteRoute);

    // Every tenant-console resource, acting on the tenant named in the path.
    ScopeResolver resolve = [self](Exchange& ex) -> net::awaitable<Result<TenantScope>> {
      auto who = co_await self->authenticate(ex);
      if (!who) {
        co_return who.error();
      }
      auto tenant = co_await self->tenantOf(std::string(ex.param("tenant")));
      if (!tenant) {
        co_return tenant.error();
      }
      TenantScope scope;
      scope.tenant_id = tenant->id;
      scope.actor = who->actor;
      scope.author = who->actor.describe();
      scope.is_operator = true;
      scope.public_host = self->tenantHost(*tenant, ex.request);
      co_return scope;
    };
    addTenantResourceRoutes(
        router, ctx_, sessions_, "/admin/v1/tenants/{tenant}", std::move(resolve));
  }

 private:
  Response fail(const Exchange& ex, const Error& e) { return errorResponse(ctx_, ex, e); }

  template <class F>
  net::awaitable<std::invoke_result_t<F&>> blocking(F fn) {
    co_return co_await offload(ctx_.blocking, std::move(fn));
  }

  // A tenant by id or slug.
  net::awaitable<Result<storage::Tenant>> tenantOf(std::string id_or_slug) {
    auto& control = ctx_.control;
    auto t = co_await blocking([&] { return control.findTenant(id_or_slug); });
    if (!t && t.error().code == ErrorCode::kNotFound) {
      co_return notFound("tenant");
    }
    co_return t;
  }

  // <slug>.<base_domain>, with the port the operator used, for links into the tenant console.
  std::string tenantHost(const storage::Tenant& t, const http::Request& req) const {
    std::string host = t.slug + "." + ctx_.cfg.http.base_domain;
    auto own = publicHost(ctx_, req);
    auto colon = own.rfind(':');
    if (colon != std::string::npos && own.find(']', colon) == std::string::npos) {
      host += own.substr(colon);
    }
    return host;
  }

  // ---- auth -----------------------------------------------------------------------------------

  net::awaitable<Response> login(Exchange& ex) {
    if (!isOperatorHost(ctx_, ex.request)) {
      co_return fail(ex, noSuchRoute());
    }
    if (!hasJsonContentType(ex.request)) {
      co_return fail(ex, Error{ErrorCode::kBadRequest, "Content-Type must be application/json"});
    }
    auto taken = takeSecretField(ex.request.body, "token", 256);
    wipeString(ex.request.body);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    if (auto r = taken->rest.allowOnly({}); !r) {
      co_return fail(ex, r.error());
    }
    if (!taken->secret) {
      co_return fail(ex, badField("token", "'token' is required"));
    }
    auto token = co_await sessions_.checkOperatorToken(ex.request, std::move(*taken->secret));
    if (!token) {
      co_return fail(ex, token.error());
    }
    auto started = co_await sessions_.start(ex.request, "operator", "", token->id);
    if (!started) {
      co_return fail(ex, started.error());
    }
    json::object out;
    out["kind"] = "operator";
    out["csrf_token"] = started->info.csrf_token;
    out["token_id"] = token->id;
    co_return withCookie(jsonResponse(200, out), started->set_cookie);
  }

  net::awaitable<Response> me(Exchange& /*ex*/, OperatorAuth who) {
    json::object out;
    out["kind"] = "operator";
    out["token_id"] = who.actor.id;
    out["csrf_token"] = who.csrf_token.empty() ? json::value(nullptr) : json::value(who.csrf_token);
    co_return jsonResponse(200, out);
  }

  // ---- tenants --------------------------------------------------------------------------------

  net::awaitable<Response> listTenants(Exchange& ex, OperatorAuth /*who*/) {
    auto limit = queryInt(ex.request, "limit", 1, storage::kMaxPageSize);
    if (!limit) {
      co_return fail(ex, limit.error());
    }
    storage::Page page;
    page.limit = static_cast<std::size_t>(limit->value_or(1000));
    page.after = ex.request.queryParam("after");
    auto& stores = ctx_.stores;
    auto tenants = co_await blocking([&] { return stores.tenants.list(page); });
    if (!tenants) {
      co_return fail(ex, tenants.error());
    }
    json::array data;
    for (const auto& t : *tenants) {
      data.emplace_back(toJson(t));
    }
    json::object out;
    out["data"] = std::move(data);
    out["next"] =
        tenants->size() == page.limit ? json::value(tenants->back().id) : json::value(nullptr);
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> createTenant(Exchange& ex, OperatorAuth who) {
    auto taken = takeSecretField(ex.request.body, "admin_password", crypto::kMaxPasswordBytes);
    wipeString(ex.request.body);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    auto& body = taken->rest;
    if (auto r = body.allowOnly({"slug", "display_name", "plan_id", "admin_email"}); !r) {
      co_return fail(ex, r.error());
    }
    auto slug = body.requiredString("slug", 40);
    auto name = body.optionalString("display_name", 120);
    auto plan = body.optionalString("plan_id", 40);
    auto email = body.optionalString("admin_email", 254);
    if (auto e = firstError(slug, name, plan, email)) {
      co_return fail(ex, *e);
    }
    if (auto r = validateSlug(*slug); !r) {
      co_return fail(ex, r.error());
    }
    if (*email) {
      if (auto r = validateEmail(**email); !r) {
        co_return fail(ex, badField("admin_email", r.error().client_message));
      }
    } else if (taken->secret) {
      co_return fail(ex, badField("admin_email", "'admin_password' needs 'admin_email'"));
    }
    std::optional<std::string> password_hash;
    if (taken->secret) {
      if (auto r = validatePassword(*taken->secret); !r) {
        co_return fail(ex, badField("admin_password", r.error().client_message));
      }
      const auto& passwords = ctx_.passwords;
      const SecretBytes& secret = *taken->secret;
      auto hashed = co_await blocking([&passwords, &secret] { return passwords.hash(secret); });
      taken->secret->wipe();
      if (!hashed) {
        co_return fail(ex, hashed.error());
      }
      password_hash = std::move(*hashed);
    }
    control::TenantSpec spec{*slug, name->value_or(""), plan->value_or("")};
    auto& control = ctx_.control;
    auto& ctx = ctx_;
    auto created = co_await blocking(
        [&]() -> Result<std::pair<storage::Tenant, std::optional<storage::User>>> {
          auto t = control.createTenant(who.actor, spec);
          if (!t) {
            return t.error();
          }
          refreshTenantOrWarn(ctx, t->id);
          std::optional<storage::User> admin;
          if (password_hash) {
            storage::User u;
            u.tenant_id = t->id;
            u.kind = "admin";
            u.email = **email;
            u.role = storage::UserRole::kOwner;
            u.password_hash = *password_hash;
            auto stored = control.createUser(who.actor, u);
            if (!stored) {
              return stored.error();
            }
            admin = std::move(*stored);
          }
          return std::pair{std::move(*t), std::move(admin)};
        });
    if (!created) {
      co_return fail(ex, created.error());
    }
    auto out = toJson(created->first);
    if (created->second) {
      out["admin"] = toJson(*created->second);
    } else if (*email) {
      auto invite = co_await createInvite(ctx_,
                                          who.actor,
                                          created->first.id,
                                          **email,
                                          storage::UserRole::kOwner,
                                          tenantHost(created->first, ex.request));
      if (!invite) {
        co_return fail(ex, invite.error());
      }
      out["admin"] = toJson(invite->user);
      out["invite_url"] = invite->url;
      out["invite_token"] = invite->token;
    }
    co_return jsonResponse(201, out);
  }

  net::awaitable<Response> getTenant(Exchange& ex, OperatorAuth /*who*/) {
    auto t = co_await tenantOf(std::string(ex.param("id")));
    if (!t) {
      co_return fail(ex, t.error());
    }
    ex.tenant_id = t->id;
    // Only reference captures in a lambda built inside a co_await expression (GCC 12 destroys
    // by-value captures of such temporaries twice; docs/STYLE.md §17).
    const std::string& id = t->id;
    auto usage = co_await blocking([this, &id] { return monthUsage(ctx_, id); });
    auto out = toJson(*t);
    out["usage_month"] = std::move(usage);
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> patchTenant(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"display_name", "plan_id", "overrides", "mock_response_enabled"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto name = body->optionalString("display_name", 120);
    auto plan = body->optionalString("plan_id", 40);
    auto mock = body->optionalBool("mock_response_enabled");
    if (auto e = firstError(name, plan, mock)) {
      co_return fail(ex, *e);
    }
    control::TenantPatch patch;
    patch.display_name = *name;
    patch.plan_id = *plan;
    patch.mock_response_enabled = *mock;
    if (const auto* o = body->find("overrides"); o != nullptr) {
      auto overrides = overridesFromJson(*o);
      if (!overrides) {
        co_return fail(ex, overrides.error());
      }
      patch.overrides = *overrides;
    }
    auto t = co_await tenantOf(std::string(ex.param("id")));
    if (!t) {
      co_return fail(ex, t.error());
    }
    ex.tenant_id = t->id;
    auto& control = ctx_.control;
    auto& ctx = ctx_;
    auto updated = co_await blocking([&] {
      auto u = control.updateTenant(who.actor, t->id, patch);
      if (u) {
        refreshTenantOrWarn(ctx, t->id);
      }
      return u;
    });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    co_return jsonResponse(200, toJson(*updated));
  }

  net::awaitable<Response> suspendTenant(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"reason"}); !r) {
      co_return fail(ex, r.error());
    }
    auto reason = body->optionalString("reason", 500);
    if (!reason) {
      co_return fail(ex, reason.error());
    }
    auto t = co_await tenantOf(std::string(ex.param("id")));
    if (!t) {
      co_return fail(ex, t.error());
    }
    ex.tenant_id = t->id;
    auto& control = ctx_.control;
    auto& ctx = ctx_;
    auto text = reason->value_or("");
    auto updated = co_await blocking([&] {
      auto u = control.suspendTenant(who.actor, t->id, text);
      if (u) {
        refreshTenantOrWarn(ctx, t->id);  // refused from the next request on
      }
      return u;
    });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    co_return jsonResponse(200, toJson(*updated));
  }

  net::awaitable<Response> resumeTenant(Exchange& ex, OperatorAuth who) {
    auto t = co_await tenantOf(std::string(ex.param("id")));
    if (!t) {
      co_return fail(ex, t.error());
    }
    ex.tenant_id = t->id;
    auto& control = ctx_.control;
    auto& ctx = ctx_;
    auto updated = co_await blocking([&] {
      auto u = control.resumeTenant(who.actor, t->id);
      if (u) {
        refreshTenantOrWarn(ctx, t->id);
      }
      return u;
    });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    co_return jsonResponse(200, toJson(*updated));
  }

  net::awaitable<Response> deleteTenant(Exchange& ex, OperatorAuth who) {
    auto t = co_await tenantOf(std::string(ex.param("id")));
    if (!t) {
      co_return fail(ex, t.error());
    }
    ex.tenant_id = t->id;
    auto& control = ctx_.control;
    auto& ctx = ctx_;
    auto removed = co_await blocking([&] {
      auto r = control.deleteTenant(who.actor, t->id);
      if (r) {
        refreshTenantOrWarn(ctx, t->id);  // drops the tenant and its keys from the indexes
      }
      return r;
    });
    if (!removed) {
      co_return fail(ex, removed.error());
    }
    co_return noContent();
  }

  // ---- plans ----------------------------------------------------------------------------------

  net::awaitable<Response> listPlans(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto plans = co_await blocking([&] { return stores.plans.list(); });
    if (!plans) {
      co_return fail(ex, plans.error());
    }
    json::array data;
    for (const auto& p : *plans) {
      data.emplace_back(toJson(p));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> getPlan(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto id = std::string(ex.param("id"));
    auto plan = co_await blocking([&] { return stores.plans.get(id); });
    if (!plan) {
      co_return fail(ex, orNotFound(plan.error(), "plan"));
    }
    co_return jsonResponse(200, toJson(*plan));
  }

  net::awaitable<Response> createPlan(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    storage::Plan plan;
    if (auto r = readPlan(*body, plan, true); !r) {
      co_return fail(ex, r.error());
    }
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto created = co_await blocking([&] {
      auto p = control.createPlan(who.actor, plan);
      if (p) {
        (void)sync.poll();  // plans are shared by every tenant snapshot
      }
      return p;
    });
    if (!created) {
      co_return fail(ex, created.error());
    }
    co_return jsonResponse(201, toJson(*created));
  }

  net::awaitable<Response> putPlan(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    auto id = std::string(ex.param("id"));
    auto& stores = ctx_.stores;
    auto plan = co_await blocking([&] { return stores.plans.get(id); });
    if (!plan) {
      co_return fail(ex, orNotFound(plan.error(), "plan"));
    }
    if (auto r = readPlan(*body, *plan, false); !r) {
      co_return fail(ex, r.error());
    }
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto updated = co_await blocking([&] {
      auto p = control.updatePlan(who.actor, *plan);
      if (p) {
        (void)sync.poll();
      }
      return p;
    });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    co_return jsonResponse(200, toJson(*updated));
  }

  net::awaitable<Response> deletePlan(Exchange& ex, OperatorAuth who) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto removed = co_await blocking([&] {
      auto r = control.deletePlan(who.actor, id);
      if (r) {
        (void)sync.poll();
      }
      return r;
    });
    if (!removed) {
      co_return fail(ex, orNotFound(removed.error(), "plan"));
    }
    co_return noContent();
  }

  // ---- operator tokens ------------------------------------------------------------------------

  net::awaitable<Response> listTokens(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto tokens = co_await blocking([&] { return stores.operator_tokens.list(); });
    if (!tokens) {
      co_return fail(ex, tokens.error());
    }
    json::array data;
    for (const auto& t : *tokens) {
      data.emplace_back(toJson(t));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> createToken(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"name"}); !r) {
      co_return fail(ex, r.error());
    }
    auto name = body->requiredString("name", 120);
    if (!name) {
      co_return fail(ex, name.error());
    }
    auto& control = ctx_.control;
    auto issued = co_await blocking([&] { return control.createOperatorToken(who.actor, *name); });
    if (!issued) {
      co_return fail(ex, issued.error());
    }
    auto out = toJson(issued->record);
    out["token"] = std::string(issued->secret.reveal());  // shown once
    issued->secret.wipe();
    co_return jsonResponse(201, out);
  }

  net::awaitable<Response> revokeToken(Exchange& ex, OperatorAuth who) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto revoked = co_await blocking([&] { return control.revokeOperatorToken(who.actor, id); });
    if (!revoked) {
      co_return fail(ex, orNotFound(revoked.error(), "operator token"));
    }
    (void)co_await sessions_.endAllFor("", id);  // its console sessions end with it
    co_return noContent();
  }

  // ---- usage, alerts, audit, health -----------------------------------------------------------

  net::awaitable<Response> usage(Exchange& ex, OperatorAuth /*who*/) {
    storage::UsageFilter f;
    auto tenant = ex.request.queryParam("tenant_id");
    if (tenant.empty()) {
      f.all_tenants = true;
    } else {
      f.tenant_id = std::move(tenant);
    }
    co_return co_await usageTotals(ctx_, ex, std::move(f), true);
  }

  net::awaitable<Response> usageEventsFeed(Exchange& ex, OperatorAuth /*who*/) {
    co_return co_await usageEvents(ctx_, ex, ex.request.queryParam("tenant_id"));
  }

  net::awaitable<Response> listAlerts(Exchange& ex, OperatorAuth /*who*/) {
    auto tenant = ex.request.queryParam("tenant_id");
    bool open_only = ex.request.queryParam("unacknowledged") == "true";
    auto& stores = ctx_.stores;
    auto alerts = co_await blocking([&] {
      return tenant.empty() ? stores.alerts.listAll(500, open_only)
                            : stores.alerts.list(tenant, 500, open_only);
    });
    if (!alerts) {
      co_return fail(ex, alerts.error());
    }
    json::array data;
    for (const auto& a : *alerts) {
      data.emplace_back(toJson(a));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> ackAlert(Exchange& ex, OperatorAuth who) {
    auto id = std::string(ex.param("id"));
    auto& stores = ctx_.stores;
    auto& control = ctx_.control;
    auto acked = co_await blocking([&]() -> Result<storage::Alert> {
      auto all = stores.alerts.listAll(storage::kMaxPageSize);
      if (!all) {
        return all.error();
      }
      auto it = std::find_if(all->begin(), all->end(), [&](const auto& a) { return a.id == id; });
      if (it == all->end()) {
        return notFound("alert");
      }
      if (auto r = control.acknowledgeAlert(who.actor, it->tenant_id, id); !r) {
        return r.error();
      }
      it->acknowledged_at = ctx_.clock.unixMillis();
      return *it;
    });
    if (!acked) {
      co_return fail(ex, acked.error());
    }
    co_return jsonResponse(200, toJson(*acked));
  }

  net::awaitable<Response> audit(Exchange& ex, OperatorAuth /*who*/) {
    auto limit = queryInt(ex.request, "limit", 1, 1000);
    auto before = queryInt(ex.request, "before", 0, INT64_MAX);
    if (auto e = firstError(limit, before)) {
      co_return fail(ex, *e);
    }
    auto tenant = ex.request.queryParam("tenant_id");
    auto n = static_cast<std::size_t>(limit->value_or(200));
    auto b = before->value_or(0);
    auto& stores = ctx_.stores;
    auto entries =
        co_await blocking([&] { return stores.audit.listRecent(tenant, tenant.empty(), b, n); });
    if (!entries) {
      co_return fail(ex, entries.error());
    }
    json::array data;
    for (const auto& e : *entries) {
      data.emplace_back(toJson(e));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> verifyAudit(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto v = co_await blocking([&] { return stores.audit.verify(); });
    if (!v) {
      co_return fail(ex, v.error());
    }
    json::object out;
    out["ok"] = v->ok;
    out["checked"] = v->checked;
    out["first_broken_seq"] = v->first_broken_seq;
    out["reason"] = v->reason;
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> health(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto creds = co_await blocking([&]() -> Result<std::vector<storage::Credential>> {
      std::vector<storage::Credential> all;
      storage::Page page{.limit = 1000, .after = {}};
      while (all.size() < kMaxHealthRows) {
        auto batch = stores.credentials.listAll(page);
        if (!batch) {
          return batch.error();
        }
        if (batch->empty()) {
          break;
        }
        page.after = batch->back().id;
        for (auto& c : *batch) {
          all.push_back(std::move(c));
        }
      }
      return all;
    });
    if (!creds) {
      co_return fail(ex, creds.error());
    }
    json::array data;
    for (const auto& c : *creds) {
      if (c.provider == "jwt-hs256") {
        continue;  // a JWT secret, not a provider key
      }
      auto tenant = ctx_.tenants.byId(c.tenant_id);
      json::object o;
      o["tenant_id"] = c.tenant_id;
      o["tenant"] = tenant ? tenant->tenant.slug : std::string();
      o["credential_id"] = c.id;
      o["provider"] = c.provider;
      o["label"] = c.label;
      o["fingerprint"] = c.fingerprint;
      o["health"] = toString(c.health);
      o["health_detail"] = c.health_detail;
      o["last_used_at"] = c.last_used_at == 0 ? json::value(nullptr) : json::value(c.last_used_at);
      o["updated_at"] = c.updated_at;
      data.emplace_back(std::move(o));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  // ---- KEK lifecycle --------------------------------------------------------------------------

  net::awaitable<Response> kmsStatus(Exchange& ex, OperatorAuth /*who*/) {
    auto& control = ctx_.control;
    auto status = co_await blocking([&] { return control.kekStatus(); });
    if (!status) {
      co_return fail(ex, status.error());
    }
    co_return jsonResponse(200, kekStatusJson(*status));
  }

  net::awaitable<Response> kmsRotate(Exchange& ex, OperatorAuth who) {
    auto& control = ctx_.control;
    auto rotated = co_await blocking(
        [&]() -> Result<std::pair<std::uint32_t, std::vector<control::KekVersionReport>>> {
          auto v = control.rotateKek(who.actor);
          if (!v) {
            return v.error();
          }
          auto status = control.kekStatus();
          if (!status) {
            return status.error();
          }
          return std::pair{*v, std::move(*status)};
        });
    if (!rotated) {
      co_return fail(ex, rotated.error());
    }
    auto out = kekStatusJson(rotated->second);
    out["version"] = rotated->first;
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> kmsRewrap(Exchange& ex, OperatorAuth who) {
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto done = co_await blocking(
        [&]()
            -> Result<std::pair<control::RewrapProgress, std::vector<control::KekVersionReport>>> {
          auto p = control.rewrapAll(who.actor, {});
          if (!p) {
            return p.error();
          }
          (void)sync.poll();  // the rewrapped envelopes reach this node's snapshots now
          auto status = control.kekStatus();
          if (!status) {
            return status.error();
          }
          return std::pair{*p, std::move(*status)};
        });
    if (!done) {
      co_return fail(ex, done.error());
    }
    auto out = kekStatusJson(done->second);
    out["rewrapped"] = done->first.rewrapped;
    out["skipped"] = done->first.skipped;
    out["remaining"] = done->first.remaining;
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> kmsRetire(Exchange& ex, OperatorAuth who) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"version"}); !r) {
      co_return fail(ex, r.error());
    }
    auto version = body->optionalInt("version", 1, 0xffffffffLL);
    if (!version) {
      co_return fail(ex, version.error());
    }
    if (!*version) {
      co_return fail(ex, badField("version", "'version' is required"));
    }
    auto& control = ctx_.control;
    auto v = static_cast<std::uint32_t>(**version);
    auto retired = co_await blocking([&]() -> Result<std::vector<control::KekVersionReport>> {
      if (auto r = control.retireKek(who.actor, v); !r) {
        return r.error();
      }
      return control.kekStatus();
    });
    if (!retired) {
      co_return fail(ex, retired.error());
    }
    co_return jsonResponse(200, kekStatusJson(*retired));
  }

  // ---- operator default routes ----------------------------------------------------------------

  net::awaitable<Response> listRoutes(Exchange& ex, OperatorAuth /*who*/) {
    auto& stores = ctx_.stores;
    auto routes = co_await blocking([&] { return stores.routes.list(""); });
    if (!routes) {
      co_return fail(ex, routes.error());
    }
    json::array data;
    for (const auto& r : *routes) {
      data.emplace_back(toJson(r, false));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> putRoute(Exchange& ex, OperatorAuth who) {
    auto model = std::string(ex.param("model"));
    if (auto r = validateModelName(model); !r) {
      co_return fail(ex, r.error());
    }
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"deployments"}); !r) {
      co_return fail(ex, r.error());
    }
    const auto* raw = body->find("deployments");
    if (raw == nullptr || !raw->is_array()) {
      co_return fail(ex, badField("deployments", "'deployments' must be a list"));
    }
    // Operator defaults name no credential: each tenant's own is used at request time.
    json::value copy = *raw;
    for (auto& d : copy.as_array()) {
      if (!d.is_object()) {
        continue;  // deploymentsFromJson reports it
      }
      auto& o = d.as_object();
      if (const auto* c = o.if_contains("credential_id");
          c != nullptr && !(c->is_string() && c->as_string().empty()) && !c->is_null()) {
        co_return fail(ex,
                       badField("deployments",
                                "operator default routes name no credential_id (each tenant's "
                                "own credential for the provider is used)"));
      }
      o["credential_id"] = "";
    }
    auto deployments = deploymentsFromJson(copy);
    if (!deployments) {
      co_return fail(ex, deployments.error());
    }
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto stored = co_await blocking([&] {
      auto r = control.setRoute(who.actor, "", model, *deployments);
      if (r) {
        (void)sync.poll();  // every tenant inherits it
      }
      return r;
    });
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    co_return jsonResponse(200, toJson(*stored, false));
  }

  net::awaitable<Response> deleteRoute(Exchange& ex, OperatorAuth who) {
    auto model = std::string(ex.param("model"));
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto removed = co_await blocking([&] {
      auto r = control.deleteRoute(who.actor, "", model);
      if (r) {
        (void)sync.poll();
      }
      return r;
    });
    if (!removed) {
      co_return fail(ex, orNotFound(removed.error(), "route"));
    }
    co_return noContent();
  }

  ApiContext& ctx_;
  SessionManager& sessions_;
};

}  // namespace

void addAdminRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions) {
  auto api = std::make_shared<AdminApi>(ctx, sessions);
  api->mount(router, api);
}

}  // namespace livery::api
