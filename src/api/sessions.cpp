// The session layer: cookie sessions for the tenant console, the workspace and the operator
// console, CSRF tokens, and sign-in throttling (see control_api.hpp for the contract).

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include "api/api_support.hpp"
#include "api/control_api.hpp"
#include "api/json_model.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/offload.hpp"
#include "crypto/api_key.hpp"
#include "crypto/encoding.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "http/exchange.hpp"
#include "storage/stores.hpp"
#include "whitelabel/host.hpp"
#include "whitelabel/text.hpp"

namespace livery::api {

namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// A cached session is re-read from the store after this long, so a logout or a disabled account
// on another node takes effect within it.
constexpr std::chrono::seconds kCacheTtl{5};
constexpr std::size_t kMaxCachedSessions = 10'000;
constexpr std::size_t kCsrfBytes = 32;
constexpr std::int64_t kPruneEveryMs = std::int64_t{10} * 60 * 1000;

// Sign-in throttling: failures counted in a fixed window that starts at the first failure.
struct ThrottlePolicy {
  std::uint32_t max_failures;
  storage::Millis window_ms;
};
// Per account: a password guesser gets 5 tries per quarter hour.
constexpr ThrottlePolicy kPerAccount{5, storage::Millis{15} * 60 * 1000};
// Per client address: generous enough for an office behind one NAT, tight enough to stop a
// spray over many accounts.
constexpr ThrottlePolicy kPerAddress{20, storage::Millis{15} * 60 * 1000};
// Windows are pruned once they are older than the longest window.
constexpr storage::Millis kLongestThrottleWindow =
    std::max(kPerAccount.window_ms, kPerAddress.window_ms);

// Seconds until `key` may try again when its window is full; nullopt when it may try now.
// The windows live in the shared store (storage/login_throttle_store.hpp), so the limits hold
// across every node of a fleet. Blocking.
Result<std::optional<int>> throttleWait(storage::LoginThrottleStore& store,
                                        std::span<const unsigned char> key,
                                        const ThrottlePolicy& policy,
                                        storage::Millis now) {
  auto w = store.openWindow(key, policy.window_ms);
  if (!w) {
    if (w.error().code == ErrorCode::kNotFound) {
      return std::optional<int>{};
    }
    return w.error();
  }
  if (w->failures < policy.max_failures) {
    return std::optional<int>{};
  }
  const storage::Millis left_ms = w->start + policy.window_ms - now;
  return std::optional<int>{static_cast<int>((std::max<storage::Millis>(left_ms, 1) + 999) / 1000)};
}

std::string digestKey(const crypto::KeyHasher::Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};  // NOLINT(*-reinterpret-cast)
}

std::string_view surfaceOf(std::string_view kind) {
  if (kind == "admin") {
    return "console";
  }
  if (kind == "end_user") {
    return "workspace";
  }
  return "operator";
}

Error invalidCredentials() {
  return Error{ErrorCode::kUnauthenticated, "Wrong e-mail or password."}.withCode(
      "invalid_credentials");
}

Error throttled(int retry_after_s) {
  return Error{ErrorCode::kRateLimited, "Too many failed sign-in attempts. Try again later."}
      .withCode("login_rate_limited")
      .withRetryAfter(retry_after_s);
}

