#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/secret.hpp"
#include "storage/model.hpp"

namespace livery {
class Clock;
class Logger;
}  // namespace livery
namespace livery::storage {
struct Stores;
}
namespace livery::crypto {
class Vault;
class KeyHasher;
class RandomSource;
}  // namespace livery::crypto

namespace livery::control {

// Who performed an action, for the audit log. `id` is an operator-token id, a user id, or empty
// for the CLI/system.
struct Actor {
  std::string kind;  // "operator" | "cli" | "tenant-admin" | "system"
  std::string id;
  std::string tenant_id;  // set for tenant admins: they may act on this tenant only
  std::string describe() const;
  static Actor cli() { return {"cli", "", ""}; }
  static Actor system() { return {"system", "", ""}; }
};

struct TenantSpec {
  std::string slug;
  std::string display_name;
  std::string plan_id;
};

struct TenantPatch {
  std::optional<std::string> display_name;
  std::optional<std::string> plan_id;
  std::optional<storage::PlanOverrides> overrides;
  std::optional<bool> mock_response_enabled;
  std::optional<std::string> webhook_url;
};

struct KeySpec {
  std::string name;
  std::string environment = "live";  // live | test
  std::vector<std::string> scopes;
  storage::Millis expires_at = 0;
  storage::KeyLimits limits;
  std::string end_user;
};

// A secret shown exactly once (a new API key or operator token) with its stored record.
template <class T>
struct Issued {
  T record;
  SecretBytes secret;
};

struct CredentialSpec {
  std::string provider;
  std::string label;
  std::string base_url;
  std::string options_json = "{}";
};

struct KekVersionReport {
  std::string kek_id;
  std::uint32_t version = 0;
  bool held = false;
  bool current = false;
  std::uint64_t rows = 0;
  bool retirable = false;
};

struct RewrapProgress {
  std::uint64_t rewrapped = 0;
  std::uint64_t skipped = 0;    // changed concurrently (compare-and-set lost); picked up again
  std::uint64_t remaining = 0;  // rows still below the current version after this pass
};

// The control plane: every state change of tenants, plans, keys, credentials and routes, with
// validation and an audit entry, used alike by the admin API, the tenant console API and the
// CLI. The stores record a change-feed row in the same transaction, which the IndexSync of every
// node applies; callers on this node refresh their indexes right away.
//
// Secrets: provider keys arrive as SecretBytes and leave sealed by the vault; API keys and
// operator tokens are generated here, returned once in Issued::secret, and stored only as
// keyed hashes. Audit details never contain a secret.
//
// Thread-safety: all methods may run concurrently. Every method blocks on the store (and the
// KMS for credentials): call from the blocking pool or the CLI, never from an I/O thread.
class ControlPlane {
 public:
  ControlPlane(storage::Stores& stores,
               crypto::Vault& vault,
               const crypto::KeyHasher& hasher,
               crypto::RandomSource& random,
               const Clock& clock,
               Logger& log);

  storage::Stores& stores() { return stores_; }

  // --- plans (operator) ---
  Result<storage::Plan> createPlan(const Actor& actor, storage::Plan plan);
  Result<storage::Plan> updatePlan(const Actor& actor, storage::Plan plan);
  Result<void> deletePlan(const Actor& actor, std::string_view id);

  // --- tenants (operator) ---
  Result<storage::Tenant> createTenant(const Actor& actor, TenantSpec spec);
  Result<storage::Tenant> updateTenant(const Actor& actor,
                                       std::string_view tenant_id,
                                       const TenantPatch& patch);
  Result<storage::Tenant> suspendTenant(const Actor& actor,
                                        std::string_view tenant_id,
                                        std::string_view reason);
  Result<storage::Tenant> resumeTenant(const Actor& actor, std::string_view tenant_id);
  Result<void> deleteTenant(const Actor& actor, std::string_view tenant_id);
  // By id or slug.
  Result<storage::Tenant> findTenant(std::string_view id_or_slug);

  // --- operator tokens ---
  Result<Issued<storage::OperatorToken>> createOperatorToken(const Actor& actor,
                                                             std::string_view name);
  Result<void> revokeOperatorToken(const Actor& actor, std::string_view id);
  // Creates the first operator token when none exists yet (first start); nullopt otherwise.
  Result<std::optional<Issued<storage::OperatorToken>>> bootstrapOperatorToken();
  Result<storage::OperatorToken> authenticateOperator(std::string_view token);

  // --- API keys (tenant) ---
  Result<Issued<storage::ApiKey>> issueApiKey(const Actor& actor,
                                              std::string_view tenant_id,
                                              KeySpec spec);
  Result<void> revokeApiKey(const Actor& actor,
                            std::string_view tenant_id,
                            std::string_view key_id);

  // --- provider credentials (tenant). Validation against the provider happens before these
  // calls, in the (asynchronous) caller. ---
  Result<storage::Credential> addCredential(const Actor& actor,
                                            std::string_view tenant_id,
                                            CredentialSpec spec,
                                            const SecretBytes& key);
  Result<storage::Credential> replaceCredential(const Actor& actor,
                                                std::string_view tenant_id,
                                                std::string_view credential_id,
                                                const SecretBytes& key);
  Result<void> deleteCredential(const Actor& actor,
                                std::string_view tenant_id,
                                std::string_view credential_id);
  // The provider key of a stored credential (for re-validation). Never leaves the process.
  Result<SecretBytes> openCredential(std::string_view tenant_id, std::string_view credential_id);

