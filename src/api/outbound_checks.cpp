#include "api/outbound_checks.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <variant>
#include <vector>

#include <arpa/nameser.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <resolv.h>

#include "core/offload.hpp"
#include "providers/provider_adapter.hpp"
#include "providers/registry.hpp"
#include "upstream/client.hpp"
#include "whitelabel/domain_verification.hpp"

namespace livery::api {

namespace json = boost::json;
using namespace boost::asio::experimental::
    awaitable_operators;  // NOLINT(google-build-using-namespace)

namespace {

// A provider that has not answered a models listing in this long is "unreachable" for the
// console (the gateway's own first-byte timeout is for long generations, not for this).
constexpr std::chrono::seconds kProbeTimeout{15};
constexpr std::chrono::seconds kChallengeTimeout{10};
constexpr std::size_t kMaxProbeBody = std::size_t{4} * 1024 * 1024;

using Deadline = std::chrono::steady_clock::time_point;

// Sends `request` and reads its whole body (at most `max_body` bytes; more is an error), all
// before `deadline`. nullopt on timeout.
struct Fetched {
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string location;
  bool truncated = false;
};

net::awaitable<std::optional<Result<Fetched>>> fetch(upstream::Client& client,
                                                     upstream::Request request,
                                                     Deadline deadline,
                                                     std::size_t max_body) {
  using Out = std::optional<Result<Fetched>>;
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor, deadline);
  auto sent_or_timeout = co_await (client.send(std::move(request)) ||
                                   timer.async_wait(net::as_tuple(net::use_awaitable)));
  if (sent_or_timeout.index() == 1) {
    co_return Out{};
  }
  auto sent = std::move(std::get<0>(sent_or_timeout));
  if (!sent) {
    co_return Out{Result<Fetched>{sent.error()}};
  }
  upstream::Response& res = **sent;
  Fetched out;
  out.status = res.status();
  out.retry_after = std::string(res.header("retry-after"));
  out.location = std::string(res.header("location"));
  for (;;) {
    timer.expires_at(deadline);
    auto piece_or_timeout =
        co_await (res.readSome() || timer.async_wait(net::as_tuple(net::use_awaitable)));
    if (piece_or_timeout.index() == 1) {
      res.abort();
      co_return Out{};
    }
    auto piece = std::get<0>(piece_or_timeout);
    if (!piece) {
      co_return Out{Result<Fetched>{piece.error()}};
    }
    if (piece->empty()) {
      break;
    }
    if (out.body.size() + piece->size() > max_body) {
      out.truncated = true;
      res.abort();
      break;
    }
    out.body.append(piece->data(), piece->size());
  }
  co_return Out{std::move(out)};
}

KeyValidation verdict(bool ok,
                      std::string reason,
                      std::string message,
                      storage::CredentialHealth health) {
  KeyValidation v;
  v.ok = ok;
  v.reason = std::move(reason);
  v.message = std::move(message);
  v.health = health;
  return v;
}

}  // namespace

Result<std::vector<std::string>> lookupTxtRecords(const std::string& name) {
  struct __res_state state {};
  if (res_ninit(&state) != 0) {
    return fail(ErrorCode::kUnavailable, "the DNS resolver is not available");
  }
  state.retrans = 2;  // seconds per try
  state.retry = 1;
  std::array<unsigned char, 8192> answer{};
  int n = res_nquery(
      &state, name.c_str(), ns_c_in, ns_t_txt, answer.data(), static_cast<int>(answer.size()));
  int herr = state.res_h_errno;
  res_nclose(&state);
  std::vector<std::string> out;
  if (n < 0) {
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
      return out;
    }
    return fail(ErrorCode::kUnavailable, "the DNS lookup failed");
  }
  ns_msg msg{};
  if (ns_initparse(answer.data(), n, &msg) < 0) {
    return fail(ErrorCode::kUnavailable, "the DNS answer did not parse");
  }
  int count = msg._counts[ns_s_an];
  for (int i = 0; i < count; ++i) {
    ns_rr rr{};
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
      break;
    }
    if (rr.type != ns_t_txt) {
      continue;
    }
    // One TXT record is a sequence of length-prefixed character-strings: join them.
    std::string text;
    const unsigned char* p = rr.rdata;
    const unsigned char* end = rr.rdata + rr.rdlength;
    while (p < end) {
      std::size_t len = *p++;
      if (static_cast<std::size_t>(end - p) < len) {
        break;
      }
      text.append(reinterpret_cast<const char*>(p), len);  // NOLINT(*-reinterpret-cast)
      p += len;
    }
    out.push_back(std::move(text));
  }
  return out;
}

