#include "storage/asset_store.hpp"

#include "storage/codec.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

Result<Asset> AssetStore::put(std::string_view tenant_id,
                              std::string_view content_type,
                              std::string_view bytes) {
  if (tenant_id.empty() || content_type.empty()) {
    return fail(ErrorCode::kBadRequest, "an asset needs a tenant and a content type");
  }
  if (bytes.size() > max_bytes_) {
    return fail(ErrorCode::kPayloadTooLarge, "asset is too large");
  }
  const std::string hash = sha256Hex(bytes);
  if (hash.empty()) {
    return fail(ErrorCode::kInternal, "storage error", "sha256 failed");
  }
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) -> Result<Asset> {
    auto n = conn.exec(
        "INSERT INTO assets (tenant_id, hash, content_type, bytes, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, hash) DO NOTHING",
        {tenant_id, hash, content_type, Blob::of(bytes), now});
    if (!n) {
      return n.error();
    }
    auto row = conn.queryOne(
        "SELECT content_type, created_at FROM assets WHERE tenant_id = ? AND hash = ?",
        {tenant_id, hash},
        "asset not found");
    if (!row) {
      return row.error();
    }
    return Asset{.tenant_id = std::string(tenant_id),
                 .hash = hash,
                 .content_type = row->text(0),
                 .bytes = std::string(bytes),
                 .created_at = row->int64(1)};
  });
}

Result<Asset> AssetStore::get(std::string_view tenant_id, std::string_view hash) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT tenant_id, hash, content_type, bytes, created_at FROM assets "
                    "WHERE tenant_id = ? AND hash = ?",
                    {tenant_id, hash},
                    "asset",
                    [](const Row& row) -> Result<Asset> {
                      return Asset{.tenant_id = row.text(0),
                                   .hash = row.text(1),
                                   .content_type = row.text(2),
                                   .bytes = row.text(3),
                                   .created_at = row.int64(4)};
                    });
  });
}

Result<std::vector<Asset>> AssetStore::list(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        "SELECT tenant_id, hash, content_type, created_at FROM assets "
                        "WHERE tenant_id = ? ORDER BY hash LIMIT ?",
                        {tenant_id, clampLimit(kMaxPageSize)},
                        [](const Row& row) -> Result<Asset> {
                          return Asset{.tenant_id = row.text(0),
                                       .hash = row.text(1),
                                       .content_type = row.text(2),
                                       .created_at = row.int64(3)};
                        });
  });
}

Result<void> AssetStore::remove(std::string_view tenant_id, std::string_view hash) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM assets WHERE tenant_id = ? AND hash = ?", {tenant_id, hash});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("asset");
    }
    return {};
  });
}

}  // namespace livery::storage
