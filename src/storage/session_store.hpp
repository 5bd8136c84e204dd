#pragma once

// Console and workspace sessions, keyed by the HMAC of the cookie value (never the cookie).
// Thread-safe; see store_common.hpp for conventions.

#include <cstdint>
#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class SessionStore {
 public:
  SessionStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict on a duplicate token hash. created_at 0: now.
  [[nodiscard]] Result<Session> insert(Session session);
  // Cookie authentication (global: the hash identifies the session). An expired session is
  // kNotFound.
  [[nodiscard]] Result<Session> getByHash(std::span<const unsigned char> token_hash);
  // Logout; idempotent.
  [[nodiscard]] Result<void> remove(std::span<const unsigned char> token_hash);
  // Ends every session of a user; returns how many.
  [[nodiscard]] Result<std::int64_t> removeForUser(std::string_view tenant_id,
                                                   std::string_view user_id);
  // Deletes expired sessions; returns how many.
  [[nodiscard]] Result<std::int64_t> pruneExpired();

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