  // --- routes (tenant, or operator defaults with an empty tenant id) ---
  Result<storage::Route> setRoute(const Actor& actor,
                                  std::string_view tenant_id,
                                  std::string_view model,
                                  std::vector<storage::Deployment> deployments);
  Result<void> deleteRoute(const Actor& actor, std::string_view tenant_id, std::string_view model);

  // --- KEK lifecycle (operator) ---
  Result<std::vector<KekVersionReport>> kekStatus();
  Result<std::uint32_t> rotateKek(const Actor& actor);
  // One resumable pass: re-wraps every DEK that is not under the current KEK version with a
  // compare-and-set per row (safe while serving; a row replaced concurrently is simply picked up
  // by the next pass). `progress` is called after each page.
  Result<RewrapProgress> rewrapAll(const Actor& actor,
                                   const std::function<void(const RewrapProgress&)>& progress);
  Result<void> retireKek(const Actor& actor, std::uint32_t version);

  // --- console and workspace accounts (the CLI's `livery user create`) ---
  // Creates a console administrator (kind "admin") or workspace end user ("end_user") of the
  // tenant. `user.password_hash` must already be an Argon2id hash (crypto::PasswordHasher): the
  // control plane never sees a password. The email is checked and stored lower-case; kConflict
  // when the tenant already has a user of that kind with that email. Audited as "user.created"
  // (user id, kind and role; no email, no hash).
  Result<storage::User> createUser(const Actor& actor,
                                   std::string_view tenant_id,
                                   storage::User user);

  // --- audit ---
  Result<void> audit(const Actor& actor,
                     std::string_view tenant_id,
                     std::string_view action,
                     std::string details_json);

  // ==== Console, workspace and white-label state (used by the HTTP APIs, src/api) ==========
  // Same rules as above: validated, audited, never a secret in an audit entry. Tenant-owned
  // records are addressed by (tenant, id), so an id of another tenant is kNotFound.

  // --- accounts: console admins (kind "admin") and workspace users ("end_user") ---
  // `user.password_hash` is an Argon2id hash made by the caller (hashing is slow), or an
  // invitation marker for an admin who has not accepted yet.
  Result<storage::User> createUser(const Actor& actor, storage::User user);
  // Replaces display name, role and disabled; disabling ends the user's sessions in the store.
  Result<storage::User> updateUser(const Actor& actor, const storage::User& user);
  Result<void> setUserPassword(const Actor& actor,
                               std::string_view tenant_id,
                               std::string_view user_id,
                               std::string_view password_hash);
  // Deletes the account (its sessions and conversations go with it).
  Result<void> deleteUser(const Actor& actor, std::string_view tenant_id, std::string_view user_id);

  // --- custom domains (validated by the caller: whitelabel::validateCustomDomain) ---
  Result<storage::Domain> addDomain(const Actor& actor,
                                    std::string_view tenant_id,
                                    std::string_view host,
                                    std::string_view verification_token);
  Result<storage::Domain> setDomainStatus(const Actor& actor,
                                          std::string_view tenant_id,
                                          std::string_view host,
                                          storage::DomainStatus status);
  Result<void> removeDomain(const Actor& actor, std::string_view tenant_id, std::string_view host);

  // --- branding (validated by the caller: whitelabel::validateBranding / AssetValidator) ---
  // The tenant's branding, or the defaults (its display name, platform colours) when unset.
  Result<storage::Branding> branding(std::string_view tenant_id);
  Result<storage::Branding> setBranding(const Actor& actor, storage::Branding branding);
  // Stores an asset (content-addressed) and makes it the tenant's logo or favicon.
  Result<storage::Branding> setBrandAsset(const Actor& actor,
                                          std::string_view tenant_id,
                                          bool favicon,
                                          std::string_view content_type,
                                          std::string_view bytes);

  // --- system prompt versions ---
  Result<storage::PromptVersion> createPrompt(const Actor& actor, storage::PromptVersion draft);
  // Refuses (kUnprocessable) a version whose recorded evaluation failed; a version never
  // evaluated may be activated.
  Result<storage::PromptVersion> activatePrompt(const Actor& actor,
                                                std::string_view tenant_id,
                                                std::string_view prompt_id);
  Result<storage::PromptVersion> rollbackPrompt(const Actor& actor, std::string_view tenant_id);
  // Stores the evaluation report of a version (the prompt repository's gate), replacing an
  // earlier one whatever the version's status; audited as "prompt.evaluated" with the version
  // and the verdict (never the report: it quotes replies). kNotFound for a version that is not
  // the tenant's. No change-feed row: the request path does not read evaluations.
  Result<void> recordPromptEval(const Actor& actor,
                                std::string_view tenant_id,
                                std::string_view prompt_id,
                                std::string_view eval_json,
                                bool passed);

  // --- JWT verification keys. An HS256 secret is sealed in the vault as a credential of
  // provider "jwt-hs256" owned by the same tenant; RS256/ES256 keys are public (PEM or JWKS). ---
  Result<storage::JwtKey> addJwtKey(const Actor& actor,
                                    storage::JwtKey key,
                                    const SecretBytes* hs256_secret);
  Result<void> deleteJwtKey(const Actor& actor, std::string_view tenant_id, std::string_view id);

  // --- alerts ---
  Result<void> acknowledgeAlert(const Actor& actor,
                                std::string_view tenant_id,
                                std::string_view alert_id);

 private:
  Result<storage::Tenant> requireTenant(std::string_view tenant_id);

  storage::Stores& stores_;
  crypto::Vault& vault_;
  const crypto::KeyHasher& hasher_;
  crypto::RandomSource& random_;
  const Clock& clock_;
  Logger& log_;
};

}  // namespace livery::control
