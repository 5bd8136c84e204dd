#pragma once

// Tenant provider credentials, stored only as AES-256-GCM envelopes (the plaintext key never
// reaches this layer). `revision` is the compare-and-set token for replace() and for the KEK
// rewrap (casUpdateEnvelope), so a rewrap racing a replace can never resurrect an old key.
// Inserts, replacements, rewraps and deletions record a "credential" change. Thread-safe; see
// store_common.hpp for conventions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class CredentialStore {
 public:
  CredentialStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Inserts with revision 1 (id generated if empty). kConflict on a duplicate id or an
  // unknown tenant.
  [[nodiscard]] Result<Credential> insert(Credential credential);
  [[nodiscard]] Result<Credential> get(std::string_view tenant_id, std::string_view id);
  // The tenant's credentials ordered by id (at most kMaxPageSize).
  [[nodiscard]] Result<std::vector<Credential>> list(std::string_view tenant_id);
  // Every tenant's credentials in id order, a page at a time (start-up index loading).
  [[nodiscard]] Result<std::vector<Credential>> listAll(const Page& page);
  // Compare-and-set: replaces provider, label, fingerprint, base_url, options_json and the
  // whole envelope when the stored revision is `expected_revision` (else kConflict), and
  // resets health to unknown. Returns the credential with its new revision.
  [[nodiscard]] Result<Credential> replace(const Credential& credential,
                                           std::int64_t expected_revision);
  // kConflict while a JWT key of the tenant references it (HS256 secret).
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view id);
  // Records the outcome of a validation or a live call. Does not change the revision.
  [[nodiscard]] Result<void> updateHealth(std::string_view tenant_id,
                                          std::string_view id,
                                          CredentialHealth health,
                                          std::string_view detail);
  [[nodiscard]] Result<void> touchLastUsed(std::string_view tenant_id,
                                           std::string_view id,
                                           Millis at);

  // ---- KEK rotation (operator maintenance, across tenants) ----
  // How many credentials are wrapped under KEK `kek_id` at `version` (`livery kms status`).
  [[nodiscard]] Result<std::uint64_t> countByKek(std::string_view kek_id, std::uint32_t version);
  // Credentials whose DEK is wrapped under a KEK version below `version`, ordered by id after
  // `after_id`. A rewrap loop calls it until empty: rewrapped rows drop out of the result, so
  // the loop can stop and resume at any point.
  [[nodiscard]] Result<std::vector<Credential>> listByKekVersionBelow(
      std::uint32_t version, std::size_t limit, std::string_view after_id = {});
  // Compare-and-set rewrap: swaps ONLY the wrapped DEK and the KEK version (ciphertext, nonce,
  // tag and kek_id are untouched) when the stored revision is `expected_revision`. kConflict if
  // the credential changed meanwhile (reload and rewrap again), kNotFound if it is gone.
  // Returns the new revision.
  [[nodiscard]] Result<std::int64_t> casUpdateEnvelope(std::string_view id,
                                                       std::int64_t expected_revision,
                                                       const Envelope& new_envelope);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