class CookieSessions final : public SessionManager {
 public:
  explicit CookieSessions(ApiContext& ctx)
      : ctx_(ctx),
        cookie_name_(ctx.cfg.security.cookie_secure ? "__Host-livery_session" : "livery_session"),
        ttl_ms_(std::max<std::int64_t>(60'000, ctx.cfg.security.session_ttl.count())) {
    for (std::string_view surface : {"console", "workspace", "operator"}) {
      for (std::string_view outcome : {"ok", "failed", "throttled"}) {
        logins_[key(surface, outcome)] = &ctx.metrics.counter(
            "livery_api_logins_total",
            "Sign-in attempts by surface and outcome",
            {{"surface", std::string(surface)}, {"outcome", std::string(outcome)}});
      }
    }
  }

  // ---- SessionAuthenticator (/v1 from the console playground and the workspace) -------------

  net::awaitable<std::optional<Result<SessionPrincipal>>> authenticate(
      const http::Request& request) override {
    using Out = std::optional<Result<SessionPrincipal>>;
    auto found = co_await lookup(request);
    if (!found) {
      co_return Out{};
    }
    if (!*found) {
      co_return Out{Result<SessionPrincipal>{found->error()}};
    }
    const SessionInfo& s = **found;
    if (s.kind != "admin" && s.kind != "end_user") {
      co_return Out{Result<SessionPrincipal>{signInRequired()}};
    }
    // A tenant session is valid only on its tenant's host.
    auto tenant = hostTenant(ctx_, request);
    if (!tenant || tenant->tenant.id != s.tenant_id) {
      co_return Out{Result<SessionPrincipal>{signInRequired()}};
    }
    if (!csrfSatisfied(request, s)) {
      co_return Out{Result<SessionPrincipal>{csrfRefused()}};
    }
    co_return Out{SessionPrincipal{s.tenant_id, s.user_id, s.kind}};
  }

  // ---- SessionManager ---------------------------------------------------------------------------

  net::awaitable<std::optional<Result<SessionInfo>>> lookup(const http::Request& request) override {
    using Out = std::optional<Result<SessionInfo>>;
    auto cookie = readCookie(request);
    if (!cookie) {
      co_return Out{};
    }
    auto digest = tokenDigest(*cookie);
    if (!digest) {
      co_return Out{Result<SessionInfo>{signInRequired()}};
    }
    auto now = ctx_.clock.unixMillis();
    auto cache_key = digestKey(*digest);
    if (auto cached = fromCache(cache_key, now)) {
      co_return Out{std::move(*cached)};
    }
    auto& stores = ctx_.stores;
    auto loaded = co_await offload(ctx_.blocking, [&stores, d = *digest]() -> Result<SessionInfo> {
      auto s = stores.sessions.getByHash(d);
      if (!s) {
        return s.error();
      }
      SessionInfo info;
      info.kind = s->kind;
      info.tenant_id = s->tenant_id;
      info.user_id = s->user_id;
      info.csrf_token = s->csrf_token;
      info.expires_at = s->expires_at;
      if (s->kind == "operator") {
        // The token that opened the session must still be valid.
        auto tokens = stores.operator_tokens.list();
        if (!tokens) {
          return tokens.error();
        }
        auto it = std::find_if(tokens->begin(), tokens->end(), [&](const auto& t) {
          return t.id == s->user_id && t.revoked_at == 0;
        });
        if (it == tokens->end()) {
          return fail(ErrorCode::kNotFound, "session of a revoked operator token");
        }
        return info;
      }
      auto user = stores.users.get(s->tenant_id, s->user_id);
      if (!user) {
        return user.error();
      }
      if (user->disabled || user->kind != s->kind) {
        return fail(ErrorCode::kNotFound, "session of a disabled account");
      }
      info.user = std::move(*user);
      return info;
    });
    if (!loaded) {
      if (loaded.error().code == ErrorCode::kNotFound) {
        co_return Out{Result<SessionInfo>{signInRequired()}};
      }
      co_return Out{Result<SessionInfo>{loaded.error()}};
    }
    if (loaded->expires_at <= now) {
      co_return Out{Result<SessionInfo>{signInRequired()}};
    }
    toCache(cache_key, *loaded);
    co_return Out{std::move(*loaded)};
  }

  net::awaitable<Result<StartedSession>> start(const http::Request& request,
                                               std::string kind,
                                               std::string tenant_id,
                                               std::string user_id) override {
    auto token = crypto::api_key::generate(crypto::TokenKind::kSession, ctx_.random);
    if (!token) {
      co_return token.error();
    }
    auto digest = ctx_.hasher.hash(token->reveal());
    if (!digest) {
      co_return digest.error();
    }
    auto csrf = crypto::randomBytes(ctx_.random, kCsrfBytes);
    if (!csrf) {
      co_return csrf.error();
    }
    storage::Session s;
    s.token_hash.assign(digest->begin(), digest->end());
    s.user_id = user_id;
    s.tenant_id = tenant_id;
    s.kind = kind;
    s.csrf_token = crypto::hexEncode(*csrf);
    s.created_at = ctx_.clock.unixMillis();
    s.expires_at = s.created_at + ttl_ms_;
    std::optional<crypto::KeyHasher::Digest> previous;
    if (auto cookie = readCookie(request)) {
      if (auto d = tokenDigest(*cookie)) {
        previous = *d;
        forget(digestKey(*d));
      }
    }
    bool prune = false;
    auto last = last_prune_.load(std::memory_order_relaxed);
    if (s.created_at - last >= kPruneEveryMs &&
        last_prune_.compare_exchange_strong(last, s.created_at)) {
      prune = true;
    }
    auto& stores = ctx_.stores;
    auto stored = co_await offload(ctx_.blocking, [&stores, &s, previous, prune] {
      if (previous) {
        (void)stores.sessions.remove(*previous);  // no session fixation: the old one ends
      }
      if (prune) {
        (void)stores.sessions.pruneExpired();
      }
      return stores.sessions.insert(s);
    });
    if (!stored) {
      co_return stored.error();
    }
    StartedSession out;
    out.info.kind = std::move(kind);
    out.info.tenant_id = std::move(tenant_id);
    out.info.user_id = std::move(user_id);
    out.info.csrf_token = s.csrf_token;
    out.info.expires_at = s.expires_at;
    out.set_cookie = fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
                                 cookie_name_,
                                 token->reveal(),
                                 ttl_ms_ / 1000,
                                 ctx_.cfg.security.cookie_secure ? "; Secure" : "");
    co_return out;
  }

