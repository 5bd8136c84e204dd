#include "storage/branding_store.hpp"

#include <cctype>

#include "storage/change_store.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "tenant_id, display_name, primary_color, accent_color, logo_asset, favicon_asset, "
    "support_email, footer_text, updated_at";

Result<Branding> fromRow(const Row& row) {
  return Branding{.tenant_id = row.text(0),
                  .display_name = row.text(1),
                  .primary_color = row.text(2),
                  .accent_color = row.text(3),
                  .logo_asset = row.text(4),
                  .favicon_asset = row.text(5),
                  .support_email = row.text(6),
                  .footer_text = row.text(7),
                  .updated_at = row.int64(8)};
}

}  // namespace

bool isHexColor(std::string_view s) {
  if (s.size() != 7 || s[0] != '#') {
    return false;
  }
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (std::isxdigit(static_cast<unsigned char>(s[i])) == 0) {
      return false;
    }
  }
  return true;
}

Result<Branding> BrandingStore::upsert(Branding b) {
  if (b.tenant_id.empty()) {
    return fail(ErrorCode::kBadRequest, "branding needs a tenant");
  }
  if (!isHexColor(b.primary_color) || !isHexColor(b.accent_color)) {
    return fail(ErrorCode::kBadRequest, "colours must be #rrggbb").withParam("color");
  }
  const Millis now = clock_.unixMillis();
  b.updated_at = now;
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "INSERT INTO branding (" + std::string(kColumns) +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET "
            "display_name = excluded.display_name, primary_color = excluded.primary_color, "
            "accent_color = excluded.accent_color, logo_asset = excluded.logo_asset, "
            "favicon_asset = excluded.favicon_asset, support_email = excluded.support_email, "
            "footer_text = excluded.footer_text, updated_at = excluded.updated_at",
        {b.tenant_id,
         b.display_name,
         b.primary_color,
         b.accent_color,
         b.logo_asset,
         b.favicon_asset,
         b.support_email,
         b.footer_text,
         b.updated_at});
    if (!n) {
      return n.error();
    }
    if (auto c = recordChange(conn, "branding", b.tenant_id, b.tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return b;
}

Result<Branding> BrandingStore::get(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT " + std::string(kColumns) + " FROM branding WHERE tenant_id = ?",
                    {tenant_id},
                    "branding",
                    fromRow);
  });
}

Result<void> BrandingStore::remove(std::string_view tenant_id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM branding WHERE tenant_id = ?", {tenant_id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("branding");
    }
    if (auto c = recordChange(conn, "branding", tenant_id, tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
}

Result<std::vector<Branding>> BrandingStore::listAll(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        "SELECT " + std::string(kColumns) +
                            " FROM branding WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?",
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

}  // namespace livery::storage
