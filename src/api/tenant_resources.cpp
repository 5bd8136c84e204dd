#include "api/tenant_resources.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include "api/api_support.hpp"
#include "api/json_model.hpp"
#include "api/outbound_checks.hpp"
#include "config/config.hpp"
#include "control/index_sync.hpp"
#include "control/webhooks.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "crypto/api_key.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jwt.hpp"
#include "crypto/password.hpp"
#include "http/router.hpp"
#include "limits/limiter.hpp"
#include "providers/registry.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "upstream/outbound_guard.hpp"
#include "whitelabel/asset.hpp"
#include "whitelabel/domain_verification.hpp"
#include "whitelabel/host.hpp"
#include "whitelabel/text.hpp"
#include "whitelabel/theme.hpp"

namespace livery::api {

namespace json = boost::json;
using http::Exchange;
using http::Method;
using http::Response;

namespace {

constexpr storage::Millis kInviteLifetimeMs = 7LL * 24 * 60 * 60 * 1000;
constexpr std::string_view kInviteMarker = "invite:";
constexpr std::size_t kMaxPromptBytes = std::size_t{32} * 1024;
constexpr std::size_t kMaxListed = 1000;
constexpr std::string_view kJwtSecretProvider = "jwt-hs256";

json::value nullIfEmpty(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::object userJson(const storage::User& u) {
  auto o = toJson(u);
  o["invited"] = u.password_hash.starts_with(kInviteMarker);
  return o;
}

json::object brandingJson(const storage::Branding& b) {
  auto model = whitelabel::makeThemeModel(b);
  json::object o;
  o["display_name"] = b.display_name;
  o["primary_color"] = whitelabel::toHex(model.palette.primary);
  o["accent_color"] = whitelabel::toHex(model.palette.accent);
  o["text_on_primary"] = whitelabel::toHex(model.palette.on_primary);
  o["logo_url"] = nullIfEmpty(model.logo_url);
  o["favicon_url"] = nullIfEmpty(model.favicon_url);
  o["support_email"] = b.support_email;
  o["footer_text"] = b.footer_text;
  o["updated_at"] = b.updated_at;
  return o;
}

json::object domainJson(const storage::Domain& d) {
  auto o = toJson(d);
  json::object v;
  v["http_url"] = whitelabel::challengeUrl(d.host, d.verification_token);
  v["token"] = d.verification_token;
  v["dns_txt_name"] = whitelabel::dnsChallengeName(d.host);
  o["verification"] = std::move(v);
  return o;
}

json::object withValidation(json::object o, const std::optional<KeyValidation>& v) {
  o["validation"] = v ? json::value(v->toJson()) : json::value(nullptr);
  return o;
}

// 422 whose body is the OpenAI error plus the validation outcome (what the console shows).
Response validationFailed(const KeyValidation& v) {
  Error e{ErrorCode::kUnprocessable, v.message};
  e.openai_code = v.reason;
  json::object body;
  auto parsed = json::parse(openAiErrorJson(e));
  body["error"] = parsed.as_object()["error"];
  body["validation"] = v.toJson();
  return jsonResponse(422, body);
}

// Wipes the raw request body after a secret was taken out of it.
void wipeBody(Exchange& ex) {
  wipeString(ex.request.body);
  ex.request.body.clear();
}

std::string invitationMarker(const crypto::KeyHasher::Digest& digest, storage::Millis expires) {
  return fmt::format("{}{}:{}", kInviteMarker, crypto::hexEncode(digest), expires);
}

std::string percentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

// ---- account helpers --------------------------------------------------------------------------

Result<void> validatePassword(const SecretBytes& password) {
  if (password.size() < 10) {
    return badField("password", "the password must have at least 10 characters");
  }
  if (password.size() > crypto::kMaxPasswordBytes) {
    return badField("password", "the password is too long");
  }
  return {};
}

std::optional<storage::UserRole> parseRole(std::string_view name) {
  if (name == "owner") {
    return storage::UserRole::kOwner;
  }
  if (name == "admin") {
    return storage::UserRole::kAdmin;
  }
  if (name == "member" || name == "viewer") {
    return storage::UserRole::kMember;
  }
  return std::nullopt;
}

net::awaitable<Result<Invite>> createInvite(ApiContext& ctx,
                                            control::Actor actor,
                                            std::string tenant_id,
                                            std::string email,
                                            storage::UserRole role,
                                            std::string public_host) {
  auto secret = crypto::api_key::generate(crypto::TokenKind::kSession, ctx.random);
  if (!secret) {
    co_return secret.error();
  }
  auto digest = ctx.hasher.hash(secret->reveal());
  if (!digest) {
    co_return digest.error();
  }
  storage::User u;
  u.tenant_id = tenant_id;
  u.kind = "admin";
  u.email = email;
  u.role = role;
  u.display_name = "";
  auto expires = ctx.clock.unixMillis() + kInviteLifetimeMs;
  u.password_hash = invitationMarker(*digest, expires);
  auto& control = ctx.control;
  auto created = co_await offload(ctx.blocking,
                                  [&control, &actor, &u] { return control.createUser(actor, u); });
  if (!created) {
    co_return created.error();
  }
  Invite invite;
  invite.token = created->id + "." + std::string(secret->reveal());
  invite.expires_at = expires;
  invite.url = fmt::format("{}://{}/console#/accept-invite?token={}",
                           ctx.cfg.security.cookie_secure ? "https" : "http",
                           public_host,
                           percentEncode(invite.token));
  invite.user = std::move(*created);
  co_return invite;
}

Result<storage::User> findInvitedUser(ApiContext& ctx,
                                      std::string_view tenant_id,
                                      std::string_view token) {
  auto invalid = [] {
    return Error{ErrorCode::kUnauthenticated, "This invitation is invalid or has expired."}
        .withCode("invalid_invite");
  };
  auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || token.size() > 256) {
    return invalid();
  }
  auto user_id = token.substr(0, dot);
  auto secret = token.substr(dot + 1);
  auto parsed = crypto::api_key::parse(secret);
  if (!parsed || parsed->kind != crypto::TokenKind::kSession) {
    return invalid();
  }
  auto user = ctx.stores.users.get(tenant_id, user_id);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) {
      return invalid();
    }
    return user.error();
  }
  std::string_view marker = user->password_hash;
  if (user->kind != "admin" || user->disabled || !marker.starts_with(kInviteMarker)) {
    return invalid();
  }
  marker.remove_prefix(kInviteMarker.size());
  auto colon = marker.find(':');
  if (colon == std::string_view::npos) {
    return invalid();
  }
  auto expected = crypto::hexDecode(marker.substr(0, colon));
  storage::Millis expires = 0;
  auto digits = marker.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expires);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return invalid();
  }
  auto digest = ctx.hasher.hash(secret);
  if (!digest || !expected || !crypto::constantTimeEqual(*digest, *expected) ||
      ctx.clock.unixMillis() >= expires) {
    return invalid();
  }
  return user;
}

