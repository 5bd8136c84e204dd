#pragma once

// Tenants. Every mutation bumps `revision` and records a "tenant" change in the same
// transaction. Thread-safe; see store_common.hpp for conventions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class TenantStore {
 public:
  TenantStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Inserts with revision 1 (id generated if empty). kConflict on a duplicate slug or id, or a
  // plan_id that does not exist.
  [[nodiscard]] Result<Tenant> create(Tenant tenant);
  [[nodiscard]] Result<Tenant> get(std::string_view id);
  [[nodiscard]] Result<Tenant> getBySlug(std::string_view slug);
  // Ordered by id, keyset-paged.
  [[nodiscard]] Result<std::vector<Tenant>> list(const Page& page);
  [[nodiscard]] Result<std::uint64_t> count();
  // Compare-and-set: replaces slug, display_name, plan_id, overrides, mock_response_enabled
  // and webhook_url if the stored revision is `expected_revision` (else kConflict); status and
  // active prompt have their own calls. Returns the tenant with its new revision.
  [[nodiscard]] Result<Tenant> update(const Tenant& tenant, std::int64_t expected_revision);
  // Suspends (reason kept for the operator console) / resumes; idempotent, bumps revision.
  [[nodiscard]] Result<Tenant> suspend(std::string_view id, std::string_view reason);
  [[nodiscard]] Result<Tenant> resume(std::string_view id);
  // Deletes the tenant and everything it owns (keys, credentials, domains, branding, assets,
  // prompts, routes, users, sessions, conversations). The usage ledger, alerts and the audit
  // log are kept: they are records, not configuration.
  [[nodiscard]] Result<void> remove(std::string_view id);

 private:
  Result<Tenant> setStatus(std::string_view id, TenantStatus status, std::string_view reason);

  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
