// The workspace API (/api/v1/workspace on a tenant's host): end-user sign-in (password or a JWT
// hand-off from the tenant's own app), the models the workspace may use, and the user's own
// conversations. Chat itself goes to /v1/chat/completions with the session cookie.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "api/api_support.hpp"
#include "api/control_api.hpp"
#include "api/json_model.hpp"
#include "control/control_plane.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "crypto/encoding.hpp"
#include "crypto/password.hpp"
#include "http/router.hpp"
#include "pipeline/ports.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "whitelabel/text.hpp"

namespace livery::api {

namespace {

namespace json = boost::json;
using http::Exchange;
using http::Method;
using http::Response;

constexpr std::size_t kMaxMessages = 2000;
constexpr std::size_t kMaxConversationBody = std::size_t{4} * 1024 * 1024;
constexpr std::size_t kMaxListedConversations = 200;

// The e-mail column of an account created by a JWT hand-off: the token's `sub`, kept apart
// from real addresses and exact (hex when it is not plain lower-case text, since e-mails are
// compared case-insensitively).
std::string jwtAccountEmail(std::string_view sub) {
  bool plain = !sub.empty() && sub.size() <= 200 && std::all_of(sub.begin(), sub.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '@' || c == ':' || c == '|';
  });
  if (plain) {
    return "jwt:" + std::string(sub);
  }
  auto bytes = std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(sub.data()),  // NOLINT(*-reinterpret-cast)
      std::min<std::size_t>(sub.size(), 100));
  return "jwt:x-" + crypto::hexEncode(bytes);
}

json::object conversationJson(const storage::Conversation& c, bool with_messages) {
  json::object o;
  o["id"] = c.id;
  o["title"] = c.title;
  o["model"] = c.model;
  if (with_messages) {
    boost::system::error_code ec;
    auto messages = json::parse(c.messages_json, ec);
    o["messages"] = ec ? json::value(json::array{}) : std::move(messages);
  }
  o["created_at"] = c.created_at;
  o["updated_at"] = c.updated_at;
  return o;
}

// Validates {"title","model","messages"} and applies it to `c`.
Result<void> readConversation(const BodyReader& body, storage::Conversation& c, bool create) {
  if (auto r = body.allowOnly({"title", "model", "messages"}); !r) {
    return r;
  }
  auto title = body.optionalString("title", 200);
  auto model = body.optionalString("model", 128);
  if (auto e = firstError(title, model)) {
    return *e;
  }
  if (*title) {
    c.title = whitelabel::sanitizeText(**title, {.max_bytes = 200});
  } else if (create) {
    c.title = "New chat";
  }
  if (*model) {
    if (!(*model)->empty()) {
      if (auto r = validateModelName(**model); !r) {
        return r;
      }
    }
    c.model = **model;
  }
  if (const auto* messages = body.find("messages"); messages != nullptr) {
    if (!messages->is_array() || messages->as_array().size() > kMaxMessages) {
      return badField(
          "messages",
          fmt::format("'messages' must be a list of at most {} messages", kMaxMessages));
    }
    for (const auto& m : messages->as_array()) {
      if (!m.is_object()) {
        return badField("messages", "each message must be an object");
      }
      const auto& o = m.as_object();
      for (const auto& kv : o) {
        if (kv.key() != "role" && kv.key() != "content") {
          return badField("messages", "a message has only 'role' and 'content'");
        }
      }
      const auto* role = o.if_contains("role");
      const auto* content = o.if_contains("content");
      if (role == nullptr || !role->is_string() ||
          (role->as_string() != "system" && role->as_string() != "user" &&
           role->as_string() != "assistant") ||
          content == nullptr || !content->is_string()) {
        return badField("messages",
                        "each message needs a role (system, user, assistant) and text content");
      }
    }
    c.messages_json = json::serialize(*messages);
  } else if (create) {
    c.messages_json = "[]";
  }
  return {};
}

}  // namespace