// ---- the resources ----------------------------------------------------------------------------

namespace {

class TenantResources {
 public:
  TenantResources(ApiContext& ctx, SessionManager& sessions)
      : ctx_(ctx),
        sessions_(sessions),
        guard_(ctx.cfg.upstream),
        assets_(whitelabel::AssetLimits{
            .logo_max_bytes = ctx.cfg.whitelabel.logo_max_bytes,
            .favicon_max_bytes = ctx.cfg.whitelabel.favicon_max_bytes,
            .max_dimension = static_cast<std::uint32_t>(ctx.cfg.whitelabel.max_image_dimension),
        }) {}

  using Handler = net::awaitable<Response> (TenantResources::*)(Exchange&, TenantScope);

  // Registers the handlers; each holds `self`, so the resources live as long as the router.
  static void mount(const std::shared_ptr<TenantResources>& self,
                    http::Router& router,
                    const std::string& prefix,
                    const ScopeResolver& resolve) {
    auto add = [&](Method m, std::string_view path, Handler h, bool watch = false) {
      std::string pattern = prefix + std::string(path);
      router.add(m,
                 pattern,
                 [self, resolve, h](Exchange& ex) -> net::awaitable<Response> {
                   auto scope = co_await resolve(ex);
                   if (!scope) {
                     co_return errorResponse(self->ctx_, ex, scope.error());
                   }
                   ex.tenant_id = scope->tenant_id;
                   auto response = co_await ((*self).*h)(ex, std::move(*scope));
                   co_return response;
                 },
                 {.name = pattern, .watch_client_close = watch});
    };
    add(Method::kGet, "/admins", &TenantResources::listAdmins);
    add(Method::kPost, "/admins", &TenantResources::inviteAdmin);
    add(Method::kPatch, "/admins/{id}", &TenantResources::updateAdmin);
    add(Method::kDelete, "/admins/{id}", &TenantResources::deleteAdmin);
    add(Method::kGet, "/users", &TenantResources::listUsers);
    add(Method::kPost, "/users", &TenantResources::createUser);
    add(Method::kPatch, "/users/{id}", &TenantResources::updateUser);
    add(Method::kDelete, "/users/{id}", &TenantResources::deleteUser);
    add(Method::kGet, "/credentials", &TenantResources::listCredentials);
    add(Method::kPost, "/credentials", &TenantResources::addCredential);
    add(Method::kPut, "/credentials/{id}", &TenantResources::replaceCredential);
    add(Method::kPost, "/credentials/{id}/validate", &TenantResources::revalidateCredential);
    add(Method::kDelete, "/credentials/{id}", &TenantResources::deleteCredential);
    add(Method::kGet, "/keys", &TenantResources::listKeys);
    add(Method::kPost, "/keys", &TenantResources::issueKey);
    add(Method::kDelete, "/keys/{id}", &TenantResources::revokeKey);
    add(Method::kGet, "/branding", &TenantResources::getBranding);
    add(Method::kPut, "/branding", &TenantResources::putBranding);
    add(Method::kPut, "/branding/logo", &TenantResources::putLogo);
    add(Method::kPut, "/branding/favicon", &TenantResources::putFavicon);
    add(Method::kGet, "/domains", &TenantResources::listDomains);
    add(Method::kPost, "/domains", &TenantResources::addDomain);
    add(Method::kPost, "/domains/{host}/verify", &TenantResources::verifyDomain);
    add(Method::kDelete, "/domains/{host}", &TenantResources::removeDomain);
    add(Method::kGet, "/routes", &TenantResources::listRoutes);
    add(Method::kPut, "/routes/{model}", &TenantResources::putRoute);
    add(Method::kDelete, "/routes/{model}", &TenantResources::deleteRoute);
    add(Method::kGet, "/prompts", &TenantResources::listPrompts);
    add(Method::kPost, "/prompts", &TenantResources::createPrompt);
    add(Method::kPost, "/prompts/rollback", &TenantResources::rollbackPrompt);
    add(Method::kGet, "/prompts/{id}", &TenantResources::getPrompt);
    add(Method::kPost, "/prompts/{id}/activate", &TenantResources::activatePrompt);
    add(Method::kGet, "/usage", &TenantResources::usage);
    add(Method::kGet, "/usage/events", &TenantResources::usageEventsFeed, true);
    add(Method::kGet, "/quota", &TenantResources::quota);
    add(Method::kGet, "/alerts", &TenantResources::listAlerts);
    add(Method::kPost, "/alerts/{id}/ack", &TenantResources::ackAlert);
    add(Method::kGet, "/webhook", &TenantResources::getWebhook);
    add(Method::kPut, "/webhook", &TenantResources::putWebhook);
    add(Method::kDelete, "/webhook", &TenantResources::deleteWebhook);
    add(Method::kGet, "/audit", &TenantResources::audit);
    add(Method::kGet, "/jwt-keys", &TenantResources::listJwtKeys);
    add(Method::kPost, "/jwt-keys", &TenantResources::addJwtKey);
    add(Method::kDelete, "/jwt-keys/{id}", &TenantResources::deleteJwtKey);
  }

 private:
  Response fail(const Exchange& ex, const Error& e) { return errorResponse(ctx_, ex, e); }

  // Runs a mutation and refreshes this node's snapshot of the tenant on success, on the
  // blocking pool.
  template <class F>
  net::awaitable<std::invoke_result_t<F&>> mutate(std::string tenant_id, F fn) {
    auto& ctx = ctx_;
    co_return co_await offload(ctx_.blocking, [fn = std::move(fn), &ctx, &tenant_id]() mutable {
      auto r = fn();
      if (r) {
        refreshTenantOrWarn(ctx, tenant_id);
      }
      return r;
    });
  }

  template <class F>
  net::awaitable<std::invoke_result_t<F&>> blocking(F fn) {
    co_return co_await offload(ctx_.blocking, std::move(fn));
  }

  // ---- admins ---------------------------------------------------------------------------------

