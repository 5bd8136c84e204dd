#include "app/data_plane_adapters.hpp"

#include <boost/asio/thread_pool.hpp>

#include "core/clock.hpp"
#include "core/offload.hpp"
#include "crypto/jwt.hpp"
#include "crypto/vault.hpp"
#include "tenancy/tenant_state.hpp"

namespace livery::app {

VaultKeyOpener::VaultKeyOpener(crypto::Vault& vault, net::thread_pool& blocking)
    : vault_(vault), blocking_(blocking) {}

net::awaitable<Result<SecretBytes>> VaultKeyOpener::open(const storage::Credential& credential) {
  // The binding comes from the row's own columns, never from the request.
  crypto::CredentialBinding who{credential.tenant_id, credential.id, credential.provider};
  if (auto cached = vault_.openIfCached(who, credential.envelope)) {
    co_return std::move(*cached);
  }
  co_return co_await offload(blocking_, [this, &credential] {
    crypto::CredentialBinding binding{credential.tenant_id, credential.id, credential.provider};
    return vault_.open(binding, credential.envelope);
  });
}

TenantJwtAuthenticator::TenantJwtAuthenticator(pipeline::KeyOpener& keys,
                                               const Clock& clock,
                                               std::chrono::seconds leeway,
                                               std::size_t max_token_bytes)
    : keys_(keys), clock_(clock), leeway_(leeway), max_token_bytes_(max_token_bytes) {}

net::awaitable<Result<std::shared_ptr<const crypto::JwtKeySet>>> TenantJwtAuthenticator::keySet(
    const tenancy::TenantState& tenant) {
  // The cached set is valid while the tenant's key rows are the same ones.
  std::string signature;
  for (const auto& k : tenant.jwt_keys) {
    signature += k.id;
    signature += ':';
    signature += std::to_string(k.created_at);
    signature += ';';
  }
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(tenant.tenant.id);
    if (it != cache_.end() && it->second.signature == signature) {
      co_return it->second.set;
    }
  }
  std::vector<crypto::JwtKey> keys;
  for (const auto& k : tenant.jwt_keys) {
    auto alg = crypto::parseJwsAlgorithm(k.algorithm);
    if (!alg) {
      continue;
    }
    if (*alg == crypto::JwsAlgorithm::kHs256) {
      const auto* cred = tenant.credential(k.hmac_credential_id);
      if (cred == nullptr) {
        continue;
      }
      auto secret = co_await keys_.open(*cred);
      if (!secret) {
        co_return secret.error();
      }
      auto key = crypto::JwtKey::hs256(k.kid, *secret);
      if (!key) {
        continue;
      }
      keys.push_back(std::move(*key).withIssuer(k.issuer).withAudience(k.audience));
      continue;
    }
    if (!k.public_pem.empty() && k.public_pem.front() == '{') {
      auto set = crypto::JwtKey::jwks(k.public_pem, *alg);
      if (!set) {
        continue;
      }
      for (auto& key : *set) {
        keys.push_back(std::move(key).withIssuer(k.issuer).withAudience(k.audience));
      }
      continue;
    }
    auto key = crypto::JwtKey::publicPem(k.kid, *alg, k.public_pem);
    if (!key) {
      continue;
    }
    keys.push_back(std::move(*key).withIssuer(k.issuer).withAudience(k.audience));
  }
  auto set = crypto::JwtKeySet::create(std::move(keys));
  if (!set) {
    co_return set.error();
  }
  auto shared = std::make_shared<const crypto::JwtKeySet>(std::move(*set));
  std::lock_guard lock(mu_);
  cache_[tenant.tenant.id] = Cached{std::move(signature), shared};
  co_return shared;
}

net::awaitable<Result<std::string>> TenantJwtAuthenticator::verify(
    const tenancy::TenantState& tenant, std::string_view token) {
  if (tenant.jwt_keys.empty()) {
    co_return fail(ErrorCode::kUnauthenticated, "Invalid token.", "tenant has no JWT keys");
  }
  auto set = co_await keySet(tenant);
  if (!set) {
    co_return set.error();
  }
  crypto::JwtPolicy policy;
  policy.leeway = leeway_;
  policy.max_token_bytes = max_token_bytes_;
  auto claims = crypto::verifyJwt(token, **set, policy, clock_);
  if (!claims) {
    co_return claims.error();
  }
  if (claims->subject.empty()) {
    co_return fail(ErrorCode::kUnauthenticated, "Invalid token.", "token has no sub");
  }
  co_return std::move(claims->subject);
}

}  // namespace livery::app