json::object KeyValidation::toJson() const {
  json::object o;
  o["ok"] = ok;
  o["reason"] = reason;
  o["message"] = message;
  o["model_count"] = model_count;
  return o;
}

std::string KeyValidation::healthDetail() const {
  if (ok) {
    return fmt::format("validated: the provider listed {} models", model_count);
  }
  return fmt::format("validation failed ({}): {}", reason, message);
}

net::awaitable<KeyValidation> validateProviderKey(ApiContext& ctx,
                                                  int worker,
                                                  std::string provider,
                                                  std::string base_url,
                                                  std::string options_json,
                                                  const SecretBytes& key) {
  const auto* adapter = ctx.providers.find(provider);
  if (adapter == nullptr) {
    co_return verdict(
        false, "bad_config", "Unknown provider.", storage::CredentialHealth::kUnknown);
  }
  providers::Target target{base_url, "", options_json};
  auto built = adapter->buildListModelsRequest(target);
  if (!built) {
    co_return verdict(
        false, "bad_config", built.error().client_message, storage::CredentialHealth::kUnknown);
  }
  upstream::Request req;
  req.method = built->method;
  req.url = built->url;
  for (auto& [name, value] : built->headers) {
    req.headers.push_back({name, value});
  }
  req.body = built->body;
  req.auth = {built->auth.header, built->auth.prefix, &key};
  if (ctx.upstream_clients.empty()) {
    co_return verdict(false,
                      "unreachable",
                      "No upstream client is available.",
                      storage::CredentialHealth::kUnknown);
  }
  auto& client =
      *ctx.upstream_clients[static_cast<std::size_t>(worker) % ctx.upstream_clients.size()];
  auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
  auto fetched = co_await fetch(client, std::move(req), deadline, kMaxProbeBody);
  if (!fetched) {
    co_return verdict(false,
                      "unreachable",
                      "The provider did not answer in time.",
                      storage::CredentialHealth::kUnreachable);
  }
  if (!*fetched) {
    const auto& e = fetched->error();
    if (e.code == ErrorCode::kPermissionDenied) {
      co_return verdict(
          false, "blocked", e.client_message, storage::CredentialHealth::kUnreachable);
    }
    if (e.code == ErrorCode::kBadRequest) {
      co_return verdict(false, "bad_config", e.client_message, storage::CredentialHealth::kUnknown);
    }
    co_return verdict(false,
                      "unreachable",
                      "Livery could not reach the provider: " + e.client_message,
                      storage::CredentialHealth::kUnreachable);
  }
  const Fetched& f = **fetched;
  providers::UpstreamReply reply{f.status, f.body, f.retry_after, {}};
  auto probe = adapter->parseListModelsResponse(reply);
  using O = providers::ModelsProbe::Outcome;
  KeyValidation v;
  switch (probe.outcome) {
    case O::kOk:
      v = verdict(true, "ok", "The provider accepted the key.", storage::CredentialHealth::kOk);
      v.model_count = probe.model_count;
      break;
    case O::kKeyRefused:
      v = verdict(false, "bad_key", probe.message, storage::CredentialHealth::kRefused);
      break;
    case O::kNoPermission:
      v = verdict(false, "no_permission", probe.message, storage::CredentialHealth::kRefused);
      break;
    case O::kRateLimited:
      v = verdict(false, "rate_limited", probe.message, storage::CredentialHealth::kUnknown);
      break;
    case O::kUnavailable:
      v = verdict(false, "unreachable", probe.message, storage::CredentialHealth::kUnreachable);
      break;
    case O::kUnexpected:
      v = verdict(false, "unexpected", probe.message, storage::CredentialHealth::kUnknown);
      break;
  }
  if (v.message.empty()) {
    v.message = v.ok ? "The provider accepted the key." : "The provider did not accept the key.";
  }
  co_return v;
}