  net::awaitable<Response> listAdmins(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto users = co_await blocking(
        [&] { return stores.users.list(scope.tenant_id, "admin", {.limit = kMaxListed}); });
    if (!users) {
      co_return fail(ex, users.error());
    }
    json::array data;
    for (const auto& u : *users) {
      data.emplace_back(userJson(u));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> inviteAdmin(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"email", "role"}); !r) {
      co_return fail(ex, r.error());
    }
    auto email = body->requiredString("email", 254);
    auto role_name = body->optionalString("role", 16);
    if (!email) {
      co_return fail(ex, email.error());
    }
    if (!role_name) {
      co_return fail(ex, role_name.error());
    }
    if (auto r = validateEmail(*email); !r) {
      co_return fail(ex, r.error());
    }
    auto role = parseRole(role_name->value_or("admin"));
    if (!role) {
      co_return fail(ex, badField("role", "role must be owner, admin or viewer"));
    }
    auto invite =
        co_await createInvite(ctx_, scope.actor, scope.tenant_id, *email, *role, scope.public_host);
    if (!invite) {
      co_return fail(ex, invite.error());
    }
    json::object out;
    out["user"] = userJson(invite->user);
    out["invite_url"] = invite->url;
    out["token"] = invite->token;
    out["expires_at"] = invite->expires_at;
    co_return jsonResponse(201, out);
  }

  // The account `id` of the tenant if it is of `kind`.
  net::awaitable<Result<storage::User>> accountOf(std::string tenant_id,
                                                  std::string id,
                                                  std::string kind) {
    auto& stores = ctx_.stores;
    auto user = co_await blocking([&] { return stores.users.get(tenant_id, id); });
    if (!user) {
      co_return orNotFound(user.error(), "account");
    }
    if (user->kind != kind) {
      co_return notFound("account");
    }
    co_return user;
  }

