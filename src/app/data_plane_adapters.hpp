#pragma once

// Implementations of the pipeline's ports (pipeline/ports.hpp) over the vault and the JWT
// library. They live in app/ because they join modules the pipeline must not depend on.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pipeline/ports.hpp"

namespace livery {
class Clock;
}
namespace livery::crypto {
class Vault;
class JwtKeySet;
}  // namespace livery::crypto

namespace livery::app {

// Opens a tenant's provider key: on the I/O thread when its data key is cached (pure CPU),
// otherwise on the blocking pool (a KMS/HSM round trip). Thread-safe.
class VaultKeyOpener final : public pipeline::KeyOpener {
 public:
  VaultKeyOpener(crypto::Vault& vault, net::thread_pool& blocking);
  net::awaitable<Result<SecretBytes>> open(const storage::Credential& credential) override;

 private:
  crypto::Vault& vault_;
  net::thread_pool& blocking_;
};

// Verifies tenant-signed JWTs with that tenant's configured keys (never keys named by the
// token). Parsed key sets are cached per tenant and rebuilt when the tenant's snapshot changes;
// HS256 secrets are opened from the vault when the set is built. Thread-safe.
class TenantJwtAuthenticator final : public pipeline::JwtAuthenticator {
 public:
  TenantJwtAuthenticator(pipeline::KeyOpener& keys,
                         const Clock& clock,
                         std::chrono::seconds leeway,
                         std::size_t max_token_bytes);
  net::awaitable<Result<std::string>> verify(const tenancy::TenantState& tenant,
                                             std::string_view token) override;

 private:
  net::awaitable<Result<std::shared_ptr<const crypto::JwtKeySet>>> keySet(
      const tenancy::TenantState& tenant);

  pipeline::KeyOpener& keys_;
  const Clock& clock_;
  std::chrono::seconds leeway_;
  std::size_t max_token_bytes_;
  std::mutex mu_;  // guards cache_
  struct Cached {
    std::string signature;  // ids and creation times of the key rows the set was built from
    std::shared_ptr<const crypto::JwtKeySet> set;
  };
  std::map<std::string, Cached, std::less<>> cache_;
};

}  // namespace livery::app
