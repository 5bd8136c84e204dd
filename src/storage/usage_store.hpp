#pragma once

// The usage ledger: one row per request, written in batches by the metering flusher and
// idempotent on request_id (a replayed batch inserts nothing twice: ON CONFLICT DO NOTHING),
// so delivery can be at-least-once and the ledger still exactly-once. Reads are scoped by a
// UsageFilter that must name a tenant unless it explicitly asks for all tenants (operator
// views), so a forgotten tenant id cannot silently widen a tenant's query. Thread-safe; see
// store_common.hpp for conventions.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
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

struct UsageFilter {
  std::string tenant_id;     // required unless all_tenants
  bool all_tenants = false;  // operator scope: every tenant
  std::string api_key_id;    // optional filters (empty: any)
  std::string end_user;
  std::string model;
  Millis from = 0;  // created_at >= from (0: unbounded)
  Millis to = 0;    // created_at < to (0: unbounded)
};

// Position in a (created_at, request_id)-ordered listing; the default starts at the beginning.
struct UsageCursor {
  Millis created_at = 0;
  std::string request_id;
};

struct UsagePage {
  std::vector<UsageRecord> records;
  std::optional<UsageCursor> next;  // set when there may be more
};

enum class UsageGroup { kTenant, kApiKey, kEndUser, kModel, kHour, kDay };

class UsageStore {
 public:
  UsageStore(Database& db, const Clock& clock);

  // Inserts the records in one transaction (multi-row statements); records whose request_id
  // is already in the ledger are skipped. Returns how many were new. A record with created_at
  // 0 is stamped with the current time. kBadRequest for a record without request_id/tenant.
  [[nodiscard]] Result<std::size_t> insertBatch(std::span<const UsageRecord> records);
  [[nodiscard]] Result<std::uint64_t> count(const UsageFilter& filter);
  [[nodiscard]] Result<UsageRecord> get(std::string_view tenant_id, std::string_view request_id);
  // Operator lookup across tenants.
  [[nodiscard]] Result<UsageRecord> getAnyTenant(std::string_view request_id);
  // Records matching `filter` in (created_at, request_id) order after `after`, at most `limit`
  // (clamped to kMaxPageSize). Feed `next` back in to page through a CSV export.
  [[nodiscard]] Result<UsagePage> list(const UsageFilter& filter,
                                       const UsageCursor& after,
                                       std::size_t limit);
  // Sums grouped by `group` (key: tenant id, key id, end user, model, or the bucket start in
  // Unix ms for kHour/kDay, UTC), ordered by key, at most `max_groups`.
  [[nodiscard]] Result<std::vector<UsageTotals>> totals(const UsageFilter& filter,
                                                        UsageGroup group,
                                                        std::size_t max_groups = kMaxPageSize);

  // ---- quota bootstrap: prompt + completion tokens since `since` (e.g. the month start) ----
  [[nodiscard]] Result<std::uint64_t> tenantTokensSince(std::string_view tenant_id, Millis since);
  [[nodiscard]] Result<std::uint64_t> keyTokensSince(std::string_view tenant_id,
                                                     std::string_view api_key_id,
                                                     Millis since);
  // Every tenant's (group kTenant) or every key's (kApiKey) token sum since `since`, streamed
  // (unbounded: one callback per tenant or key). UsageTotals::key is the tenant or key id and
  // prompt_tokens/completion_tokens carry the sums. Returns the number of groups.
  [[nodiscard]] Result<std::size_t> forEachTokenSum(
      UsageGroup group, Millis since, const std::function<void(const UsageTotals&)>& fn);

 private:
  Database& db_;
  const Clock& clock_;
  // insert_sql_[k]: the INSERT for 2^k rows (k = 0 … kInsertChunkLevels - 1), built once.
  static constexpr std::size_t kInsertChunkLevels = 7;  // up to 64 rows (1,280 parameters)
  std::array<std::string, kInsertChunkLevels> insert_sql_;
};

}  // namespace livery::storage
