#include "storage/tenant_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, slug, display_name, status, suspended_reason, plan_id, quota_override, rpm_override, "
    "tpm_override, max_api_keys_override, mock_response_enabled, webhook_url, active_prompt_id, "
    "created_at, updated_at, revision";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM tenants WHERE " + std::string(where);
}

template <class T>
std::optional<T> optionalColumn(const Row& row, std::size_t col) {
  if (row.isNull(col)) {
    return std::nullopt;
  }
  return static_cast<T>(row.uint64(col));
}

Result<Tenant> fromRow(const Row& row) {
  Tenant t;
  t.id = row.text(0);
  t.slug = row.text(1);
  t.display_name = row.text(2);
  auto status = parseTenantStatus(row.text(3));
  if (!status) {
    return fail(ErrorCode::kInternal, "storage error", "undecodable tenant status");
  }
  t.status = *status;
  t.suspended_reason = row.text(4);
  t.plan_id = row.text(5);
  t.overrides.monthly_token_quota = optionalColumn<std::uint64_t>(row, 6);
  t.overrides.rpm = optionalColumn<std::uint32_t>(row, 7);
  t.overrides.tpm = optionalColumn<std::uint32_t>(row, 8);
  t.overrides.max_api_keys = optionalColumn<std::uint32_t>(row, 9);
  t.mock_response_enabled = row.boolean(10);
  t.webhook_url = row.text(11);
  t.active_prompt_id = row.text(12);
  t.created_at = row.int64(13);
  t.updated_at = row.int64(14);
  t.revision = row.int64(15);
  return t;
}

}  // namespace

Result<Tenant> TenantStore::create(Tenant tenant) {
  tenant.id = sql::idOr(tenant.id, "tnt");
  const Millis now = clock_.unixMillis();
  tenant.created_at = tenant.created_at != 0 ? tenant.created_at : now;
  tenant.updated_at = tenant.created_at;
  tenant.revision = 1;
  const std::string status(toString(tenant.status));
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("INSERT INTO tenants (" + std::string(kColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {tenant.id,
                        tenant.slug,
                        tenant.display_name,
                        status,
                        tenant.suspended_reason,
                        sql::textOrNull(tenant.plan_id),
                        sql::optional(tenant.overrides.monthly_token_quota),
                        sql::optional(tenant.overrides.rpm),
                        sql::optional(tenant.overrides.tpm),
                        sql::optional(tenant.overrides.max_api_keys),
                        tenant.mock_response_enabled,
                        tenant.webhook_url,
                        tenant.active_prompt_id,
                        tenant.created_at,
                        tenant.updated_at,
                        tenant.revision});
    if (!n) {
      return n.error();
    }
    if (auto c = recordChange(conn, "tenant", tenant.id, tenant.id, now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return tenant;
}

Result<Tenant> TenantStore::get(std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn, selectWhere("id = ?"), {id}, "tenant", fromRow);
  });
}

Result<Tenant> TenantStore::getBySlug(std::string_view slug) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn, selectWhere("slug = ?"), {slug}, "tenant", fromRow);
  });
}

Result<std::vector<Tenant>> TenantStore::list(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("id > ? ORDER BY id LIMIT ?"),
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

Result<std::uint64_t> TenantStore::count() {
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row = conn.queryOne("SELECT COUNT(*) FROM tenants", {}, "count");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<Tenant> TenantStore::update(const Tenant& tenant, std::int64_t expected_revision) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<Tenant> {
    auto rows = conn.query(
        "UPDATE tenants SET slug = ?, display_name = ?, plan_id = ?, quota_override = ?, "
        "rpm_override = ?, tpm_override = ?, max_api_keys_override = ?, "
        "mock_response_enabled = ?, webhook_url = ?, updated_at = ?, revision = revision + 1 "
        "WHERE id = ? AND revision = ? RETURNING " +
            std::string(kColumns),
        {tenant.slug,
         tenant.display_name,
         sql::textOrNull(tenant.plan_id),
         sql::optional(tenant.overrides.monthly_token_quota),
         sql::optional(tenant.overrides.rpm),
         sql::optional(tenant.overrides.tpm),
         sql::optional(tenant.overrides.max_api_keys),
         tenant.mock_response_enabled,
         tenant.webhook_url,
         now,
         tenant.id,
         expected_revision});
    if (!rows) {
      return rows.error();
    }
    if (rows->empty()) {
      auto exists = conn.query("SELECT 1 FROM tenants WHERE id = ?", {tenant.id});
      if (!exists) {
        return exists.error();
      }
      return exists->empty() ? sql::notFound("tenant") : sql::staleRevision("tenant");
    }
    if (auto c = recordChange(conn, "tenant", tenant.id, tenant.id, now); !c) {
      return c.error();
    }
    return fromRow(rows->front());
  });
}

Result<Tenant> TenantStore::setStatus(std::string_view id,
                                      TenantStatus status,
                                      std::string_view reason) {
  const Millis now = clock_.unixMillis();
  const std::string status_text(toString(status));
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<Tenant> {
    auto row = conn.queryOne(
        "UPDATE tenants SET status = ?, suspended_reason = ?, updated_at = ?, "
        "revision = revision + 1 WHERE id = ? RETURNING " +
            std::string(kColumns),
        {status_text, reason, now, id},
        "tenant not found");
    if (!row) {
      return row.error();
    }
    if (auto c = recordChange(conn, "tenant", id, id, now); !c) {
      return c.error();
    }
    return fromRow(*row);
  });
}

Result<Tenant> TenantStore::suspend(std::string_view id, std::string_view reason) {
  return setStatus(id, TenantStatus::kSuspended, reason);
}

Result<Tenant> TenantStore::resume(std::string_view id) {
  return setStatus(id, TenantStatus::kActive, "");
}

Result<void> TenantStore::remove(std::string_view id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    // Rows without a foreign key to tenants (routes, sessions) go explicitly; the rest cascade.
    for (std::string_view sql_text :
         {std::string_view("DELETE FROM routes WHERE tenant_id = ?"),
          std::string_view("DELETE FROM sessions WHERE tenant_id = ?")}) {
      if (auto n = conn.exec(sql_text, {id}); !n) {
        return n.error();
      }
    }
    auto n = conn.exec("DELETE FROM tenants WHERE id = ?", {id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("tenant");
    }
    if (auto c = recordChange(conn, "tenant", id, id, now); !c) {
      return c.error();
    }
    return {};
  });
}

}  // namespace livery::storage
