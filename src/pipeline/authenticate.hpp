#pragma once

#include "pipeline/ports.hpp"
#include "pipeline/stage.hpp"

namespace livery {
class Clock;
class Counter;
class MetricsRegistry;
}  // namespace livery
namespace livery::crypto {
class KeyHasher;
}
namespace livery::tenancy {
class KeyIndex;
class TenantDirectory;
}  // namespace livery::tenancy
namespace livery::whitelabel {
class HostResolver;
}

namespace livery::pipeline {

// Establishes the Principal: a Livery API key (`Authorization: Bearer lvr_live_…`: format and
// checksum first, then HMAC-SHA-256 under the pepper, looked up in the key index; revoked keys
// are absent from the index), a JWT signed by the tenant whose domain the request is on, or a
// console/workspace session cookie. Anything else is 401 with OpenAI's invalid_api_key. Also
// resolves the request's host (X-Forwarded-Host only from trusted proxies).
class AuthenticateStage final : public Stage {
 public:
  AuthenticateStage(const crypto::KeyHasher& hasher,
                    const tenancy::KeyIndex& keys,
                    const tenancy::TenantDirectory& tenants,
                    const whitelabel::HostResolver& hosts,
                    JwtAuthenticator& jwt,
                    SessionAuthenticator& sessions,
                    const Clock& clock,
                    MetricsRegistry& metrics);

  std::string_view name() const override { return "authenticate"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  enum class Next { kDone, kJwt, kSession };  // what identify() left to do
  // Host, credential parsing and the API-key path, without suspending; `token` receives a JWT.
  Result<Next> identify(RequestContext& ctx, std::string_view& token) const;
  net::awaitable<Result<void>> fromJwt(RequestContext& ctx, std::string_view token);
  net::awaitable<Result<void>> fromSession(RequestContext& ctx);
  Result<Principal> fromApiKey(std::string_view token) const;

  const crypto::KeyHasher& hasher_;
  const tenancy::KeyIndex& keys_;
  const tenancy::TenantDirectory& tenants_;
  const whitelabel::HostResolver& hosts_;
  JwtAuthenticator& jwt_;
  SessionAuthenticator& sessions_;
  const Clock& clock_;
  Counter& rejected_;
};

// Looks the principal's tenant up and enforces the tenant rules: a credential of tenant A on
// tenant B's domain is refused (401, no upstream call); a suspended tenant gets 403
// account_suspended.
class ResolveTenantStage final : public Stage {
 public:
  explicit ResolveTenantStage(const tenancy::TenantDirectory& tenants);
  std::string_view name() const override { return "resolve_tenant"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  const tenancy::TenantDirectory& tenants_;
};

}  // namespace livery::pipeline
