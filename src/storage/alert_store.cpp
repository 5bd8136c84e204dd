#include "storage/alert_store.hpp"

#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, tenant_id, kind, message, details_json, created_at, acknowledged_at FROM alerts ";

Result<Alert> fromRow(const Row& row) {
  return Alert{.id = row.text(0),
               .tenant_id = row.text(1),
               .kind = row.text(2),
               .message = row.text(3),
               .details_json = row.text(4),
               .created_at = row.int64(5),
               .acknowledged_at = row.int64(6)};
}

}  // namespace

Result<Alert> AlertStore::insert(Alert a) {
  if (a.kind.empty()) {
    return fail(ErrorCode::kBadRequest, "an alert needs a kind");
  }
  a.id = sql::idOr(a.id, "alr");
  a.created_at = a.created_at != 0 ? a.created_at : clock_.unixMillis();
  auto r = db_.withConnection([&](Connection& conn) {
    return conn.exec(
        "INSERT INTO alerts (id, tenant_id, kind, message, details_json, created_at, "
        "acknowledged_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {a.id, a.tenant_id, a.kind, a.message, a.details_json, a.created_at, a.acknowledged_at});
  });
  if (!r) {
    return r.error();
  }
  return a;
}

Result<std::vector<Alert>> AlertStore::list(std::string_view tenant_id,
                                            std::size_t limit,
                                            bool unacknowledged_only) {
  const std::string sql_text = std::string(kSelect) + "WHERE tenant_id = ?" +
                               (unacknowledged_only ? " AND acknowledged_at = 0" : "") +
                               " ORDER BY created_at DESC, id DESC LIMIT ?";
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn, sql_text, {tenant_id, clampLimit(limit)}, fromRow);
  });
}

Result<std::vector<Alert>> AlertStore::listAll(std::size_t limit, bool unacknowledged_only) {
  const std::string sql_text = std::string(kSelect) +
                               (unacknowledged_only ? "WHERE acknowledged_at = 0 " : "") +
                               "ORDER BY created_at DESC, id DESC LIMIT ?";
  return db_.withConnection(
      [&](Connection& conn) { return sql::collect(conn, sql_text, {clampLimit(limit)}, fromRow); });
}

Result<void> AlertStore::acknowledge(std::string_view tenant_id, std::string_view id) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE alerts SET acknowledged_at = CASE WHEN acknowledged_at = 0 THEN ? ELSE "
        "acknowledged_at END WHERE tenant_id = ? AND id = ?",
        {now, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("alert");
    }
    return {};
  });
}

Result<std::uint64_t> AlertStore::countUnacknowledged(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row =
        conn.queryOne("SELECT COUNT(*) FROM alerts WHERE tenant_id = ? AND acknowledged_at = 0",
                      {tenant_id},
                      "count");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

}  // namespace livery::storage
