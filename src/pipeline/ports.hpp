#pragma once

// What the request path needs from the rest of the system, as small interfaces the composition
// root (app/gateway.cpp) implements. Keeping them here lets the pipeline link only interfaces
// (STYLE §2): no store, KMS or HTTP-client implementation is visible to a stage.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/net.hpp"
#include "core/secret.hpp"
#include "http/message.hpp"
#include "storage/model.hpp"
#include "tenancy/tenant_state.hpp"

namespace livery::pipeline {

// Console and workspace sessions (cookie + X-CSRF-Token for state-changing requests).
// Implementations are thread-safe; a lookup may hit the store on a cache miss.
class SessionAuthenticator {
 public:
  struct SessionPrincipal {
    std::string tenant_id;
    std::string user_id;
    std::string kind;  // "admin" | "end_user"
  };
  virtual ~SessionAuthenticator() = default;
  // nullopt: the request carries no session cookie at all.
  virtual net::awaitable<std::optional<Result<SessionPrincipal>>> authenticate(
      const http::Request& request) = 0;
};

// Verifies a JWT signed by the tenant (the tenant comes from the host). Returns the `sub`.
class JwtAuthenticator {
 public:
  virtual ~JwtAuthenticator() = default;
  virtual net::awaitable<Result<std::string>> verify(const tenancy::TenantState& tenant,
                                                     std::string_view token) = 0;
};

// Decrypts a tenant's provider key for one upstream call. Thread-safe.
class KeyOpener {
 public:
  virtual ~KeyOpener() = default;
  virtual net::awaitable<Result<SecretBytes>> open(const storage::Credential& credential) = 0;
};

// What the data plane learns about credentials and tenants that the control plane records
// (credential health for the console, last-used times, alerts). Calls must not block: the
// implementation queues work. Thread-safe.
class ControlPlaneEvents {
 public:
  virtual ~ControlPlaneEvents() = default;
  virtual void credentialRefused(const std::string& tenant_id,
                                 const std::string& credential_id,
                                 int upstream_status) = 0;
  virtual void credentialWorked(const std::string& tenant_id, const std::string& credential_id) = 0;
  virtual void apiKeyUsed(const std::string& tenant_id, const std::string& key_id) = 0;
  virtual void usageSpike(const std::string& tenant_id,
                          std::string_view metric,
                          std::uint64_t window_requests,
                          std::uint64_t window_tokens) = 0;
};

}  // namespace livery::pipeline
