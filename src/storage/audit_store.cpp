#include "storage/audit_store.hpp"

#include <limits>

#include <fmt/format.h>

#include "storage/codec.hpp"
#include "storage/lock_keys.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";
constexpr std::size_t kVerifyPage = 5000;

constexpr std::string_view kSelect =
    "SELECT seq, ts, actor, tenant_id, action, details_json, prev_hash, hash FROM audit_log ";

Result<AuditEntry> fromRow(const Row& row) {
  return AuditEntry{.seq = row.int64(0),
                    .ts = row.int64(1),
                    .actor = row.text(2),
                    .tenant_id = row.text(3),
                    .action = row.text(4),
                    .details_json = row.text(5),
                    .prev_hash = row.text(6),
                    .hash = row.text(7)};
}

void appendField(std::string& out, std::string_view field) {
  fmt::format_to(std::back_inserter(out), "{}:", field.size());
  out.append(field);
  out.push_back('|');
}

}  // namespace

std::string AuditStore::chainHash(const AuditEntry& e) {
  std::string input;
  input.reserve(128 + e.actor.size() + e.tenant_id.size() + e.action.size() +
                e.details_json.size() + e.prev_hash.size());
  appendField(input, std::to_string(e.seq));
  appendField(input, std::to_string(e.ts));
  appendField(input, e.actor);
  appendField(input, e.tenant_id);
  appendField(input, e.action);
  appendField(input, e.details_json);
  appendField(input, e.prev_hash);
  return sha256Hex(input);
}

Result<AuditEntry> AuditStore::append(AuditEntry entry) {
  if (entry.actor.empty() || entry.action.empty()) {
    return fail(ErrorCode::kBadRequest, "an audit entry needs an actor and an action");
  }
  entry.ts = entry.ts != 0 ? entry.ts : clock_.unixMillis();
  return db_.inTransaction([&](Connection& conn) -> Result<AuditEntry> {
    if (auto l = conn.serializeOn(kAuditLock); !l) {
      return l.error();
    }
    auto last = conn.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (!last) {
      return last.error();
    }
    entry.seq = last->empty() ? 1 : last->front().int64(0) + 1;
    entry.prev_hash = last->empty() ? std::string(kGenesis) : last->front().text(1);
    entry.hash = chainHash(entry);
    if (entry.hash.empty()) {
      return fail(ErrorCode::kInternal, "storage error", "sha256 failed");
    }
    auto n = conn.exec(
        "INSERT INTO audit_log (seq, ts, actor, tenant_id, action, details_json, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {entry.seq,
         entry.ts,
         entry.actor,
         entry.tenant_id,
         entry.action,
         entry.details_json,
         entry.prev_hash,
         entry.hash});
    if (!n) {
      return n.error();
    }
    return entry;
  });
}

Result<AuditVerification> AuditStore::verify() {
  AuditVerification v;
  std::int64_t expected_seq = 1;
  std::string expected_prev(kGenesis);
  const std::string sql_text = std::string(kSelect) + "WHERE seq > ? ORDER BY seq LIMIT ?";
  for (;;) {
    const std::int64_t after = expected_seq - 1;
    auto page = db_.withConnection([&](Connection& conn) {
      return sql::collect(conn, sql_text, {after, clampLimit(kVerifyPage)}, fromRow);
    });
    if (!page) {
      return page.error();
    }
    for (const AuditEntry& e : *page) {
      std::string reason;
      if (e.seq != expected_seq) {
        reason = "gap";
      } else if (e.prev_hash != expected_prev) {
        reason = "prev_hash";
      } else if (chainHash(e) != e.hash) {
        reason = "hash";
      }
      if (!reason.empty()) {
        v.ok = false;
        v.first_broken_seq = expected_seq;
        v.reason = std::move(reason);
        return v;
      }
      ++v.checked;
      ++expected_seq;
      expected_prev = e.hash;
    }
    if (page->size() < kVerifyPage) {
      return v;
    }
  }
}

Result<std::vector<AuditEntry>> AuditStore::list(std::string_view tenant_id,
                                                 std::int64_t after_seq,
                                                 std::size_t limit) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(
        conn,
        std::string(kSelect) + "WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        {tenant_id, after_seq, clampLimit(limit)},
        fromRow);
  });
}

Result<std::vector<AuditEntry>> AuditStore::listAll(std::int64_t after_seq, std::size_t limit) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        std::string(kSelect) + "WHERE seq > ? ORDER BY seq LIMIT ?",
                        {after_seq, clampLimit(limit)},
                        fromRow);
  });
}

Result<std::vector<AuditEntry>> AuditStore::listRecent(std::string_view tenant_id,
                                                       bool all_tenants,
                                                       std::int64_t before_seq,
                                                       std::size_t limit) {
  const std::int64_t bound = before_seq > 0 ? before_seq : std::numeric_limits<std::int64_t>::max();
  return db_.withConnection([&](Connection& conn) {
    if (all_tenants) {
      return sql::collect(conn,
                          std::string(kSelect) + "WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                          {bound, clampLimit(limit)},
                          fromRow);
    }
    return sql::collect(
        conn,
        std::string(kSelect) + "WHERE tenant_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        {tenant_id, bound, clampLimit(limit)},
        fromRow);
  });
}

}  // namespace livery::storage
