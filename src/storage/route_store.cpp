#include "storage/route_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kSelect =
    "SELECT tenant_id, model, deployments, updated_at FROM routes ";

Result<Route> fromRow(const Row& row) {
  auto deployments = decodeDeployments(row.text(2));
  if (!deployments) {
    return deployments.error();
  }
  return Route{.tenant_id = row.text(0),
               .model = row.text(1),
               .deployments = std::move(*deployments),
               .updated_at = row.int64(3)};
}

}  // namespace

Result<Route> RouteStore::upsert(Route route) {
  if (route.model.empty()) {
    return fail(ErrorCode::kBadRequest, "a route needs a model name");
  }
  const Millis now = clock_.unixMillis();
  route.updated_at = now;
  const std::string deployments = encodeDeployments(route.deployments);
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    if (!route.tenant_id.empty()) {
      auto tenant = conn.query("SELECT 1 FROM tenants WHERE id = ?", {route.tenant_id});
      if (!tenant) {
        return tenant.error();
      }
      if (tenant->empty()) {
        return sql::notFound("tenant");
      }
    }
    for (const auto& d : route.deployments) {
      if (d.credential_id.empty()) {
        continue;
      }
      if (route.tenant_id.empty()) {
        return fail(ErrorCode::kBadRequest, "operator default routes cannot name a credential");
      }
      auto own = conn.query("SELECT 1 FROM credentials WHERE tenant_id = ? AND id = ?",
                            {route.tenant_id, d.credential_id});
      if (!own) {
        return own.error();
      }
      if (own->empty()) {
        return fail(ErrorCode::kNotFound, "credential not found").withParam(d.name);
      }
    }
    auto n = conn.exec(
        "INSERT INTO routes (tenant_id, model, deployments, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, model) DO UPDATE SET deployments = excluded.deployments, "
        "updated_at = excluded.updated_at",
        {route.tenant_id, route.model, deployments, route.updated_at});
    if (!n) {
      return n.error();
    }
    if (auto c = recordChange(conn, "route", route.model, route.tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return route;
}

Result<Route> RouteStore::get(std::string_view tenant_id, std::string_view model) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    std::string(kSelect) + "WHERE tenant_id = ? AND model = ?",
                    {tenant_id, model},
                    "route",
                    fromRow);
  });
}

Result<Route> RouteStore::resolve(std::string_view tenant_id, std::string_view model) {
  // A tenant id sorts after "", so DESC puts the tenant's own route first.
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    std::string(kSelect) +
                        "WHERE tenant_id IN (?, '') AND model = ? ORDER BY tenant_id DESC LIMIT 1",
                    {tenant_id, model},
                    "route",
                    fromRow);
  });
}

Result<std::vector<Route>> RouteStore::list(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        std::string(kSelect) + "WHERE tenant_id = ? ORDER BY model LIMIT ?",
                        {tenant_id, clampLimit(kMaxPageSize)},
                        fromRow);
  });
}

Result<std::vector<Route>> RouteStore::listAll(std::size_t limit,
                                               std::string_view after_tenant,
                                               std::string_view after_model) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        std::string(kSelect) +
                            "WHERE tenant_id > ? OR (tenant_id = ? AND model > ?) "
                            "ORDER BY tenant_id, model LIMIT ?",
                        {after_tenant, after_tenant, after_model, clampLimit(limit)},
                        fromRow);
  });
}

Result<void> RouteStore::remove(std::string_view tenant_id, std::string_view model) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM routes WHERE tenant_id = ? AND model = ?", {tenant_id, model});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("route");
    }
    if (auto c = recordChange(conn, "route", model, tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
}

}  // namespace livery::storage
