#pragma once

// Custom domains: host → tenant. Hosts are stored lower-case and are globally unique (one
// tenant per host). Status moves pending → verified → active; setStatus() enforces it:
//   to verified: from pending (sets verified_at) or active (deactivation keeps verification);
//   to active:   only from verified;
//   to pending:  from any state (re-verification; clears verified_at).
// Asking for the current status is a no-op. Changes are recorded as "domain". Thread-safe;
// see store_common.hpp for conventions.

#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class DomainStore {
 public:
  DomainStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict if the host is taken (by any tenant) or the tenant does not exist.
  [[nodiscard]] Result<Domain> insert(Domain domain);
  // Global lookup for request routing (Host header → tenant). Any status; the caller serves
  // only active domains.
  [[nodiscard]] Result<Domain> resolve(std::string_view host);
  [[nodiscard]] Result<Domain> get(std::string_view tenant_id, std::string_view host);
  [[nodiscard]] Result<std::vector<Domain>> list(std::string_view tenant_id);
  // Every domain of every tenant ordered by host, keyset-paged (index loading).
  [[nodiscard]] Result<std::vector<Domain>> listAll(const Page& page);
  // kConflict for a transition the rules above forbid; kNotFound if the tenant has no such
  // host.
  [[nodiscard]] Result<Domain> setStatus(std::string_view tenant_id,
                                         std::string_view host,
                                         DomainStatus status);
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view host);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
