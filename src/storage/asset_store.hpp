#pragma once

// Branding assets (logos, favicons), content-addressed per tenant: the key is (tenant, hex
// SHA-256 of the bytes), computed here, so an asset is immutable and storing the same bytes
// twice is a no-op. Two tenants uploading identical bytes get two rows: nothing is shared
// across tenants. Sanitising the content (SVG) is the caller's job. Thread-safe; see
// store_common.hpp for conventions.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class AssetStore {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 1024 * 1024;

  AssetStore(Database& db, const Clock& clock, std::size_t max_bytes = kDefaultMaxBytes)
      : db_(db), clock_(clock), max_bytes_(max_bytes) {}

  // Stores the bytes (idempotent) and returns the asset, bytes included. kPayloadTooLarge
  // above max_bytes; kConflict if the tenant does not exist.
  [[nodiscard]] Result<Asset> put(std::string_view tenant_id,
                                  std::string_view content_type,
                                  std::string_view bytes);
  [[nodiscard]] Result<Asset> get(std::string_view tenant_id, std::string_view hash);
  // Metadata only (bytes left empty), ordered by hash.
  [[nodiscard]] Result<std::vector<Asset>> list(std::string_view tenant_id);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view hash);

 private:
  Database& db_;
  const Clock& clock_;
  std::size_t max_bytes_;
};

}  // namespace livery::storage
