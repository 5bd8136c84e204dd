#pragma once

// A tenant's branding (one row per tenant). Colours must be "#rrggbb" (kBadRequest otherwise:
// they are rendered into CSS). Changes are recorded as "branding". Thread-safe; see
// store_common.hpp for conventions.

#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class BrandingStore {
 public:
  BrandingStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Inserts or replaces the tenant's branding; kConflict if the tenant does not exist.
  [[nodiscard]] Result<Branding> upsert(Branding branding);
  // kNotFound when the tenant has none yet (the caller falls back to defaults).
  [[nodiscard]] Result<Branding> get(std::string_view tenant_id);
  // Every tenant's branding in tenant-id order, a page at a time (start-up index loading).
  [[nodiscard]] Result<std::vector<Branding>> listAll(const Page& page);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id);

 private:
  Database& db_;
  const Clock& clock_;
};

// True for "#rrggbb".
bool isHexColor(std::string_view s);

}  // namespace livery::storage
