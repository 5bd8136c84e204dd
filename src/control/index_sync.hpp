#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"

namespace livery {
class Clock;
class Logger;
}  // namespace livery
namespace livery::storage {
struct Stores;
}
namespace livery::tenancy {
class TenantDirectory;
class KeyIndex;
}  // namespace livery::tenancy
namespace livery::crypto {
class DekCache;
}

namespace livery::control {

struct LoadStats {
  std::size_t tenants = 0;
  std::size_t keys = 0;
  std::size_t credentials = 0;
  std::chrono::milliseconds took{0};
  // (tenant id, key id) of every active key with its own monthly quota: the in-process limiter
  // re-seeds their month-to-date usage from the ledger at start.
  std::vector<std::pair<std::string, std::string>> keys_with_quota;
};

// Keeps the hot-path indexes (tenant directory, key index) in step with the store.
//
// loadAll() builds them at start from a few paged scans (no per-tenant queries). Afterwards the
// change feed (storage ChangeStore: one row per committed mutation, in commit order) is polled:
// each change rebuilds the affected tenant snapshot or key entry from the store, so the CLI, the
// admin API on another node, or a second process all reach every node within one poll interval.
// API handlers on this node call refreshTenant()/refreshKey() right after their own mutation so
// the next request sees it. A periodic full reload is the safety net against a missed change.
//
// Thread-safety: every method may be called concurrently; store calls block, so call from the
// blocking pool or the sync thread, never from an I/O thread.
class IndexSync {
 public:
  IndexSync(storage::Stores& stores,
            tenancy::TenantDirectory& directory,
            tenancy::KeyIndex& keys,
            crypto::DekCache* dek_cache,
            const Clock& clock,
            Logger& log);
  ~IndexSync();
  IndexSync(const IndexSync&) = delete;
  IndexSync& operator=(const IndexSync&) = delete;

  Result<LoadStats> loadAll();
  Result<void> refreshTenant(std::string_view tenant_id);
  Result<void> refreshKey(std::string_view tenant_id, std::string_view key_id);
  // Applies every change after the last one seen; returns how many were applied.
  Result<std::size_t> poll();
  std::int64_t lastSeq() const { return last_seq_.load(std::memory_order_relaxed); }

  // Background polling every `interval`, with a full reload every `full_resync`.
  void start(std::chrono::milliseconds interval, std::chrono::milliseconds full_resync);
  void stop();

 private:
  struct Shared;  // plans and operator default routes, cached for snapshot building
  Result<void> reloadShared();
  Result<void> refreshTenantsOnPlan(std::string_view plan_id);
  Result<void> refreshAllTenants();

  storage::Stores& stores_;
  tenancy::TenantDirectory& directory_;
  tenancy::KeyIndex& keys_;
  crypto::DekCache* dek_cache_;
  const Clock& clock_;
  Logger& log_;

  mutable std::mutex shared_mu_;  // guards plans_ and default_routes_
  std::map<std::string, storage::Plan, std::less<>> plans_;
  std::vector<storage::Route> default_routes_;

  std::mutex poll_mu_;  // serialises poll() and loadAll() (one reader of the feed at a time)
  // Serialises refreshTenant() and refreshKey(), each from its store reads to its install. Without
  // it, a poll's refresh that read a tenant before an API mutation could install that older
  // snapshot after the API's own refresh, and the next request would not see the mutation (a
  // revoked key accepted) until the following poll. Taken after poll_mu_, never before.
  std::mutex refresh_mu_;
  std::atomic<std::int64_t> last_seq_{0};

  std::mutex thread_mu_;  // guards stopping_ for the condition variable
  std::condition_variable thread_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace livery::control
