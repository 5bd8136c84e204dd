#pragma once

// Workspace conversations, owned by one end user of one tenant: every call takes both the
// tenant and the user, so neither another tenant nor another user of the same tenant can read
// or change them. messages_json is bounded (kPayloadTooLarge above max_bytes). Thread-safe;
// see store_common.hpp for conventions.

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class ConversationStore {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 4 * 1024 * 1024;

  ConversationStore(Database& db, const Clock& clock, std::size_t max_bytes = kDefaultMaxBytes)
      : db_(db), clock_(clock), max_bytes_(max_bytes) {}

  // kConflict for an unknown tenant or user.
  [[nodiscard]] Result<Conversation> insert(Conversation conversation);
  [[nodiscard]] Result<Conversation> get(std::string_view tenant_id,
                                         std::string_view user_id,
                                         std::string_view id);
  // The user's conversations, most recently updated first, at most `limit`. messages_json is
  // left empty in listings (load one with get()).
  [[nodiscard]] Result<std::vector<Conversation>> list(std::string_view tenant_id,
                                                       std::string_view user_id,
                                                       std::size_t limit = 50);
  // Replaces title, model and messages; bumps updated_at.
  [[nodiscard]] Result<Conversation> update(const Conversation& conversation);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id,
                                    std::string_view user_id,
                                    std::string_view id);

 private:
  Database& db_;
  const Clock& clock_;
  std::size_t max_bytes_;
};

}  // namespace livery::storage
