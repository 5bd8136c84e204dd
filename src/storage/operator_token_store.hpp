#pragma once

// Operator API tokens (stored as keyed hashes only). Not tenant-scoped. Thread-safe; see
// store_common.hpp for conventions.

#include <span>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class OperatorTokenStore {
 public:
  OperatorTokenStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict on a duplicate hash or id.
  [[nodiscard]] Result<OperatorToken> insert(OperatorToken token);
  // Looks a token up by its hash (revoked tokens included: check revoked_at).
  [[nodiscard]] Result<OperatorToken> getByHash(std::span<const unsigned char> hash);
  [[nodiscard]] Result<std::vector<OperatorToken>> list();
  // Idempotent; kNotFound if missing.
  [[nodiscard]] Result<void> revoke(std::string_view id);
  [[nodiscard]] Result<void> touchLastUsed(std::string_view id, Millis at);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