json::object DomainCheck::toJson() const {
  json::object o;
  o["passed"] = passed;
  o["method"] = method;
  o["outcome"] = outcome;
  o["message"] = message;
  return o;
}

net::awaitable<DomainCheck> checkDomainOwnership(ApiContext& ctx,
                                                 int worker,
                                                 std::string host,
                                                 std::string token) {
  DomainCheck result;
  // 1. DNS TXT (proves control of the zone; works for a domain already pointing at Livery).
  auto name = whitelabel::dnsChallengeName(host);
  auto txt = co_await offload(ctx.blocking, [&ctx, &name] { return ctx.txt_lookup(name); });
  if (txt && whitelabel::checkDnsChallenge(*txt, token) == whitelabel::ChallengeOutcome::kPassed) {
    result.passed = true;
    result.method = "dns";
    result.outcome = "passed";
    result.message = "Found the token in the TXT record " + name + ".";
    co_return result;
  }
  result.method = "dns";
  result.outcome =
      txt ? std::string(whitelabel::toString(whitelabel::ChallengeOutcome::kTokenMismatch))
          : std::string(whitelabel::toString(whitelabel::ChallengeOutcome::kUnreachable));
  result.message = "No TXT record " + name + " with the token.";
  if (ctx.upstream_clients.empty()) {
    co_return result;
  }
  auto& client =
      *ctx.upstream_clients[static_cast<std::size_t>(worker) % ctx.upstream_clients.size()];
  // 2. The HTTP challenge, over https first (sites that force HTTPS), then http.
  for (std::string_view scheme : {"https", "http"}) {
    std::string url = fmt::format("{}://{}{}", scheme, host, whitelabel::challengePath(token));
    auto deadline = std::chrono::steady_clock::now() + kChallengeTimeout;
    whitelabel::ChallengeOutcome outcome = whitelabel::ChallengeOutcome::kUnreachable;
    bool blocked = false;
    std::string message;
    for (std::size_t hop = 0; hop <= whitelabel::kMaxChallengeRedirects; ++hop) {
      upstream::Request req;
      req.method = "GET";
      req.url = url;
      auto fetched = co_await fetch(client, req, deadline, whitelabel::kMaxChallengeBodyBytes);
      if (!fetched) {
        message = "The challenge URL did not answer in time.";
        break;
      }
      if (!*fetched) {
        blocked = fetched->error().code == ErrorCode::kPermissionDenied;
        message = "The challenge URL could not be fetched: " + fetched->error().client_message;
        break;
      }
      const Fetched& f = **fetched;
      if (f.status >= 300 && f.status < 400) {
        if (!f.location.empty() && hop < whitelabel::kMaxChallengeRedirects &&
            whitelabel::isAllowedChallengeRedirect(host, token, f.location)) {
          url = f.location;
          continue;
        }
        outcome = whitelabel::ChallengeOutcome::kRedirected;
        message = "The challenge URL redirects elsewhere.";
        break;
      }
      if (f.truncated) {
        outcome = whitelabel::ChallengeOutcome::kBodyTooLarge;
        message = "The challenge URL answered with more than the token.";
        break;
      }
      outcome = whitelabel::checkHttpChallenge({true, f.status, f.body}, token);
      message = outcome == whitelabel::ChallengeOutcome::kPassed
                    ? "Found the token at " + url + "."
                    : fmt::format("The challenge URL answered {} without the token.", f.status);
      break;
    }
    result.passed = outcome == whitelabel::ChallengeOutcome::kPassed;
    result.method = std::string(scheme);
    result.outcome = blocked ? std::string("blocked") : std::string(whitelabel::toString(outcome));
    result.message = std::move(message);
    if (result.passed) {
      co_return result;
    }
  }
  co_return result;
}

}  // namespace livery::api