  net::awaitable<std::string> end(const http::Request& request) override {
    if (auto cookie = readCookie(request)) {
      if (auto d = tokenDigest(*cookie)) {
        forget(digestKey(*d));
        auto& stores = ctx_.stores;
        (void)co_await offload(ctx_.blocking,
                               [&stores, digest = *d] { return stores.sessions.remove(digest); });
        forget(digestKey(*d));  // in case a concurrent lookup cached it meanwhile
      }
    }
    co_return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
                          cookie_name_,
                          ctx_.cfg.security.cookie_secure ? "; Secure" : "");
  }

  net::awaitable<Result<void>> endAllFor(std::string tenant_id, std::string user_id) override {
    forgetUser(tenant_id, user_id);
    auto& stores = ctx_.stores;
    auto removed = co_await offload(ctx_.blocking, [&stores, &tenant_id, &user_id] {
      return stores.sessions.removeForUser(tenant_id, user_id);
    });
    // Again: a lookup that read the store just before the removal may have cached it since.
    forgetUser(tenant_id, user_id);
    if (!removed) {
      co_return removed.error();
    }
    co_return Result<void>{};
  }

  bool csrfSatisfied(const http::Request& request, const SessionInfo& session) const override {
    if (!isMutating(request)) {
      return true;
    }
    auto sent = request.headers.get("x-csrf-token");
    const auto& expected = session.csrf_token;
    return !expected.empty() && sent.size() == expected.size() &&
           CRYPTO_memcmp(sent.data(), expected.data(), sent.size()) == 0;
  }

  net::awaitable<Result<storage::User>> checkPassword(const http::Request& request,
                                                      std::string tenant_id,
                                                      std::string kind,
                                                      std::string email,
                                                      SecretBytes password) override {
    auto surface = surfaceOf(kind);
    auto ip = clientIp(request);
    auto lower = whitelabel::asciiLower(email);
    // The store keeps only keyed digests of these: no e-mail address or IP in clear.
    auto account_key = throttleKey(fmt::format("acct\x1f{}\x1f{}\x1f{}", tenant_id, kind, lower));
    auto address_key = throttleKey("ip\x1f" + ip);
    if (!account_key || !address_key) {
      co_return account_key ? address_key.error() : account_key.error();
    }
    struct Outcome {
      bool ok = false;
      std::optional<int> throttled_for;  // seconds: refused before the password was checked
      storage::User user;
      std::optional<Error> error;  // a store failure (not a wrong password)
    };
    auto& stores = ctx_.stores;
    const auto& passwords = ctx_.passwords;
    auto& control = ctx_.control;
    const auto& clock = ctx_.clock;
    auto outcome = co_await offload(ctx_.blocking, [&]() -> Outcome {
      Outcome o;
      const auto now = clock.unixMillis();
      auto wait_a = throttleWait(stores.login_throttle, *account_key, kPerAccount, now);
      auto wait_b = throttleWait(stores.login_throttle, *address_key, kPerAddress, now);
      if (!wait_a || !wait_b) {
        o.error = wait_a ? wait_b.error() : wait_a.error();
        return o;
      }
      if (*wait_a || *wait_b) {
        o.throttled_for = std::max(wait_a->value_or(0), wait_b->value_or(0));
        return o;
      }
      auto user = stores.users.findByEmail(tenant_id, kind, lower);
      if (!user && user.error().code != ErrorCode::kNotFound) {
        o.error = user.error();
        return o;
      }
      bool usable = user && !user->disabled && user->password_hash.starts_with("$argon2");
      // Verify even when there is no usable account, so that the answer time does not tell
      // which e-mail addresses exist.
      auto check =
          passwords.verify(usable ? std::string_view(user->password_hash) : dummyHash(), password);
      o.ok = usable && check && check->match;
      if (o.ok) {
        o.user = std::move(*user);
        (void)stores.login_throttle.reset(*account_key);
        (void)stores.users.touchLogin(tenant_id, o.user.id, clock.unixMillis());
        if (check->needs_rehash) {
          if (auto rehashed = passwords.hash(password)) {
            (void)stores.users.setPasswordHash(tenant_id, o.user.id, *rehashed);
          }
        }
        if (o.user.kind == "admin") {
          // Console sign-ins are security-relevant; workspace sign-ins are too frequent and
          // too harmless for the audit log (their failures are recorded below).
          (void)control.audit(control::Actor{"tenant-admin", o.user.id, tenant_id},
                              tenant_id,
                              "auth.login",
                              json::serialize(json::object{{"surface", surface}}));
        }
        return o;
      }
      countFailure(*account_key, kPerAccount);
      countFailure(*address_key, kPerAddress);
      json::object details{{"surface", surface},
                           {"email", whitelabel::sanitizeText(lower, {.max_bytes = 254})},
                           {"client_ip", ip}};
      (void)control.audit(control::Actor{"anonymous", "", ""},
                          tenant_id,
                          "auth.login_failed",
                          json::serialize(details));
      return o;
    });
    password.wipe();
    if (outcome.throttled_for) {
      count(surface, "throttled");
      LIVERY_LOG(ctx_.log,
                 Warn,
                 "login_throttled",
                 {"surface", surface},
                 {"tenant_id", tenant_id},
                 {"client_ip", ip});
      co_return throttled(*outcome.throttled_for);
    }
    if (outcome.error) {
      co_return *outcome.error;
    }
    if (!outcome.ok) {
      count(surface, "failed");
      co_return invalidCredentials();
    }
    count(surface, "ok");
    co_return std::move(outcome.user);
  }

  net::awaitable<Result<storage::OperatorToken>> checkOperatorToken(const http::Request& request,
                                                                    SecretBytes token) override {
    auto ip = clientIp(request);
    auto address_key = throttleKey("op-ip\x1f" + ip);
    if (!address_key) {
      co_return address_key.error();
    }
    auto& control = ctx_.control;
    auto& stores = ctx_.stores;
    const auto& clock = ctx_.clock;
    std::optional<int> throttled_for;
    auto checked = co_await offload(ctx_.blocking, [&]() -> Result<storage::OperatorToken> {
      auto wait =
          throttleWait(stores.login_throttle, *address_key, kPerAddress, clock.unixMillis());
      if (!wait) {
        return wait.error();
      }
      if (*wait) {
        throttled_for = *wait;
        return fail(ErrorCode::kRateLimited, "throttled");
      }
      auto t = control.authenticateOperator(token.reveal());
      if (t) {
        (void)control.audit(control::Actor{"operator", t->id, ""},
                            "",
                            "auth.login",
                            json::serialize(json::object{{"surface", "operator"}}));
      } else if (t.error().code == ErrorCode::kUnauthenticated) {
        countFailure(*address_key, kPerAddress);
        (void)control.audit(
            control::Actor{"anonymous", "", ""},
            "",
            "auth.login_failed",
            json::serialize(json::object{{"surface", "operator"}, {"client_ip", ip}}));
      }
      return t;
    });
    token.wipe();
    if (throttled_for) {
      count("operator", "throttled");
      co_return throttled(*throttled_for);
    }
    if (!checked) {
      if (checked.error().code == ErrorCode::kUnauthenticated) {
        count("operator", "failed");
      }
      co_return checked.error();
    }
    count("operator", "ok");
    co_return std::move(*checked);
  }

  std::string clientIp(const http::Request& request) const override {
    whitelabel::ForwardedInput in;
    in.peer_ip = request.remote_ip;
    in.host = request.headers.get("host");
    in.x_forwarded_host = request.headers.get("x-forwarded-host");
    in.x_forwarded_for = request.headers.get("x-forwarded-for");
    auto origin = ctx_.hosts.resolve(in);
    if (origin && !origin->client_ip.empty()) {
      return origin->client_ip;
    }
    return request.remote_ip;
  }

 private:
  struct CacheEntry {
    SessionInfo info;
    Clock::SteadyTime cached_at;
  };

  static std::string key(std::string_view a, std::string_view b) {
    std::string k(a);
    k += '/';
    k += b;
    return k;
  }

  // The store key of a throttled subject: its HMAC under the node's pepper.
  Result<std::vector<unsigned char>> throttleKey(std::string_view subject) const {
    auto d = ctx_.hasher.hash(subject);
    if (!d) {
      return d.error();
    }
    return std::vector<unsigned char>(d->begin(), d->end());
  }

  // Counts a failed sign-in of `key` (blocking), and now and then prunes ended windows. A store
  // failure here is logged: the attempt is refused either way.
  void countFailure(std::span<const unsigned char> key, const ThrottlePolicy& policy) {
    auto& store = ctx_.stores.login_throttle;
    if (auto r = store.recordFailure(key, policy.window_ms); !r) {
      LIVERY_LOG(ctx_.log, Warn, "login_throttle_unavailable", {"error", r.error().log_detail});
    }
    const storage::Millis now = ctx_.clock.unixMillis();
    auto last = last_throttle_prune_.load(std::memory_order_relaxed);
    if (now - last >= kPruneEveryMs && last_throttle_prune_.compare_exchange_strong(last, now)) {
      (void)store.pruneOlderThan(kLongestThrottleWindow);
    }
  }

  void count(std::string_view surface, std::string_view outcome) {
    auto it = logins_.find(key(surface, outcome));
    if (it != logins_.end()) {
      it->second->inc();
    }
  }

  // The value of the session cookie, if the request has one (the first one wins).
  std::optional<std::string> readCookie(const http::Request& request) const {
    for (const auto& f : request.headers.fields()) {
      if (!http::iequals(f.name, "cookie")) {
        continue;
      }
      std::string_view rest = f.value;
      while (!rest.empty()) {
        auto semi = rest.find(';');
        auto part = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        while (!part.empty() && part.front() == ' ') {
          part.remove_prefix(1);
        }
        auto eq = part.find('=');
        if (eq == std::string_view::npos || part.substr(0, eq) != cookie_name_) {
          continue;
        }
        auto value = part.substr(eq + 1);
        while (!value.empty() && value.back() == ' ') {
          value.remove_suffix(1);
        }
        return std::string(value);
      }
    }
    return std::nullopt;
  }

  // The keyed hash of a well-formed session token (format and checksum first: garbage never
  // reaches the store).
  std::optional<crypto::KeyHasher::Digest> tokenDigest(std::string_view token) const {
    if (token.size() > crypto::kMaxTokenBytes) {
      return std::nullopt;
    }
    auto parsed = crypto::api_key::parse(token);
    if (!parsed || parsed->kind != crypto::TokenKind::kSession) {
      return std::nullopt;
    }
    auto digest = ctx_.hasher.hash(token);
    if (!digest) {
      return std::nullopt;
    }
    return *digest;
  }

  std::optional<SessionInfo> fromCache(const std::string& cache_key, storage::Millis now) {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(cache_key);
    if (it == cache_.end()) {
      return std::nullopt;
    }
    if (ctx_.clock.now() - it->second.cached_at >= kCacheTtl || it->second.info.expires_at <= now) {
      cache_.erase(it);
      return std::nullopt;
    }
    return it->second.info;
  }

  void toCache(const std::string& cache_key, const SessionInfo& info) {
    std::lock_guard lock(cache_mu_);
    auto steady = ctx_.clock.now();
    if (cache_.size() >= kMaxCachedSessions) {
      std::erase_if(cache_,
                    [&](const auto& kv) { return steady - kv.second.cached_at >= kCacheTtl; });
      if (cache_.size() >= kMaxCachedSessions) {
        cache_.clear();
      }
    }
    cache_[cache_key] = CacheEntry{info, steady};
  }

  void forget(const std::string& cache_key) {
    std::lock_guard lock(cache_mu_);
    cache_.erase(cache_key);
  }

  void forgetUser(const std::string& tenant_id, const std::string& user_id) {
    std::lock_guard lock(cache_mu_);
    std::erase_if(cache_, [&](const auto& kv) {
      return kv.second.info.tenant_id == tenant_id && kv.second.info.user_id == user_id;
    });
  }

  // An Argon2id hash of a random password, verified against when an account does not exist.
  std::string_view dummyHash() {
    std::call_once(dummy_once_, [this] {
      auto pw = crypto::randomSecret(ctx_.random, 24);
      if (pw) {
        if (auto h = ctx_.passwords.hash(*pw)) {
          dummy_hash_ = std::move(*h);
        }
      }
    });
    return dummy_hash_;
  }

  ApiContext& ctx_;
  const std::string cookie_name_;
  const std::int64_t ttl_ms_;
  std::atomic<storage::Millis> last_throttle_prune_{0};
  std::unordered_map<std::string, Counter*> logins_;  // built in the constructor, read-only after
  std::atomic<storage::Millis> last_prune_{0};

  mutable std::mutex cache_mu_;  // guards cache_
  std::unordered_map<std::string, CacheEntry> cache_;

  std::once_flag dummy_once_;
  std::string dummy_hash_;  // written once under dummy_once_
};

}  // namespace

