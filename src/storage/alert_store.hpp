#pragma once

// Alerts raised for tenants (usage spikes, refused credentials) or the operator (tenant_id "").
// Thread-safe; see store_common.hpp for conventions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class AlertStore {
 public:
  AlertStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  [[nodiscard]] Result<Alert> insert(Alert alert);
  // The tenant's alerts ("" for operator-level ones), newest first, at most `limit`.
  [[nodiscard]] Result<std::vector<Alert>> list(std::string_view tenant_id,
                                                std::size_t limit = 100,
                                                bool unacknowledged_only = false);
  // Operator view across tenants, newest first.
  [[nodiscard]] Result<std::vector<Alert>> listAll(std::size_t limit = 100,
                                                   bool unacknowledged_only = false);
  // Idempotent; kNotFound if the tenant has no such alert.
  [[nodiscard]] Result<void> acknowledge(std::string_view tenant_id, std::string_view id);
  [[nodiscard]] Result<std::uint64_t> countUnacknowledged(std::string_view tenant_id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
