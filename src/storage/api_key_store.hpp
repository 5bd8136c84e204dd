#pragma once

// Gateway API keys, stored as keyed hashes (never the key). Inserts and revocations record an
// "api_key" change in the same transaction, so every node's in-memory key index learns about
// them. Thread-safe; see store_common.hpp for conventions.
//
// "Active" means not revoked and not expired (expires_at 0 or in the future).

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

// One buffered "this key was just used" observation (the hot path batches them).
struct KeyTouch {
  std::string tenant_id;
  std::string key_id;
  Millis at = 0;
};

class ApiKeyStore {
 public:
  ApiKeyStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict on a duplicate hash or id; kConflict if the tenant does not exist.
  [[nodiscard]] Result<ApiKey> insert(ApiKey key);
  // Bulk load, all or nothing, in one transaction (multi-row inserts). Returns the count.
  [[nodiscard]] Result<std::size_t> insertMany(std::span<const ApiKey> keys);
  // The authentication lookup (global: the hash identifies the key and thus its tenant).
  // Revoked and expired keys are returned too; the caller decides.
  [[nodiscard]] Result<ApiKey> getByHash(std::span<const unsigned char> hash);
  [[nodiscard]] Result<ApiKey> get(std::string_view tenant_id, std::string_view id);
  // The tenant's keys ordered by id, keyset-paged (revoked ones included).
  [[nodiscard]] Result<std::vector<ApiKey>> list(std::string_view tenant_id, const Page& page);
  // Idempotent (a second revoke keeps the first revoked_at); kNotFound if the tenant has no
  // such key.
  [[nodiscard]] Result<void> revoke(std::string_view tenant_id, std::string_view id);
  // Applies buffered last-used times in one transaction; a time never moves backwards.
  // Returns the number of keys updated.
  [[nodiscard]] Result<std::size_t> touchLastUsed(std::span<const KeyTouch> touches);
  [[nodiscard]] Result<std::uint64_t> countActive(std::string_view tenant_id);
  // Streams every active key of every tenant to `fn` (return false to stop), in id order, in
  // pages of `page_size` (bounded memory, no long-running transaction). For loading the
  // in-memory index: read ChangeStore::maxSeq() first, then apply changes since it. Returns
  // the number of keys delivered.
  [[nodiscard]] Result<std::size_t> forEachActive(const std::function<bool(ApiKey&&)>& fn,
                                                  std::size_t page_size = 5000);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
