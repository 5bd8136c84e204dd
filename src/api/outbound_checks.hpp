#pragma once

// The two outbound checks of the tenant console: validating a provider key against its provider
// (a cheap authenticated "list models" call) and proving ownership of a custom domain (DNS TXT
// record, then the HTTP challenge over https and http). Both go through the upstream client of
// the calling I/O thread (ctx.upstream_clients[worker]), so the outbound (SSRF) guard applies,
// and both have an overall deadline.
//
// Secrets: the provider key is injected by the upstream client into the request head only; it
// never appears in a result, message or log line. Thread-safety: call on the I/O thread that
// owns ctx.upstream_clients[worker] (the handler's own thread).

#include <cstddef>
#include <string>

#include <boost/json/object.hpp>

#include "api/api_context.hpp"
#include "core/net.hpp"
#include "core/secret.hpp"
#include "storage/model.hpp"

namespace livery::api {

// The verdict on a provider key.
struct KeyValidation {
  bool ok = false;
  // "ok", "bad_key", "no_permission", "rate_limited", "unreachable", "blocked" (the outbound
  // guard refused the address), "bad_config" (base URL or options), "unexpected".
  std::string reason;
  std::string message;  // client-safe, never the key
  std::size_t model_count = 0;
  storage::CredentialHealth health = storage::CredentialHealth::kUnknown;

  // {"ok","reason","message","model_count"}
  boost::json::object toJson() const;
  // For Credential.health_detail.
  std::string healthDetail() const;
};

// Calls the provider's list-models endpoint with `key` (borrowed: it must outlive the call,
// which the caller awaits at once). Never throws; transport failures are verdicts.
net::awaitable<KeyValidation> validateProviderKey(ApiContext& ctx,
                                                  int worker,
                                                  std::string provider,
                                                  std::string base_url,
                                                  std::string options_json,
                                                  const SecretBytes& key);

// TXT records at `name` through glibc's resolver (res_nquery, 2 s per try, one retry): the
// production TxtLookup. Blocking.
Result<std::vector<std::string>> lookupTxtRecords(const std::string& name);

struct DomainCheck {
  bool passed = false;
  std::string method;   // "dns", "https", "http"
  std::string outcome;  // whitelabel::toString(ChallengeOutcome), or "blocked"
  std::string message;

  boost::json::object toJson() const;
};

// Looks for the verification token in the TXT record _livery-challenge.<host>, then at
// https://<host>/.well-known/livery-challenge/<token> and the same over http (following only
// same-host redirects to the same path, at most 3). Passed at the first method that shows it.
net::awaitable<DomainCheck> checkDomainOwnership(ApiContext& ctx,
                                                 int worker,
                                                 std::string host,
                                                 std::string token);

}  // namespace livery::api
