#pragma once

// Model routes: a tenant's alias → ordered deployments, and operator defaults (tenant_id "")
// inherited by every tenant. A tenant route may only use the tenant's own credentials
// (another tenant's credential id is refused as kNotFound, like an unknown one); operator
// defaults name no credential (each tenant's own is picked at request time). Changes are
// recorded as "route" (entity: the model). Thread-safe; see store_common.hpp for conventions.

#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

class RouteStore {
 public:
  RouteStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Inserts or replaces (tenant_id, model). kNotFound for an unknown tenant or a credential
  // that is not the tenant's; kBadRequest for an operator default that names a credential.
  [[nodiscard]] Result<Route> upsert(Route route);
  // Exactly (tenant_id, model); tenant_id "" reads an operator default.
  [[nodiscard]] Result<Route> get(std::string_view tenant_id, std::string_view model);
  // The route that applies to the tenant: its own, else the operator default.
  [[nodiscard]] Result<Route> resolve(std::string_view tenant_id, std::string_view model);
  // The tenant's own routes ("" for the operator defaults), ordered by model.
  [[nodiscard]] Result<std::vector<Route>> list(std::string_view tenant_id);
  // Every route of every tenant, ordered by (tenant_id, model); `after_tenant`/`after_model`
  // continue after the last row of the previous page. For index loading.
  [[nodiscard]] Result<std::vector<Route>> listAll(std::size_t limit,
                                                   std::string_view after_tenant = {},
                                                   std::string_view after_model = {});
  [[nodiscard]] Result<void> remove(std::string_view tenant_id, std::string_view model);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
