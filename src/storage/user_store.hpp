#pragma once

// Console administrators and workspace end users of a tenant (User::kind). Emails are stored
// lower-case and are unique per (tenant, kind). Disabling or removing a user ends their
// sessions in the same transaction. Thread-safe; see store_common.hpp for conventions.

#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class UserStore {
 public:
  UserStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict on a duplicate (tenant, kind, email) or an unknown tenant.
  [[nodiscard]] Result<User> insert(User user);
  [[nodiscard]] Result<User> get(std::string_view tenant_id, std::string_view id);
  [[nodiscard]] Result<User> findByEmail(std::string_view tenant_id,
                                         std::string_view kind,
                                         std::string_view email);
  // The tenant's users of `kind` ("" for all kinds), ordered by id, keyset-paged.
  [[nodiscard]] Result<std::vector<User>> list(std::string_view tenant_id,
                                               std::string_view kind,
                                               const Page& page);
  // Replaces display_name, role and disabled (not email, password or kind).
  [[nodiscard]] Result<User> update(const User& user);
  [[nodiscard]] Result<void> setPasswordHash(std::string_view tenant_id,
                                             std::string_view id,
                                             std::string_view password_hash);
  [[nodiscard]] Result<void> touchLogin(std::string_view tenant_id, std::string_view id, Millis at);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