std::unique_ptr<SessionManager> makeSessionManager(ApiContext& ctx) {
  return std::make_unique<CookieSessions>(ctx);
}

net::awaitable<http::Response> tenantPasswordLogin(ApiContext& ctx,
                                                   SessionManager& sessions,
                                                   http::Exchange& ex,
                                                   std::string_view kind) {
  auto form = readTenantPasswordForm(ctx, ex, {"email"});
  if (!form) {
    co_return errorResponse(ctx, ex, form.error());
  }
  const auto& tenant = form->tenant;
  auto* taken = &form->body;
  auto email = taken->rest.requiredString("email", 254);
  if (!email) {
    co_return errorResponse(ctx, ex, email.error());
  }
  if (!taken->secret) {
    co_return errorResponse(ctx, ex, badField("password", "'password' is required"));
  }
  const std::string kind_text(kind);
  auto user = co_await sessions.checkPassword(
      ex.request, tenant->tenant.id, kind_text, *email, std::move(*taken->secret));
  if (!user) {
    co_return errorResponse(ctx, ex, user.error());
  }
  auto started = co_await sessions.start(ex.request, kind_text, tenant->tenant.id, user->id);
  if (!started) {
    co_return errorResponse(ctx, ex, started.error());
  }
  boost::json::object out;
  out["user"] = toJson(*user);
  out["csrf_token"] = started->info.csrf_token;
  co_return withCookie(jsonResponse(200, out), started->set_cookie);
}

}  // namespace livery::api