  net::awaitable<Response> updateAccount(Exchange& ex, TenantScope scope, std::string kind) {
    auto id = std::string(ex.param("id"));
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly(
            kind == "admin"
                ? std::initializer_list<std::string_view>{"display_name", "role", "disabled"}
                : std::initializer_list<std::string_view>{"display_name", "disabled", "password"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto name = body->optionalString("display_name", 120);
    auto role_name = body->optionalString("role", 16);
    auto disabled = body->optionalBool("disabled");
    auto password = body->optionalString("password", crypto::kMaxPasswordBytes);
    if (auto e = firstError(name, role_name, disabled, password)) {
      co_return fail(ex, *e);
    }
    auto user = co_await accountOf(scope.tenant_id, id, kind);
    if (!user) {
      co_return fail(ex, user.error());
    }
    if (id == scope.user_id && ((*disabled && **disabled) || *role_name)) {
      co_return fail(
          ex, Error{ErrorCode::kConflict, "You cannot disable yourself or change your own role."});
    }
    if (*name) {
      if (auto r = validateDisplayName("display_name", **name); !r) {
        co_return fail(ex, r.error());
      }
      user->display_name = **name;
    }
    if (*role_name) {
      auto role = parseRole(**role_name);
      if (!role) {
        co_return fail(ex, badField("role", "role must be owner, admin or viewer"));
      }
      user->role = *role;
    }
    if (*disabled) {
      user->disabled = **disabled;
    }
    std::optional<std::string> new_hash;
    if (*password) {
      auto secret = SecretBytes::takeFrom(**password);
      wipeBody(ex);
      if (auto r = validatePassword(secret); !r) {
        co_return fail(ex, r.error());
      }
      const auto& passwords = ctx_.passwords;
      auto hashed = co_await blocking([&passwords, &secret] { return passwords.hash(secret); });
      if (!hashed) {
        co_return fail(ex, hashed.error());
      }
      new_hash = std::move(*hashed);
    }
    auto& control = ctx_.control;
    auto updated = co_await blocking([&]() -> Result<storage::User> {
      auto u = control.updateUser(scope.actor, *user);
      if (u && new_hash) {
        if (auto r = control.setUserPassword(scope.actor, scope.tenant_id, u->id, *new_hash); !r) {
          return r.error();
        }
      }
      return u;
    });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    if (updated->disabled || new_hash) {
      (void)co_await sessions_.endAllFor(scope.tenant_id, updated->id);
    }
    co_return jsonResponse(200, userJson(*updated));
  }

  net::awaitable<Response> updateAdmin(Exchange& ex, TenantScope scope) {
    co_return co_await updateAccount(ex, std::move(scope), "admin");
  }

  net::awaitable<Response> deleteAccount(Exchange& ex, TenantScope scope, std::string kind) {
    auto id = std::string(ex.param("id"));
    if (id == scope.user_id) {
      co_return fail(ex, Error{ErrorCode::kConflict, "You cannot remove your own account."});
    }
    auto user = co_await accountOf(scope.tenant_id, id, kind);
    if (!user) {
      co_return fail(ex, user.error());
    }
    auto& control = ctx_.control;
    auto removed =
        co_await blocking([&] { return control.deleteUser(scope.actor, scope.tenant_id, id); });
    if (!removed) {
      co_return fail(ex, removed.error());
    }
    (void)co_await sessions_.endAllFor(scope.tenant_id, id);
    co_return noContent();
  }

  net::awaitable<Response> deleteAdmin(Exchange& ex, TenantScope scope) {
    co_return co_await deleteAccount(ex, std::move(scope), "admin");
  }

  // ---- workspace users ------------------------------------------------------------------------

  net::awaitable<Response> listUsers(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto users = co_await blocking(
        [&] { return stores.users.list(scope.tenant_id, "end_user", {.limit = kMaxListed}); });
    if (!users) {
      co_return fail(ex, users.error());
    }
    json::array data;
    for (const auto& u : *users) {
      data.emplace_back(userJson(u));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> createUser(Exchange& ex, TenantScope scope) {
    auto taken = takeSecretField(ex.request.body, "password", crypto::kMaxPasswordBytes);
    wipeBody(ex);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    auto& body = taken->rest;
    if (auto r = body.allowOnly({"email", "display_name"}); !r) {
      co_return fail(ex, r.error());
    }
    auto email = body.requiredString("email", 254);
    auto name = body.optionalString("display_name", 120);
    if (!email) {
      co_return fail(ex, email.error());
    }
    if (!name) {
      co_return fail(ex, name.error());
    }
    if (auto r = validateEmail(*email); !r) {
      co_return fail(ex, r.error());
    }
    if (!taken->secret) {
      co_return fail(ex, badField("password", "'password' is required"));
    }
    if (auto r = validatePassword(*taken->secret); !r) {
      co_return fail(ex, r.error());
    }
    if (*name && !(*name)->empty()) {
      if (auto r = validateDisplayName("display_name", **name); !r) {
        co_return fail(ex, r.error());
      }
    }
    const auto& passwords = ctx_.passwords;
    const SecretBytes& secret = *taken->secret;
    auto hashed = co_await blocking([&passwords, &secret] { return passwords.hash(secret); });
    taken->secret->wipe();
    if (!hashed) {
      co_return fail(ex, hashed.error());
    }
    storage::User u;
    u.tenant_id = scope.tenant_id;
    u.kind = "end_user";
    u.email = *email;
    u.display_name = name->value_or("");
    u.role = storage::UserRole::kMember;
    u.password_hash = std::move(*hashed);
    auto& control = ctx_.control;
    auto created = co_await blocking([&] { return control.createUser(scope.actor, u); });
    if (!created) {
      co_return fail(ex, created.error());
    }
    co_return jsonResponse(201, userJson(*created));
  }

  net::awaitable<Response> updateUser(Exchange& ex, TenantScope scope) {
    co_return co_await updateAccount(ex, std::move(scope), "end_user");
  }

  net::awaitable<Response> deleteUser(Exchange& ex, TenantScope scope) {
    co_return co_await deleteAccount(ex, std::move(scope), "end_user");
  }

  // ---- credentials ----------------------------------------------------------------------------

  net::awaitable<Response> listCredentials(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto creds = co_await blocking([&] { return stores.credentials.list(scope.tenant_id); });
    if (!creds) {
      co_return fail(ex, creds.error());
    }
    json::array data;
    for (const auto& c : *creds) {
      if (c.provider != kJwtSecretProvider) {
        data.emplace_back(toJson(c));
      }
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  // Records a validation outcome as the credential's health (best effort).
  net::awaitable<void> recordHealth(std::string tenant_id,
                                    std::string credential_id,
                                    KeyValidation v) {
    auto& stores = ctx_.stores;
    auto& sync = ctx_.sync;
    auto detail = v.healthDetail();
    (void)co_await blocking([&] {
      auto r = stores.credentials.updateHealth(tenant_id, credential_id, v.health, detail);
      (void)sync.refreshTenant(tenant_id);
      return r;
    });
  }

  net::awaitable<Response> addCredential(Exchange& ex, TenantScope scope) {
    auto taken = takeSecretField(ex.request.body, "key");
    wipeBody(ex);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    auto& body = taken->rest;
    if (auto r = body.allowOnly({"provider", "label", "base_url", "options", "skip_validation"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto provider = body.requiredString("provider", 64);
    auto label = body.optionalString("label", 120);
    auto base_url = body.optionalString("base_url", 2048);
    auto skip = body.optionalBool("skip_validation");
    if (!provider) {
      co_return fail(ex, provider.error());
    }
    if (!label) {
      co_return fail(ex, label.error());
    }
    if (!base_url) {
      co_return fail(ex, base_url.error());
    }
    if (!skip) {
      co_return fail(ex, skip.error());
    }
    if (*provider == kJwtSecretProvider || ctx_.providers.find(*provider) == nullptr) {
      co_return fail(
          ex,
          badField("provider",
                   "provider must be one of openai, azure, anthropic, ollama, openai_compatible"));
    }
    control::CredentialSpec spec;
    spec.provider = *provider;
    spec.label = label->value_or("");
    spec.base_url = base_url->value_or("");
    if (!spec.base_url.empty()) {
      if (auto checked = guard_.checkUrl(spec.base_url); !checked) {
        co_return fail(ex, badField("base_url", checked.error().client_message));
      }
    }
    if (const auto* options = body.find("options"); options != nullptr && !options->is_null()) {
      if (!options->is_object()) {
        co_return fail(ex, badField("options", "'options' must be an object"));
      }
      spec.options_json = json::serialize(*options);
      if (spec.options_json.size() > 4096) {
        co_return fail(ex, badField("options", "'options' is too large"));
      }
    }
    SecretBytes key = taken->secret ? std::move(*taken->secret) : SecretBytes{};
    std::optional<KeyValidation> validation;
    if (!skip->value_or(false)) {
      auto v = co_await validateProviderKey(
          ctx_, ex.worker, spec.provider, spec.base_url, spec.options_json, key);
      if (!v.ok) {
        co_return validationFailed(v);  // nothing was stored
      }
      validation = std::move(v);
    }
    auto& control = ctx_.control;
    auto stored = co_await mutate(scope.tenant_id, [&] {
      return control.addCredential(scope.actor, scope.tenant_id, spec, key);
    });
    key.wipe();
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    if (validation) {
      co_await recordHealth(scope.tenant_id, stored->id, *validation);
      stored->health = validation->health;
      stored->health_detail = validation->healthDetail();
    }
    co_return jsonResponse(201, withValidation(toJson(*stored), validation));
  }

  net::awaitable<Result<storage::Credential>> credentialOf(std::string tenant_id, std::string id) {
    auto& stores = ctx_.stores;
    auto c = co_await blocking([&] { return stores.credentials.get(tenant_id, id); });
    if (!c) {
      co_return orNotFound(c.error(), "credential");
    }
    if (c->provider == kJwtSecretProvider) {
      co_return notFound("credential");  // a JWT secret is managed through /jwt-keys
    }
    co_return c;
  }

  net::awaitable<Response> replaceCredential(Exchange& ex, TenantScope scope) {
    auto taken = takeSecretField(ex.request.body, "key");
    wipeBody(ex);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    if (auto r = taken->rest.allowOnly({"skip_validation"}); !r) {
      co_return fail(ex, r.error());
    }
    auto skip = taken->rest.optionalBool("skip_validation");
    if (!skip) {
      co_return fail(ex, skip.error());
    }
    auto current = co_await credentialOf(scope.tenant_id, std::string(ex.param("id")));
    if (!current) {
      co_return fail(ex, current.error());
    }
    SecretBytes key = taken->secret ? std::move(*taken->secret) : SecretBytes{};
    std::optional<KeyValidation> validation;
    if (!skip->value_or(false)) {
      auto v = co_await validateProviderKey(
          ctx_, ex.worker, current->provider, current->base_url, current->options_json, key);
      if (!v.ok) {
        co_return validationFailed(v);  // the stored key stays as it was
      }
      validation = std::move(v);
    }
    auto& control = ctx_.control;
    auto stored = co_await mutate(scope.tenant_id, [&] {
      return control.replaceCredential(scope.actor, scope.tenant_id, current->id, key);
    });
    key.wipe();
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    if (validation) {
      co_await recordHealth(scope.tenant_id, stored->id, *validation);
      stored->health = validation->health;
      stored->health_detail = validation->healthDetail();
    }
    co_return jsonResponse(200, withValidation(toJson(*stored), validation));
  }

  net::awaitable<Response> revalidateCredential(Exchange& ex, TenantScope scope) {
    auto current = co_await credentialOf(scope.tenant_id, std::string(ex.param("id")));
    if (!current) {
      co_return fail(ex, current.error());
    }
    auto& control = ctx_.control;
    auto key =
        co_await blocking([&] { return control.openCredential(scope.tenant_id, current->id); });
    if (!key) {
      co_return fail(ex, key.error());
    }
    auto v = co_await validateProviderKey(
        ctx_, ex.worker, current->provider, current->base_url, current->options_json, *key);
    key->wipe();
    co_await recordHealth(scope.tenant_id, current->id, v);
    co_return jsonResponse(200, v.toJson());
  }

  net::awaitable<Response> deleteCredential(Exchange& ex, TenantScope scope) {
    auto current = co_await credentialOf(scope.tenant_id, std::string(ex.param("id")));
    if (!current) {
      co_return fail(ex, current.error());
    }
    auto& control = ctx_.control;
    auto removed = co_await mutate(scope.tenant_id, [&] {
      return control.deleteCredential(scope.actor, scope.tenant_id, current->id);
    });
    if (!removed) {
      co_return fail(ex, removed.error());
    }
    co_return noContent();
  }

  // ---- API keys -------------------------------------------------------------------------------

  net::awaitable<Response> listKeys(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto keys = co_await blocking(
        [&] { return stores.api_keys.list(scope.tenant_id, {.limit = kMaxListed}); });
    if (!keys) {
      co_return fail(ex, keys.error());
    }
    json::array data;
    for (const auto& k : *keys) {
      data.emplace_back(toJson(k));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> issueKey(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r =
            body->allowOnly({"name", "environment", "scopes", "expires_at", "limits", "end_user"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto name = body->requiredString("name", 120);
    auto environment = body->optionalString("environment", 8);
    auto scopes = body->optionalStringList("scopes", 64);
    auto expires = body->optionalInt("expires_at", 0, std::int64_t{1} << 53);
    auto end_user = body->optionalString("end_user", 128);
    if (!name) {
      co_return fail(ex, name.error());
    }
    if (!environment) {
      co_return fail(ex, environment.error());
    }
    if (!scopes) {
      co_return fail(ex, scopes.error());
    }
    if (!expires) {
      co_return fail(ex, expires.error());
    }
    if (!end_user) {
      co_return fail(ex, end_user.error());
    }
    control::KeySpec spec;
    spec.name = *name;
    spec.environment = environment->value_or("live");
    if (*scopes) {
      for (const auto& m : **scopes) {
        if (auto r = validateModelName(m); !r) {
          co_return fail(ex, badField("scopes", "each scope must be a model name"));
        }
      }
      spec.scopes = std::move(**scopes);
    }
    spec.expires_at = expires->value_or(0);
    if (const auto* limits = body->find("limits"); limits != nullptr) {
      auto l = keyLimitsFromJson(*limits);
      if (!l) {
        co_return fail(ex, l.error());
      }
      spec.limits = *l;
    }
    if (*end_user && !(*end_user)->empty()) {
      if (!isSafeClientId(**end_user)) {
        co_return fail(ex,
                       badField("end_user", "end_user may contain letters, digits and . _ : -"));
      }
      spec.end_user = **end_user;
    }
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto issued = co_await blocking([&] {
      auto k = control.issueApiKey(scope.actor, scope.tenant_id, spec);
      if (k) {
        (void)sync.refreshKey(scope.tenant_id, k->record.id);
      }
      return k;
    });
    if (!issued) {
      co_return fail(ex, issued.error());
    }
    auto out = toJson(issued->record);
    out["key"] = std::string(issued->secret.reveal());  // shown once, never again
    issued->secret.wipe();
    co_return jsonResponse(201, out);
  }

  net::awaitable<Response> revokeKey(Exchange& ex, TenantScope scope) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto& sync = ctx_.sync;
    auto revoked = co_await blocking([&]() -> Result<void> {
      auto r = control.revokeApiKey(scope.actor, scope.tenant_id, id);
      if (r) {
        (void)sync.refreshKey(scope.tenant_id, id);  // refused from the next request on
      }
      return r;
    });
    if (!revoked) {
      co_return fail(ex, orNotFound(revoked.error(), "API key"));
    }
    co_return noContent();
  }

  // ---- branding -------------------------------------------------------------------------------

  net::awaitable<Response> getBranding(Exchange& ex, TenantScope scope) {
    auto& control = ctx_.control;
    auto b = co_await blocking([&] { return control.branding(scope.tenant_id); });
    if (!b) {
      co_return fail(ex, b.error());
    }
    co_return jsonResponse(200, brandingJson(*b));
  }

  net::awaitable<Response> putBranding(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly(
            {"display_name", "primary_color", "accent_color", "support_email", "footer_text"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto& control = ctx_.control;
    auto current = co_await blocking([&] { return control.branding(scope.tenant_id); });
    if (!current) {
      co_return fail(ex, current.error());
    }
    for (auto [field, target] : {std::pair{"display_name", &current->display_name},
                                 std::pair{"primary_color", &current->primary_color},
                                 std::pair{"accent_color", &current->accent_color},
                                 std::pair{"support_email", &current->support_email},
                                 std::pair{"footer_text", &current->footer_text}}) {
      auto v = body->optionalString(field, 1000);
      if (!v) {
        co_return fail(ex, v.error());
      }
      if (*v) {
        *target = std::move(**v);
      }
    }
    if (auto r = whitelabel::validateBranding(*current); !r) {
      co_return fail(ex, r.error());
    }
    auto stored = co_await mutate(scope.tenant_id,
                                  [&] { return control.setBranding(scope.actor, *current); });
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    co_return jsonResponse(200, brandingJson(*stored));
  }

  net::awaitable<Response> putAsset(Exchange& ex, TenantScope scope, bool favicon) {
    auto declared = ex.request.headers.get("content-type");
    auto media = declared.substr(0, declared.find(';'));
    if (!media.empty() && media != "image/png" && media != "image/jpeg" && media != "image/webp" &&
        media != "image/svg+xml" && media != "application/octet-stream") {
      co_return fail(ex,
                     Error{ErrorCode::kUnprocessable,
                           "Upload a PNG, JPEG, WebP or SVG image (raw bytes, not a form)."}
                         .withCode("unsupported_image"));
    }
    auto validated = assets_.validate(
        favicon ? whitelabel::AssetKind::kFavicon : whitelabel::AssetKind::kLogo, ex.request.body);
    if (!validated) {
      co_return fail(ex, validated.error());
    }
    auto& control = ctx_.control;
    auto stored = co_await mutate(scope.tenant_id, [&] {
      return control.setBrandAsset(
          scope.actor, scope.tenant_id, favicon, validated->content_type, validated->bytes);
    });
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    auto out = brandingJson(*stored);
    out["svg_modified"] = validated->svg_modified;
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> putLogo(Exchange& ex, TenantScope scope) {
    co_return co_await putAsset(ex, std::move(scope), false);
  }

  net::awaitable<Response> putFavicon(Exchange& ex, TenantScope scope) {
    co_return co_await putAsset(ex, std::move(scope), true);
  }

  // ---- custom domains -------------------------------------------------------------------------

  net::awaitable<Response> listDomains(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto domains = co_await blocking([&] { return stores.domains.list(scope.tenant_id); });
    if (!domains) {
      co_return fail(ex, domains.error());
    }
    json::array data;
    for (const auto& d : *domains) {
      data.emplace_back(domainJson(d));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> addDomain(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"host"}); !r) {
      co_return fail(ex, r.error());
    }
    auto raw = body->requiredString("host", 300);
    if (!raw) {
      co_return fail(ex, raw.error());
    }
    auto host = whitelabel::validateCustomDomain(*raw, ctx_.cfg.http.base_domain);
    if (!host) {
      co_return fail(ex, host.error());
    }
    auto token = whitelabel::newVerificationToken();
    if (!token) {
      co_return fail(ex, token.error());
    }
    auto& control = ctx_.control;
    auto stored = co_await mutate(scope.tenant_id, [&] {
      return control.addDomain(scope.actor, scope.tenant_id, *host, *token);
    });
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    co_return jsonResponse(201, domainJson(*stored));
  }

  net::awaitable<Response> verifyDomain(Exchange& ex, TenantScope scope) {
    auto host = std::string(ex.param("host"));
    auto& stores = ctx_.stores;
    auto domain = co_await blocking([&] { return stores.domains.get(scope.tenant_id, host); });
    if (!domain) {
      co_return fail(ex, orNotFound(domain.error(), "domain"));
    }
    if (domain->status != storage::DomainStatus::kPending) {
      auto out = domainJson(*domain);
      out["check"] = json::object{{"outcome", "passed"}, {"method", "earlier"}};
      co_return jsonResponse(200, out);
    }
    auto check =
        co_await checkDomainOwnership(ctx_, ex.worker, domain->host, domain->verification_token);
    auto out_domain = *domain;
    if (check.passed) {
      auto& control = ctx_.control;
      auto updated = co_await mutate(scope.tenant_id, [&]() -> Result<storage::Domain> {
        auto v = control.setDomainStatus(
            scope.actor, scope.tenant_id, host, storage::DomainStatus::kVerified);
        if (!v) {
          return v;
        }
        // TLS is terminated in front of Livery (docs/design/custom-domains.md): a verified
        // domain can be routed at once.
        return control.setDomainStatus(
            scope.actor, scope.tenant_id, host, storage::DomainStatus::kActive);
      });
      if (!updated) {
        co_return fail(ex, updated.error());
      }
      out_domain = std::move(*updated);
    }
    auto out = domainJson(out_domain);
    out["check"] = check.toJson();
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> removeDomain(Exchange& ex, TenantScope scope) {
    auto host = std::string(ex.param("host"));
    auto& control = ctx_.control;
    auto removed = co_await mutate(
        scope.tenant_id, [&] { return control.removeDomain(scope.actor, scope.tenant_id, host); });
    if (!removed) {
      co_return fail(ex, orNotFound(removed.error(), "domain"));
    }
    co_return noContent();
  }

  // ---- routes ---------------------------------------------------------------------------------

  net::awaitable<Response> listRoutes(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto both = co_await blocking(
        [&]() -> Result<std::pair<std::vector<storage::Route>, std::vector<storage::Route>>> {
          auto own = stores.routes.list(scope.tenant_id);
          if (!own) {
            return own.error();
          }
          auto defaults = stores.routes.list("");
          if (!defaults) {
            return defaults.error();
          }
          return std::pair{std::move(*own), std::move(*defaults)};
        });
    if (!both) {
      co_return fail(ex, both.error());
    }
    std::map<std::string, json::object> by_model;
    for (const auto& r : both->second) {
      by_model[r.model] = toJson(r, true);
    }
    for (const auto& r : both->first) {
      by_model[r.model] = toJson(r, false);  // the tenant's own route hides the default
    }
    json::array data;
    for (auto& [_, o] : by_model) {
      data.emplace_back(std::move(o));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> putRoute(Exchange& ex, TenantScope scope) {
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
    if (raw == nullptr) {
      co_return fail(ex, badField("deployments", "'deployments' is required"));
    }
    auto deployments = deploymentsFromJson(*raw);
    if (!deployments) {
      co_return fail(ex, deployments.error());
    }
    auto& control = ctx_.control;
    auto stored = co_await mutate(scope.tenant_id, [&] {
      return control.setRoute(scope.actor, scope.tenant_id, model, *deployments);
    });
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    co_return jsonResponse(200, toJson(*stored, false));
  }

  net::awaitable<Response> deleteRoute(Exchange& ex, TenantScope scope) {
    auto model = std::string(ex.param("model"));
    auto& control = ctx_.control;
    auto removed = co_await mutate(
        scope.tenant_id, [&] { return control.deleteRoute(scope.actor, scope.tenant_id, model); });
    if (!removed) {
      co_return fail(ex, orNotFound(removed.error(), "route"));
    }
    co_return noContent();
  }

  // ---- prompts --------------------------------------------------------------------------------

  net::awaitable<Response> listPrompts(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto both = co_await blocking(
        [&]() -> Result<std::pair<std::vector<storage::PromptVersion>, std::string>> {
          auto versions = stores.prompts.list(scope.tenant_id, 200);
          if (!versions) {
            return versions.error();
          }
          auto active = stores.prompts.active(scope.tenant_id);
          std::string active_id = active ? active->id : std::string();
          return std::pair{std::move(*versions), std::move(active_id)};
        });
    if (!both) {
      co_return fail(ex, both.error());
    }
    json::array data;
    for (const auto& p : both->first) {
      data.emplace_back(toJson(p));
    }
    json::object out;
    out["active_id"] = nullIfEmpty(both->second);
    out["data"] = std::move(data);
    co_return jsonResponse(200, out);
  }

  // One version with its full evaluation report (the list carries it too; this is the view of
  // one version without the other 199).
  net::awaitable<Response> getPrompt(Exchange& ex, TenantScope scope) {
    auto id = std::string(ex.param("id"));
    auto& stores = ctx_.stores;
    auto version = co_await blocking([&] { return stores.prompts.get(scope.tenant_id, id); });
    if (!version) {
      co_return fail(ex, orNotFound(version.error(), "prompt version"));
    }
    co_return jsonResponse(200, toJson(*version));
  }

  net::awaitable<Response> createPrompt(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request, kMaxPromptBytes * 2);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"content", "note"}); !r) {
      co_return fail(ex, r.error());
    }
    auto content = body->requiredString("content", kMaxPromptBytes);
    auto note = body->optionalString("note", 500);
    if (!content) {
      co_return fail(ex, content.error());
    }
    if (!note) {
      co_return fail(ex, note.error());
    }
    if (!whitelabel::isValidUtf8(*content) ||
        std::any_of(content->begin(), content->end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return u < 0x20 && c != '\n' && c != '\t' && c != '\r';
        })) {
      co_return fail(ex, badField("content", "'content' must be text without control characters"));
    }
    storage::PromptVersion draft;
    draft.tenant_id = scope.tenant_id;
    draft.content = std::move(*content);
    draft.note = whitelabel::sanitizeText(note->value_or(""), {.max_bytes = 500});
    draft.author = scope.author;
    auto& control = ctx_.control;
    auto created = co_await blocking([&] { return control.createPrompt(scope.actor, draft); });
    if (!created) {
      co_return fail(ex, created.error());
    }
    co_return jsonResponse(201, toJson(*created));
  }

  net::awaitable<Response> activatePrompt(Exchange& ex, TenantScope scope) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto active = co_await mutate(
        scope.tenant_id, [&] { return control.activatePrompt(scope.actor, scope.tenant_id, id); });
    if (!active) {
      co_return fail(ex, orNotFound(active.error(), "prompt version"));
    }
    co_return jsonResponse(200, toJson(*active));
  }

  net::awaitable<Response> rollbackPrompt(Exchange& ex, TenantScope scope) {
    auto& control = ctx_.control;
    auto active = co_await mutate(
        scope.tenant_id, [&] { return control.rollbackPrompt(scope.actor, scope.tenant_id); });
    if (!active) {
      co_return fail(ex, active.error());
    }
    co_return jsonResponse(200, toJson(*active));
  }

  // ---- usage, quota, alerts, audit ------------------------------------------------------------

  net::awaitable<Response> usage(Exchange& ex, TenantScope scope) {
    storage::UsageFilter f;
    f.tenant_id = scope.tenant_id;
    co_return co_await usageTotals(ctx_, ex, std::move(f), false);
  }

  net::awaitable<Response> usageEventsFeed(Exchange& ex, TenantScope scope) {
    co_return co_await usageEvents(ctx_, ex, scope.tenant_id);
  }

  net::awaitable<Response> quota(Exchange& ex, TenantScope scope) {
    auto state = ctx_.tenants.byId(scope.tenant_id);
    if (!state) {
      co_return fail(ex, notFound("tenant"));
    }
    auto since = monthStartMs(ctx_.clock);
    const std::string period = monthName(ctx_.clock);
    auto& stores = ctx_.stores;
    auto& limiter = ctx_.limiter;
    std::uint64_t reserved = 0;
    auto used = co_await blocking([&]() -> Result<std::uint64_t> {
      // The ledger is the authoritative "used"; the limiter holds what requests in flight have
      // reserved. A limits store that cannot be read shows nothing reserved rather than failing
      // the page.
      if (auto held = limiter.quotaUsage(limits::LimitScope::kTenant, scope.tenant_id, "", period);
          held) {
        reserved = held->reserved;
      }
      return stores.usage.tenantTokensSince(scope.tenant_id, since);
    });
    if (!used) {
      co_return fail(ex, used.error());
    }
    const auto& limits = state->limits;
    const std::uint64_t taken = *used + reserved;
    json::object out;
    out["period"] = period;
    out["period_start"] = since;
    out["limit"] = limits.monthly_token_quota;
    out["used"] = *used;
    out["reserved"] = reserved;
    out["remaining"] =
        limits.monthly_token_quota == 0
            ? json::value(nullptr)
            : json::value(limits.monthly_token_quota > taken ? limits.monthly_token_quota - taken
                                                             : std::uint64_t{0});
    out["rpm"] = limits.rpm;
    out["tpm"] = limits.tpm;
    out["max_api_keys"] = limits.max_api_keys;
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> listAlerts(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto alerts = co_await blocking([&] { return stores.alerts.list(scope.tenant_id, 200); });
    if (!alerts) {
      co_return fail(ex, alerts.error());
    }
    json::array data;
    for (const auto& a : *alerts) {
      data.emplace_back(toJson(a));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> ackAlert(Exchange& ex, TenantScope scope) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto acked = co_await blocking(
        [&] { return control.acknowledgeAlert(scope.actor, scope.tenant_id, id); });
    if (!acked) {
      co_return fail(ex, orNotFound(acked.error(), "alert"));
    }
    co_return noContent();
  }

  net::awaitable<Response> audit(Exchange& ex, TenantScope scope) {
    auto limit = queryInt(ex.request, "limit", 1, 1000);
    auto before = queryInt(ex.request, "before", 0, INT64_MAX);
    if (!limit) {
      co_return fail(ex, limit.error());
    }
    if (!before) {
      co_return fail(ex, before.error());
    }
    auto& stores = ctx_.stores;
    auto n = static_cast<std::size_t>(limit->value_or(200));
    auto b = before->value_or(0);
    auto entries =
        co_await blocking([&] { return stores.audit.listRecent(scope.tenant_id, false, b, n); });
    if (!entries) {
      co_return fail(ex, entries.error());
    }
    json::array data;
    for (const auto& e : *entries) {
      data.emplace_back(toJson(e));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  // ---- webhook --------------------------------------------------------------------------------

  net::awaitable<Response> getWebhook(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto t = co_await blocking([&] { return stores.tenants.get(scope.tenant_id); });
    if (!t) {
      co_return fail(ex, t.error());
    }
    co_return jsonResponse(200, json::object{{"url", nullIfEmpty(t->webhook_url)}});
  }

  net::awaitable<Response> putWebhook(Exchange& ex, TenantScope scope) {
    auto body = jsonBody(ex.request);
    if (!body) {
      co_return fail(ex, body.error());
    }
    if (auto r = body->allowOnly({"url"}); !r) {
      co_return fail(ex, r.error());
    }
    auto url = body->requiredString("url", 2048);
    if (!url) {
      co_return fail(ex, url.error());
    }
    // The same outbound guard as provider calls: https only (unless allowed), no private or
    // metadata addresses, checked now and again at every delivery.
    auto checked = co_await guard_.check(*url, ctx_.resolver, std::chrono::seconds(5));
    if (!checked) {
      co_return fail(ex, badField("url", checked.error().client_message));
    }
    auto& control = ctx_.control;
    control::TenantPatch patch;
    patch.webhook_url = *url;
    auto updated = co_await mutate(
        scope.tenant_id, [&] { return control.updateTenant(scope.actor, scope.tenant_id, patch); });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    json::object out;
    out["url"] = *url;
    out["secret"] = control::tenantWebhookSecret(ctx_.hasher, scope.tenant_id, *url);  // once
    co_return jsonResponse(200, out);
  }

  net::awaitable<Response> deleteWebhook(Exchange& ex, TenantScope scope) {
    auto& control = ctx_.control;
    control::TenantPatch patch;
    patch.webhook_url = std::string();
    auto updated = co_await mutate(
        scope.tenant_id, [&] { return control.updateTenant(scope.actor, scope.tenant_id, patch); });
    if (!updated) {
      co_return fail(ex, updated.error());
    }
    co_return noContent();
  }

  // ---- JWT keys -------------------------------------------------------------------------------

  net::awaitable<Response> listJwtKeys(Exchange& ex, TenantScope scope) {
    auto& stores = ctx_.stores;
    auto keys = co_await blocking([&] { return stores.jwt_keys.list(scope.tenant_id); });
    if (!keys) {
      co_return fail(ex, keys.error());
    }
    json::array data;
    for (const auto& k : *keys) {
      auto o = toJson(k);
      o["format"] = k.algorithm == "HS256"                                   ? "secret"
                    : (!k.public_pem.empty() && k.public_pem.front() == '{') ? "jwks"
                                                                             : "pem";
      data.emplace_back(std::move(o));
    }
    co_return jsonResponse(200, json::object{{"data", std::move(data)}});
  }

  net::awaitable<Response> addJwtKey(Exchange& ex, TenantScope scope) {
    auto taken = takeSecretField(ex.request.body, "secret", 1024);
    wipeBody(ex);
    if (!taken) {
      co_return fail(ex, taken.error());
    }
    auto& body = taken->rest;
    if (auto r = body.allowOnly({"kid", "algorithm", "public_pem", "jwks", "issuer", "audience"});
        !r) {
      co_return fail(ex, r.error());
    }
    auto kid = body.requiredString("kid", 128);
    auto algorithm = body.requiredString("algorithm", 8);
    auto pem = body.optionalString("public_pem", std::size_t{16} * 1024);
    auto issuer = body.optionalString("issuer", 512);
    auto audience = body.optionalString("audience", 512);
    if (auto e = firstError(kid, algorithm, pem, issuer, audience)) {
      co_return fail(ex, *e);
    }
    if (!isSafeClientId(*kid)) {
      co_return fail(ex, badField("kid", "kid may contain letters, digits and . _ : -"));
    }
    auto alg = crypto::parseJwsAlgorithm(*algorithm);
    if (!alg) {
      co_return fail(ex, badField("algorithm", "algorithm must be HS256, RS256 or ES256"));
    }
    storage::JwtKey key;
    key.tenant_id = scope.tenant_id;
    key.kid = *kid;
    key.algorithm = std::string(crypto::toString(*alg));
    key.issuer = issuer->value_or("");
    key.audience = audience->value_or("");
    const json::value* jwks = body.find("jwks");
    int material = (taken->secret ? 1 : 0) + (*pem ? 1 : 0) + (jwks != nullptr ? 1 : 0);
    if (material != 1) {
      co_return fail(
          ex,
          badField("public_pem", "give exactly one of 'secret' (HS256), 'public_pem' or 'jwks'"));
    }
    if (*alg == crypto::JwsAlgorithm::kHs256) {
      if (!taken->secret) {
        co_return fail(ex, badField("secret", "an HS256 key needs 'secret'"));
      }
      if (auto check = crypto::JwtKey::hs256(key.kid, *taken->secret); !check) {
        co_return fail(ex, badField("secret", check.error().client_message));
      }
    } else if (*pem) {
      if (auto check = crypto::JwtKey::publicPem(key.kid, *alg, **pem); !check) {
        co_return fail(ex, badField("public_pem", check.error().client_message));
      }
      key.public_pem = std::move(**pem);
    } else if (jwks != nullptr) {
      auto text = jwks->is_string() ? std::string(jwks->as_string()) : json::serialize(*jwks);
      if (text.size() > std::size_t{64} * 1024 || text.empty() || text.front() != '{') {
        co_return fail(ex, badField("jwks", "'jwks' must be a JWKS document ({\"keys\":[…]})"));
      }
      if (auto check = crypto::JwtKey::jwks(text, *alg); !check) {
        co_return fail(ex, badField("jwks", check.error().client_message));
      }
      key.public_pem = std::move(text);
    } else {
      co_return fail(ex, badField("secret", "'secret' is only for HS256 keys"));
    }
    auto& control = ctx_.control;
    const SecretBytes* secret = taken->secret ? &*taken->secret : nullptr;
    auto stored = co_await mutate(scope.tenant_id,
                                  [&] { return control.addJwtKey(scope.actor, key, secret); });
    if (taken->secret) {
      taken->secret->wipe();
    }
    if (!stored) {
      co_return fail(ex, stored.error());
    }
    co_return jsonResponse(201, toJson(*stored));
  }

  net::awaitable<Response> deleteJwtKey(Exchange& ex, TenantScope scope) {
    auto id = std::string(ex.param("id"));
    auto& control = ctx_.control;
    auto removed = co_await mutate(
        scope.tenant_id, [&] { return control.deleteJwtKey(scope.actor, scope.tenant_id, id); });
    if (!removed) {
      co_return fail(ex, orNotFound(removed.error(), "JWT key"));
    }
    co_return noContent();
  }

  ApiContext& ctx_;
  SessionManager& sessions_;
  upstream::OutboundGuard guard_;
  whitelabel::AssetValidator assets_;
};

}  // namespace

void addTenantResourceRoutes(http::Router& router,
                             ApiContext& ctx,
                             SessionManager& sessions,
                             const std::string& prefix,
                             ScopeResolver resolve) {
  TenantResources::mount(std::make_shared<TenantResources>(ctx, sessions), router, prefix, resolve);
}

}  // namespace livery::api