void addWorkspaceRoutes(http::Router& router, ApiContext& ctx, SessionManager& sessions) {
  // The end-user session of the request on its tenant's host, CSRF-checked when mutating.
  auto endUser = [&ctx, &sessions](Exchange& ex) -> net::awaitable<Result<SessionInfo>> {
    auto tenant = hostTenant(ctx, ex.request);
    if (!tenant) {
      co_return noSuchRoute();
    }
    ex.tenant_id = tenant->tenant.id;
    auto found = co_await sessions.lookup(ex.request);
    if (!found) {
      co_return signInRequired();
    }
    if (!*found) {
      co_return found->error();
    }
    const auto& s = **found;
    if (s.kind != "end_user" || s.tenant_id != tenant->tenant.id || !s.user) {
      co_return signInRequired();
    }
    if (!sessions.csrfSatisfied(ex.request, s)) {
      co_return csrfRefused();
    }
    co_return std::move(**found);
  };

  router.add(Method::kPost,
             "/api/v1/workspace/login",
             [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
               co_return co_await tenantPasswordLogin(ctx, sessions, ex, "end_user");
             });

  router.add(
      Method::kPost,
      "/api/v1/workspace/jwt",
      [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
        auto tenant = hostTenant(ctx, ex.request);
        if (!tenant) {
          co_return errorResponse(ctx, ex, noSuchRoute());
        }
        ex.tenant_id = tenant->tenant.id;
        if (!hasJsonContentType(ex.request)) {
          co_return errorResponse(ctx, ex, jsonRequired());
        }
        auto body = jsonBody(ex.request, std::size_t{32} * 1024);
        if (!body) {
          co_return errorResponse(ctx, ex, body.error());
        }
        if (auto r = body->allowOnly({"token"}); !r) {
          co_return errorResponse(ctx, ex, r.error());
        }
        auto token = body->requiredString("token", std::size_t{16} * 1024);
        if (!token) {
          co_return errorResponse(ctx, ex, token.error());
        }
        // Verified with this tenant's keys only (the host names the tenant, never the token).
        auto sub = co_await ctx.jwt.verify(*tenant, *token);
        std::string tenant_id = tenant->tenant.id;
        if (!sub) {
          auto ip = sessions.clientIp(ex.request);
          json::object details{{"surface", "workspace_jwt"}, {"client_ip", ip}};
          auto& control = ctx.control;
          auto text = json::serialize(details);
          (void)co_await offload(ctx.blocking, [&control, &tenant_id, &text] {
            return control.audit(
                control::Actor{"anonymous", "", ""}, tenant_id, "auth.login_failed", text);
          });
          co_return errorResponse(ctx,
                                  ex,
                                  Error{ErrorCode::kUnauthenticated,
                                        "The sign-in token was not accepted.",
                                        sub.error().log_detail}
                                      .withCode("invalid_token"));
        }
        auto email = jwtAccountEmail(*sub);
        auto display = whitelabel::sanitizeText(*sub, {.max_bytes = 120});
        auto user = co_await offload(ctx.blocking, [&]() -> Result<storage::User> {
          auto found = ctx.stores.users.findByEmail(tenant_id, "end_user", email);
          if (found) {
            if (found->disabled) {
              return Error{ErrorCode::kUnauthenticated, "This account is disabled."}.withCode(
                  "account_disabled");
            }
            (void)ctx.stores.users.touchLogin(tenant_id, found->id, ctx.clock.unixMillis());
            return found;
          }
          if (found.error().code != ErrorCode::kNotFound) {
            return found.error();
          }
          storage::User u;
          u.tenant_id = tenant_id;
          u.kind = "end_user";
          u.email = email;
          u.display_name = display.empty() ? std::string("User") : display;
          u.role = storage::UserRole::kMember;
          auto created = ctx.control.createUser(control::Actor{"jwt", "", tenant_id}, u);
          if (!created && created.error().code == ErrorCode::kConflict) {
            return ctx.stores.users.findByEmail(tenant_id, "end_user", email);  // a race
          }
          return created;
        });
        if (!user) {
          co_return errorResponse(ctx, ex, user.error());
        }
        auto started = co_await sessions.start(ex.request, "end_user", tenant_id, user->id);
        if (!started) {
          co_return errorResponse(ctx, ex, started.error());
        }
        json::object out;
        out["user"] = toJson(*user);
        out["csrf_token"] = started->info.csrf_token;
        co_return withCookie(jsonResponse(200, out), started->set_cookie);
      });

  router.add(Method::kPost,
             "/api/v1/workspace/logout",
             [&ctx, &sessions](Exchange& ex) -> net::awaitable<Response> {
               if (!hostTenant(ctx, ex.request)) {
                 co_return errorResponse(ctx, ex, noSuchRoute());
               }
               auto cookie = co_await sessions.end(ex.request);
               co_return withCookie(noContent(), cookie);
             });

  router.add(Method::kGet,
             "/api/v1/workspace/me",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto tenant = ctx.tenants.byId(session->tenant_id);
               json::object out;
               out["user"] = toJson(*session->user);
               out["csrf_token"] = session->csrf_token;
               if (tenant) {
                 out["tenant"] = json::object{{"slug", tenant->tenant.slug},
                                              {"display_name", tenant->branding.display_name}};
               }
               co_return jsonResponse(200, out);
             });

  router.add(Method::kGet,
             "/api/v1/workspace/models",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto tenant = ctx.tenants.byId(session->tenant_id);
               json::array data;
               if (tenant) {
                 for (const auto& [model, route] : tenant->routes) {
                   data.emplace_back(json::object{{"id", model}, {"object", "model"}});
                 }
               }
               co_return jsonResponse(200, json::object{{"data", std::move(data)}});
             });

  router.add(Method::kGet,
             "/api/v1/workspace/conversations",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto& stores = ctx.stores;
               auto list = co_await offload(ctx.blocking, [&stores, &session] {
                 return stores.conversations.list(
                     session->tenant_id, session->user_id, kMaxListedConversations);
               });
               if (!list) {
                 co_return errorResponse(ctx, ex, list.error());
               }
               json::array data;
               for (const auto& c : *list) {
                 data.emplace_back(conversationJson(c, false));
               }
               co_return jsonResponse(200, json::object{{"data", std::move(data)}});
             });

  router.add(Method::kPost,
             "/api/v1/workspace/conversations",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto body = jsonBody(ex.request, kMaxConversationBody);
               if (!body) {
                 co_return errorResponse(ctx, ex, body.error());
               }
               storage::Conversation c;
               c.tenant_id = session->tenant_id;
               c.user_id = session->user_id;
               if (auto r = readConversation(*body, c, true); !r) {
                 co_return errorResponse(ctx, ex, r.error());
               }
               auto& stores = ctx.stores;
               auto created = co_await offload(
                   ctx.blocking, [&stores, &c] { return stores.conversations.insert(c); });
               if (!created) {
                 co_return errorResponse(ctx, ex, created.error());
               }
               co_return jsonResponse(201, conversationJson(*created, true));
             });

  router.add(Method::kGet,
             "/api/v1/workspace/conversations/{id}",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto id = std::string(ex.param("id"));
               auto& stores = ctx.stores;
               auto c = co_await offload(ctx.blocking, [&stores, &session, &id] {
                 return stores.conversations.get(session->tenant_id, session->user_id, id);
               });
               if (!c) {
                 co_return errorResponse(ctx, ex, orNotFound(c.error(), "conversation"));
               }
               co_return jsonResponse(200, conversationJson(*c, true));
             });

  router.add(Method::kPut,
             "/api/v1/workspace/conversations/{id}",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto body = jsonBody(ex.request, kMaxConversationBody);
               if (!body) {
                 co_return errorResponse(ctx, ex, body.error());
               }
               auto id = std::string(ex.param("id"));
               auto& stores = ctx.stores;
               auto current = co_await offload(ctx.blocking, [&stores, &session, &id] {
                 return stores.conversations.get(session->tenant_id, session->user_id, id);
               });
               if (!current) {
                 co_return errorResponse(ctx, ex, orNotFound(current.error(), "conversation"));
               }
               if (auto r = readConversation(*body, *current, false); !r) {
                 co_return errorResponse(ctx, ex, r.error());
               }
               auto updated = co_await offload(ctx.blocking, [&stores, &current] {
                 return stores.conversations.update(*current);
               });
               if (!updated) {
                 co_return errorResponse(ctx, ex, updated.error());
               }
               co_return jsonResponse(200, conversationJson(*updated, true));
             });

  router.add(Method::kDelete,
             "/api/v1/workspace/conversations/{id}",
             [&ctx, endUser](Exchange& ex) -> net::awaitable<Response> {
               auto session = co_await endUser(ex);
               if (!session) {
                 co_return errorResponse(ctx, ex, session.error());
               }
               auto id = std::string(ex.param("id"));
               auto& stores = ctx.stores;
               auto removed = co_await offload(ctx.blocking, [&stores, &session, &id] {
                 return stores.conversations.remove(session->tenant_id, session->user_id, id);
               });
               if (!removed) {
                 co_return errorResponse(ctx, ex, orNotFound(removed.error(), "conversation"));
               }
               co_return noContent();
             });
}

}  // namespace livery::api
