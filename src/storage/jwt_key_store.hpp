#pragma once

// A tenant's JWT verification keys. `kid` is unique per tenant and only ever matched among the
// tenant's own keys; an HS256 key's secret is a credential of the SAME tenant (enforced by a
// composite foreign key: another tenant's credential id is refused with kConflict). Changes
// are recorded as "jwt_key". Thread-safe; see store_common.hpp for conventions.

#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class JwtKeyStore {
 public:
  JwtKeyStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict on a duplicate (tenant, kid), an unknown tenant, or an hmac_credential_id that
  // is not one of the tenant's credentials.
  [[nodiscard]] Result<JwtKey> insert(JwtKey key);
  [[nodiscard]] Result<JwtKey> get(std::string_view tenant_id, std::string_view id);
  [[nodiscard]] Result<JwtKey> findByKid(std::string_view tenant_id, std::string_view kid);
  // Ordered by kid (at most kMaxPageSize).
  [[nodiscard]] Result<std::vector<JwtKey>> list(std::string_view tenant_id);
  // Every tenant's JWT keys in id order, a page at a time (start-up index loading).
  [[nodiscard]] Result<std::vector<JwtKey>> listAll(const Page& page);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
