#pragma once

// Plans (operator-defined: quotas and limits tenants inherit). Not tenant-scoped. Changes are
// recorded in the change feed ("plan"). Thread-safe; see store_common.hpp for conventions.

#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

class PlanStore {
 public:
  PlanStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kConflict if a plan with this id exists.
  [[nodiscard]] Result<Plan> insert(Plan plan);
  // Replaces every field but id and created_at; kNotFound if missing.
  [[nodiscard]] Result<Plan> update(const Plan& plan);
  [[nodiscard]] Result<Plan> get(std::string_view id);
  // Every plan, ordered by id (at most kMaxPageSize).
  [[nodiscard]] Result<std::vector<Plan>> list();
  // kConflict while a tenant is on the plan; kNotFound if missing.
  [[nodiscard]] Result<void> remove(std::string_view id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
