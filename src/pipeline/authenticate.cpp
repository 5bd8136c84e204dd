#include "pipeline/authenticate.hpp"

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "crypto/api_key.hpp"
#include "http/message.hpp"
#include "tenancy/directory.hpp"
#include "tenancy/key_index.hpp"
#include "whitelabel/host.hpp"

namespace livery::pipeline {

namespace {

constexpr std::string_view kMissingKey =
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
constexpr std::string_view kIncorrectKey = "Incorrect API key provided.";

Error unauthenticated(std::string_view message, std::string detail = {}) {
  return Error{ErrorCode::kUnauthenticated, std::string(message), std::move(detail)}.withCode(
      "invalid_api_key");
}

bool looksLikeJwt(std::string_view token) {
  auto first = token.find('.');
  return first != std::string_view::npos && token.find('.', first + 1) != std::string_view::npos &&
         token.size() < 16 * 1024;
}

}  // namespace

AuthenticateStage::AuthenticateStage(const crypto::KeyHasher& hasher,
                                     const tenancy::KeyIndex& keys,
                                     const tenancy::TenantDirectory& tenants,
                                     const whitelabel::HostResolver& hosts,
                                     JwtAuthenticator& jwt,
                                     SessionAuthenticator& sessions,
                                     const Clock& clock,
                                     MetricsRegistry& metrics)
    : hasher_(hasher),
      keys_(keys),
      tenants_(tenants),
      hosts_(hosts),
      jwt_(jwt),
      sessions_(sessions),
      clock_(clock),
      rejected_(
          metrics.counter("livery_auth_rejected_total", "Requests refused by authentication")) {}

Result<Principal> AuthenticateStage::fromApiKey(std::string_view token) const {
  auto parsed = crypto::api_key::parse(token);  // format and checksum: no lookup for garbage
  if (!parsed) {
    return unauthenticated(kIncorrectKey, parsed.error().log_detail);
  }
  if (parsed->kind != crypto::TokenKind::kLive && parsed->kind != crypto::TokenKind::kTest) {
    return unauthenticated(kIncorrectKey, "not a gateway key kind");
  }
  auto digest = hasher_.hash(token);
  if (!digest) {
    return digest.error();
  }
  tenancy::KeyHash h{};
  std::copy(digest->begin(), digest->end(), h.begin());
  auto entry = keys_.find(h);
  if (!entry) {
    return unauthenticated(kIncorrectKey, "unknown or revoked key");
  }
  if (entry->expires_at != 0 && clock_.unixMillis() >= entry->expires_at) {
    return unauthenticated("This API key has expired.", "expired key " + entry->id);
  }
  Principal p;
  p.kind = Principal::Kind::kApiKey;
  p.tenant_id = entry->tenant_id;
  p.api_key_id = entry->id;
  if (entry->extras && !entry->extras->end_user.empty()) {
    p.end_user = entry->extras->end_user;
    p.end_user_bound = true;
  }
  p.key = std::move(*entry);
  return p;
}

// The API-key path (nearly every request) never suspends, so it runs in plain functions: GCC 12
// keeps every local of a coroutine in its heap frame, and Asio recycles frames only up to about
// 2 KiB, so a large onRequest frame cost a fresh aligned allocation per request (and glibc a
// malloc_consolidate); bench/auth_bench.cpp measures it. The JWT and session paths are their own
// coroutines, allocated only when used.
Result<AuthenticateStage::Next> AuthenticateStage::identify(RequestContext& ctx,
                                                            std::string_view& token) const {
  const auto& req = ctx.ex.request;
  whitelabel::ForwardedInput fwd;
  fwd.peer_ip = req.remote_ip;
  fwd.host = req.headers.get("host");
  fwd.x_forwarded_host = req.headers.get("x-forwarded-host");
  fwd.x_forwarded_for = req.headers.get("x-forwarded-for");
  if (auto host = hosts_.requestHost(fwd)) {
    ctx.host = std::move(*host);
  }

  std::string_view auth = req.headers.get("authorization");
  if (auth.empty()) {
    auth = req.headers.get("api-key");  // Azure-style clients
  } else if (auth.size() > 7 && http::iequals(auth.substr(0, 7), "bearer ")) {
    auth.remove_prefix(7);
  } else {
    return unauthenticated(kIncorrectKey, "authorization is not bearer");
  }
  while (!auth.empty() && auth.front() == ' ') {
    auth.remove_prefix(1);
  }

  if (auth.starts_with(crypto::kTokenPrefix)) {
    auto p = fromApiKey(auth);
    if (!p) {
      return p.error();
    }
    ctx.principal = std::move(*p);
    return Next::kDone;
  }
  if (!auth.empty() && looksLikeJwt(auth)) {
    token = auth;
    return Next::kJwt;
  }
  if (!auth.empty()) {
    return unauthenticated(kIncorrectKey, "unrecognised credential format");
  }
  return Next::kSession;
}

net::awaitable<Result<void>> AuthenticateStage::fromJwt(RequestContext& ctx,
                                                        std::string_view auth) {
  // A JWT is only meaningful on its tenant's own domain: the host names the tenant whose
  // keys may verify it, never the token.
  auto tenant = ctx.host.empty() ? nullptr : tenants_.byHost(ctx.host);
  if (!tenant) {
    rejected_.inc();
    co_return unauthenticated("JWT authentication is only accepted on the tenant's domain.");
  }
  std::string token(auth);
  auto sub = co_await jwt_.verify(*tenant, token);
  if (!sub) {
    rejected_.inc();
    co_return unauthenticated("Invalid token.", sub.error().log_detail);
  }
  Principal p;
  p.kind = Principal::Kind::kJwt;
  p.tenant_id = tenant->tenant.id;
  p.end_user = std::move(*sub);
  p.end_user_bound = true;
  ctx.principal = std::move(p);
  co_return Result<void>{};
}

net::awaitable<Result<void>> AuthenticateStage::fromSession(RequestContext& ctx) {
  auto session = co_await sessions_.authenticate(ctx.ex.request);
  if (!session) {
    rejected_.inc();
    co_return unauthenticated(kMissingKey);
  }
  if (!*session) {
    rejected_.inc();
    co_return session->error();
  }
  Principal p;
  p.kind = Principal::Kind::kSession;
  p.tenant_id = (*session)->tenant_id;
  p.end_user = ((*session)->kind == "admin" ? "console:" : "") + (*session)->user_id;
  p.end_user_bound = true;
  ctx.principal = std::move(p);
  co_return Result<void>{};
}

net::awaitable<Result<void>> AuthenticateStage::onRequest(RequestContext& ctx) {
  std::string_view token;  // a JWT, pointing into the request's headers
  auto next = identify(ctx, token);
  if (!next) {
    rejected_.inc();
    co_return next.error();
  }
  if (*next == Next::kJwt) {
    co_return co_await fromJwt(ctx, token);
  }
  if (*next == Next::kSession) {
    co_return co_await fromSession(ctx);
  }
  co_return Result<void>{};
}

ResolveTenantStage::ResolveTenantStage(const tenancy::TenantDirectory& tenants)
    : tenants_(tenants) {}

net::awaitable<Result<void>> ResolveTenantStage::onRequest(RequestContext& ctx) {
  // authenticate runs first (pipeline.cpp): a principal is always set here.
  const auto& principal = *ctx.principal;
  auto tenant = tenants_.byId(principal.tenant_id);
  if (!tenant) {
    co_return unauthenticated(kIncorrectKey, "tenant of the credential no longer exists");
  }
  if (!ctx.host.empty()) {
    auto host_tenant = tenants_.byHost(ctx.host);
    if (host_tenant && host_tenant->tenant.id != tenant->tenant.id) {
      // A key of tenant A presented on tenant B's domain: refused before any upstream call.
      co_return unauthenticated(kIncorrectKey, "credential of another tenant than the host's");
    }
  }
  ctx.ex.tenant_id = tenant->tenant.id;
  if (tenant->suspended()) {
    co_return Error{ErrorCode::kTenantSuspended,
                    "This account is suspended. Contact your administrator."}
        .withCode("account_suspended");
  }
  ctx.tenant = std::move(tenant);
  co_return Result<void>{};
}

}  // namespace livery::pipeline
