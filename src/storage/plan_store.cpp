#include "storage/plan_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, name, monthly_token_quota, rpm, tpm, max_api_keys, features, created_at, updated_at";

Result<Plan> fromRow(const Row& row) {
  Plan p;
  p.id = row.text(0);
  p.name = row.text(1);
  p.monthly_token_quota = row.uint64(2);
  p.rpm = static_cast<std::uint32_t>(row.uint64(3));
  p.tpm = static_cast<std::uint32_t>(row.uint64(4));
  p.max_api_keys = static_cast<std::uint32_t>(row.uint64(5));
  auto features = decodeStringList(row.text(6));
  if (!features) {
    return features.error();
  }
  p.features = std::move(*features);
  p.created_at = row.int64(7);
  p.updated_at = row.int64(8);
  return p;
}

}  // namespace

Result<Plan> PlanStore::insert(Plan plan) {
  if (plan.id.empty()) {
    return fail(ErrorCode::kBadRequest, "a plan needs an id");
  }
  const Millis now = clock_.unixMillis();
  plan.created_at = plan.created_at != 0 ? plan.created_at : now;
  plan.updated_at = plan.created_at;
  const std::string features = encodeStringList(plan.features);
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "INSERT INTO plans (id, name, monthly_token_quota, rpm, tpm, max_api_keys, features, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {plan.id,
         plan.name,
         plan.monthly_token_quota,
         plan.rpm,
         plan.tpm,
         plan.max_api_keys,
         features,
         plan.created_at,
         plan.updated_at});
    if (!n) {
      return n.error();
    }
    if (auto c = recordChange(conn, "plan", plan.id, "", now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return plan;
}

Result<Plan> PlanStore::update(const Plan& plan) {
  const Millis now = clock_.unixMillis();
  const std::string features = encodeStringList(plan.features);
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<Plan> {
    auto row = conn.queryOne(
        "UPDATE plans SET name = ?, monthly_token_quota = ?, rpm = ?, tpm = ?, max_api_keys = ?, "
        "features = ?, updated_at = ? WHERE id = ? RETURNING " +
            std::string(kColumns),
        {plan.name,
         plan.monthly_token_quota,
         plan.rpm,
         plan.tpm,
         plan.max_api_keys,
         features,
         now,
         plan.id},
        "plan not found");
    if (!row) {
      return row.error();
    }
    if (auto c = recordChange(conn, "plan", plan.id, "", now); !c) {
      return c.error();
    }
    return fromRow(*row);
  });
}

Result<Plan> PlanStore::get(std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT " + std::string(kColumns) + " FROM plans WHERE id = ?",
                    {id},
                    "plan",
                    fromRow);
  });
}

Result<std::vector<Plan>> PlanStore::list() {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        "SELECT " + std::string(kColumns) + " FROM plans ORDER BY id LIMIT ?",
                        {clampLimit(kMaxPageSize)},
                        fromRow);
  });
}

Result<void> PlanStore::remove(std::string_view id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM plans WHERE id = ?", {id});
    if (!n) {
      if (n.error().code == ErrorCode::kConflict) {
        return fail(ErrorCode::kConflict, "plan is in use by tenants", n.error().log_detail);
      }
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("plan");
    }
    if (auto c = recordChange(conn, "plan", id, "", now); !c) {
      return c.error();
    }
    return {};
  });
}

}  // namespace livery::storage
