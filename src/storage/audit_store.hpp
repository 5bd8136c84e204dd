#pragma once

// The tamper-evident audit log. append() assigns seq = previous + 1 and chains
//   hash = hex SHA-256( F(seq) | F(ts) | F(actor) | F(tenant_id) | F(action) | F(details) |
//                       F(prev_hash) )
// where F(x) = <decimal byte length of x> ":" x and "|" separates fields (the length prefix
// makes the encoding unambiguous: no choice of field contents can shift a boundary), seq and
// ts in decimal, prev_hash of seq 1 = 64 zeros. The read of the previous entry and the insert
// happen in one transaction serialised against other appenders, so the chain never forks.
//
// verify() walks the whole chain in seq order and reports the first entry that does not
// check out: a gap in seq (deleted row), a prev_hash that is not the previous hash (edited or
// re-hashed row), or a hash that does not match the content (edited row). Removing the newest
// entries cannot be detected from inside the database; anchor maxSeq/hash elsewhere for that.
// details_json must never contain a secret. Thread-safe; see store_common.hpp for conventions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

struct AuditVerification {
  bool ok = true;
  std::int64_t checked = 0;           // entries verified
  std::int64_t first_broken_seq = 0;  // 0 when ok
  std::string reason;                 // "gap", "prev_hash", "hash" (empty when ok)
};

class AuditStore {
 public:
  AuditStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Appends (actor, tenant_id, action, details_json and ts are taken from `entry`; ts 0:
  // now) and returns the stored entry with its seq and hashes.
  [[nodiscard]] Result<AuditEntry> append(AuditEntry entry);
  [[nodiscard]] Result<AuditVerification> verify();
  // The tenant's entries with seq > after_seq, ascending, at most `limit`.
  [[nodiscard]] Result<std::vector<AuditEntry>> list(std::string_view tenant_id,
                                                     std::int64_t after_seq,
                                                     std::size_t limit);
  // Every entry (operator view).
  [[nodiscard]] Result<std::vector<AuditEntry>> listAll(std::int64_t after_seq, std::size_t limit);
  // Newest first, for the consoles: entries with seq < before_seq (0: no bound), at most
  // `limit`; the tenant's only, or every entry when `all_tenants` (operator view).
  [[nodiscard]] Result<std::vector<AuditEntry>> listRecent(std::string_view tenant_id,
                                                           bool all_tenants,
                                                           std::int64_t before_seq,
                                                           std::size_t limit);

  // The chain hash of an entry (its `hash` field is ignored). Exposed for tests and for
  // external verifiers.
  static std::string chainHash(const AuditEntry& entry);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
