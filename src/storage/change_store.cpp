#include "storage/change_store.hpp"

#include "storage/store_common.hpp"

namespace livery::storage {

Result<std::int64_t> recordChange(Connection& conn,
                                  std::string_view kind,
                                  std::string_view entity_id,
                                  std::string_view tenant_id,
                                  Millis ts) {
  auto row = conn.queryOne(
      "INSERT INTO changes (kind, entity_id, tenant_id, ts) VALUES (?, ?, ?, ?) RETURNING seq",
      {kind, entity_id, tenant_id, ts},
      "change not recorded");
  if (!row) {
    return row.error();
  }
  const std::int64_t seq = row->int64(0);
  if (conn.dialect() == Dialect::kPostgres) {
    const std::string payload = std::to_string(seq);
    if (auto n = conn.exec("SELECT pg_notify('livery_changes', ?)", {payload}); !n) {
      return n.error();
    }
  }
  return seq;
}

Result<std::int64_t> ChangeStore::append(const Change& change) {
  const Millis ts = change.ts != 0 ? change.ts : clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) {
    return recordChange(conn, change.kind, change.entity_id, change.tenant_id, ts);
  });
}

Result<std::int64_t> ChangeStore::maxSeq() {
  auto conn = db_.acquire();
  if (!conn) {
    return conn.error();
  }
  auto row = (*conn)->queryOne("SELECT COALESCE(MAX(seq), 0) FROM changes", {}, "no changes");
  if (!row) {
    return row.error();
  }
  return row->int64(0);
}

Result<std::vector<Change>> ChangeStore::since(std::int64_t seq, std::size_t limit) {
  auto conn = db_.acquire();
  if (!conn) {
    return conn.error();
  }
  std::vector<Change> out;
  auto r = (*conn)->queryEach(
      "SELECT seq, kind, entity_id, tenant_id, ts FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
      {seq, clampLimit(limit)},
      [&out](const Row& row) {
        out.push_back(Change{.seq = row.int64(0),
                             .kind = row.text(1),
                             .entity_id = row.text(2),
                             .tenant_id = row.text(3),
                             .ts = row.int64(4)});
        return true;
      });
  if (!r) {
    return r.error();
  }
  return out;
}

Result<std::int64_t> ChangeStore::pruneBefore(Millis ts) {
  auto conn = db_.acquire();
  if (!conn) {
    return conn.error();
  }
  return (*conn)->exec("DELETE FROM changes WHERE ts < ?", {ts});
}

}  // namespace livery::storage
