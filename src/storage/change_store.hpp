#pragma once

// The change feed: one row per state change that in-memory indexes (on this node, on other
// nodes, or in a server when the CLI changed the store) must pick up. Readers remember the
// last seq they applied and poll since(seq); a periodic full reload is their safety net.
//
// Ordering guarantee: seq order is commit order. Every transaction that records a change
// takes the change-feed lock first (inChangeTransaction), so a reader never sees seq N+1
// committed while N is still in flight and can never skip a change. On PostgreSQL the insert
// also sends NOTIFY livery_changes (payload: the seq), delivered at commit, for listeners that
// want to wake up sooner than their poll interval.
//
// The stores in this folder record their own changes in the same transaction as the change
// itself (a transactional outbox): tenant, plan, api_key, credential, jwt_key, domain,
// branding, prompt, route. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/lock_keys.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class ChangeStore {
 public:
  ChangeStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Appends a change (ts 0: now) in its own transaction; returns its seq.
  [[nodiscard]] Result<std::int64_t> append(const Change& change);
  // Highest seq so far (0 when empty). Take it BEFORE a full reload, then poll since() it.
  [[nodiscard]] Result<std::int64_t> maxSeq();
  // Changes with seq > `seq`, oldest first, at most `limit` (clamped to kMaxPageSize).
  [[nodiscard]] Result<std::vector<Change>> since(std::int64_t seq, std::size_t limit);
  // Deletes changes older than `ts` (retention); returns how many.
  [[nodiscard]] Result<std::int64_t> pruneBefore(Millis ts);

 private:
  Database& db_;
  const Clock& clock_;
};

// Records a change inside the caller's transaction, which must have been opened with
// inChangeTransaction(). Returns the seq.
[[nodiscard]] Result<std::int64_t> recordChange(Connection& conn,
                                                std::string_view kind,
                                                std::string_view entity_id,
                                                std::string_view tenant_id,
                                                Millis ts);

// Runs fn(Connection&) -> Result<T> in a transaction that may call recordChange(): the
// change-feed lock is taken as the transaction's first statement, so every such transaction
// acquires its locks in the same order (no deadlocks) and commits in seq order.
template <class F>
auto inChangeTransaction(Database& db, F&& fn) -> std::invoke_result_t<F&, Connection&> {
  return db.inTransaction([&fn](Connection& conn) -> std::invoke_result_t<F&, Connection&> {
    if (auto locked = conn.serializeOn(kChangeFeedLock); !locked) {
      return locked.error();
    }
    return fn(conn);
  });
}

}  // namespace livery::storage
