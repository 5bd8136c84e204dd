#include "storage/usage_store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "request_id, tenant_id, api_key_id, end_user, model, deployment, provider, prompt_tokens, "
    "completion_tokens, cached_tokens, reasoning_tokens, latency_ms, ttft_ms, status, outcome, "
    "attempts, fallback_reason, cost_micro_usd, streamed, created_at";
constexpr std::size_t kColumnCount = 20;

Result<UsageRecord> fromRow(const Row& row) {
  UsageRecord u;
  u.request_id = row.text(0);
  u.tenant_id = row.text(1);
  u.api_key_id = row.text(2);
  u.end_user = row.text(3);
  u.model = row.text(4);
  u.deployment = row.text(5);
  u.provider = row.text(6);
  u.prompt_tokens = row.uint64(7);
  u.completion_tokens = row.uint64(8);
  u.cached_tokens = row.uint64(9);
  u.reasoning_tokens = row.uint64(10);
  u.latency_ms = static_cast<std::uint32_t>(row.uint64(11));
  u.ttft_ms = static_cast<std::uint32_t>(row.uint64(12));
  u.status = static_cast<std::int32_t>(row.int64(13));
  u.outcome = row.text(14);
  u.attempts = static_cast<std::uint32_t>(row.uint64(15));
  u.fallback_reason = row.text(16);
  u.cost_micro_usd = row.int64(17);
  u.streamed = row.boolean(18);
  u.created_at = row.int64(19);
  return u;
}

struct Where {
  std::string sql;
  std::vector<Param> params;  // borrow from the filter
};

Result<Where> buildWhere(const UsageFilter& f) {
  Where w;
  std::vector<std::string_view> terms;
  if (!f.all_tenants) {
    if (f.tenant_id.empty()) {
      return fail(ErrorCode::kBadRequest,
                  "usage query without a tenant",
                  "UsageFilter needs tenant_id or all_tenants");
    }
    terms.emplace_back("tenant_id = ?");
    w.params.emplace_back(f.tenant_id);
  } else if (!f.tenant_id.empty()) {
    terms.emplace_back("tenant_id = ?");
    w.params.emplace_back(f.tenant_id);
  }
  if (!f.api_key_id.empty()) {
    terms.emplace_back("api_key_id = ?");
    w.params.emplace_back(f.api_key_id);
  }
  if (!f.end_user.empty()) {
    terms.emplace_back("end_user = ?");
    w.params.emplace_back(f.end_user);
  }
  if (!f.model.empty()) {
    terms.emplace_back("model = ?");
    w.params.emplace_back(f.model);
  }
  if (f.from != 0) {
    terms.emplace_back("created_at >= ?");
    w.params.emplace_back(f.from);
  }
  if (f.to != 0) {
    terms.emplace_back("created_at < ?");
    w.params.emplace_back(f.to);
  }
  w.sql = terms.empty() ? std::string("1 = 1") : std::string();
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i != 0) {
      w.sql += " AND ";
    }
    w.sql += terms[i];
  }
  return w;
}

std::string_view groupKey(UsageGroup g) {
  switch (g) {
    case UsageGroup::kTenant:
      return "tenant_id";
    case UsageGroup::kApiKey:
      return "api_key_id";
    case UsageGroup::kEndUser:
      return "end_user";
    case UsageGroup::kModel:
      return "model";
    case UsageGroup::kHour:
      return "(created_at / 3600000) * 3600000";
    case UsageGroup::kDay:
      return "(created_at / 86400000) * 86400000";
  }
  return "tenant_id";
}

UsageTotals totalsFromRow(const Row& row) {
  return UsageTotals{.key = row.text(0),
                     .requests = row.uint64(1),
                     .prompt_tokens = row.uint64(2),
                     .completion_tokens = row.uint64(3),
                     .cached_tokens = row.uint64(4),
                     .reasoning_tokens = row.uint64(5),
                     .cost_micro_usd = row.int64(6)};
}

}  // namespace

UsageStore::UsageStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {
  for (std::size_t k = 0; k < kInsertChunkLevels; ++k) {
    insert_sql_[k] = "INSERT INTO usage_records (" + std::string(kColumns) + ") VALUES " +
                     sql::tuples(std::size_t{1} << k, kColumnCount) +
                     " ON CONFLICT (request_id) DO NOTHING";
  }
}

Result<std::size_t> UsageStore::insertBatch(std::span<const UsageRecord> records) {
  if (records.empty()) {
    return std::size_t{0};
  }
  for (const auto& u : records) {
    if (u.request_id.empty() || u.tenant_id.empty()) {
      return fail(ErrorCode::kBadRequest, "a usage record needs a request id and a tenant");
    }
  }
  const Millis now = clock_.unixMillis();
  // Insert in request_id order: two batches sharing ids (a retried flush racing the original)
  // then take the unique-index waits in the same order and cannot deadlock on PostgreSQL.
  std::vector<const UsageRecord*> ordered;
  ordered.reserve(records.size());
  for (const auto& u : records) {
    ordered.push_back(&u);
  }
  std::sort(ordered.begin(), ordered.end(), [](const UsageRecord* a, const UsageRecord* b) {
    return a->request_id < b->request_id;
  });
  // A batch goes in as multi-row INSERTs of descending power-of-two sizes (33 records: 32 + 1),
  // so a batch of any size costs a handful of statements, each prepared once per connection:
  // one statement per row paid SQLite's per-statement setup and teardown for every record.
  return db_.inTransaction([&](Connection& conn) -> Result<std::size_t> {
    std::vector<Param> params;
    params.reserve(std::min(ordered.size(), std::size_t{1} << (kInsertChunkLevels - 1)) *
                   kColumnCount);
    std::size_t inserted = 0;
    std::size_t i = 0;
    while (i < ordered.size()) {
      std::size_t level = kInsertChunkLevels - 1;
      while ((std::size_t{1} << level) > ordered.size() - i) {
        --level;
      }
      const std::size_t n = std::size_t{1} << level;
      params.clear();
      for (std::size_t j = i; j < i + n; ++j) {
        const UsageRecord& u = *ordered[j];
        params.insert(params.end(),
                      {u.request_id,
                       u.tenant_id,
                       u.api_key_id,
                       u.end_user,
                       u.model,
                       u.deployment,
                       u.provider,
                       u.prompt_tokens,
                       u.completion_tokens,
                       u.cached_tokens,
                       u.reasoning_tokens,
                       u.latency_ms,
                       u.ttft_ms,
                       u.status,
                       u.outcome,
                       u.attempts,
                       u.fallback_reason,
                       u.cost_micro_usd,
                       u.streamed,
                       u.created_at != 0 ? u.created_at : now});
      }
      auto r = conn.exec(insert_sql_[level], params);
      if (!r) {
        return r.error();
      }
      inserted += static_cast<std::size_t>(*r);
      i += n;
    }
    return inserted;
  });
}

Result<std::uint64_t> UsageStore::count(const UsageFilter& filter) {
  auto where = buildWhere(filter);
  if (!where) {
    return where.error();
  }
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row = conn.queryOne(
        "SELECT COUNT(*) FROM usage_records WHERE " + where->sql, where->params, "count");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<UsageRecord> UsageStore::get(std::string_view tenant_id, std::string_view request_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT " + std::string(kColumns) +
                        " FROM usage_records WHERE tenant_id = ? AND request_id = ?",
                    {tenant_id, request_id},
                    "usage record",
                    fromRow);
  });
}

Result<UsageRecord> UsageStore::getAnyTenant(std::string_view request_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT " + std::string(kColumns) + " FROM usage_records WHERE request_id = ?",
                    {request_id},
                    "usage record",
                    fromRow);
  });
}

Result<UsagePage> UsageStore::list(const UsageFilter& filter,
                                   const UsageCursor& after,
                                   std::size_t limit) {
  auto where = buildWhere(filter);
  if (!where) {
    return where.error();
  }
  const std::int64_t n = clampLimit(limit);
  std::string sql_text =
      "SELECT " + std::string(kColumns) + " FROM usage_records WHERE " + where->sql;
  if (!after.request_id.empty()) {
    sql_text += " AND (created_at, request_id) > (?, ?)";
    where->params.emplace_back(after.created_at);
    where->params.emplace_back(after.request_id);
  }
  sql_text += " ORDER BY created_at, request_id LIMIT ?";
  where->params.emplace_back(n);
  return db_.withConnection([&](Connection& conn) -> Result<UsagePage> {
    auto records = sql::collect(conn, sql_text, where->params, fromRow);
    if (!records) {
      return records.error();
    }
    UsagePage page;
    page.records = std::move(*records);
    if (static_cast<std::int64_t>(page.records.size()) == n) {
      const auto& last = page.records.back();
      page.next = UsageCursor{last.created_at, last.request_id};
    }
    return page;
  });
}

Result<std::vector<UsageTotals>> UsageStore::totals(const UsageFilter& filter,
                                                    UsageGroup group,
                                                    std::size_t max_groups) {
  auto where = buildWhere(filter);
  if (!where) {
    return where.error();
  }
  const std::string sql_text = fmt::format(
      "SELECT {}, COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
      "COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(reasoning_tokens), 0), "
      "COALESCE(SUM(cost_micro_usd), 0) FROM usage_records WHERE {} GROUP BY 1 ORDER BY 1 LIMIT ?",
      groupKey(group),
      where->sql);
  where->params.emplace_back(clampLimit(max_groups));
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn, sql_text, where->params, [](const Row& row) -> Result<UsageTotals> {
      return totalsFromRow(row);
    });
  });
}

Result<std::uint64_t> UsageStore::tenantTokensSince(std::string_view tenant_id, Millis since) {
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row = conn.queryOne(
        "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_records "
        "WHERE tenant_id = ? AND created_at >= ?",
        {tenant_id, since},
        "sum");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<std::uint64_t> UsageStore::keyTokensSince(std::string_view tenant_id,
                                                 std::string_view api_key_id,
                                                 Millis since) {
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row = conn.queryOne(
        "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_records "
        "WHERE tenant_id = ? AND api_key_id = ? AND created_at >= ?",
        {tenant_id, api_key_id, since},
        "sum");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<std::size_t> UsageStore::forEachTokenSum(UsageGroup group,
                                                Millis since,
                                                const std::function<void(const UsageTotals&)>& fn) {
  if (group != UsageGroup::kTenant && group != UsageGroup::kApiKey) {
    return fail(ErrorCode::kBadRequest, "token sums are per tenant or per key");
  }
  const std::string sql_text = fmt::format(
      "SELECT {0}, COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) "
      "FROM usage_records WHERE created_at >= ? GROUP BY {0} ORDER BY {0}",
      groupKey(group));
  std::size_t groups = 0;
  auto r = db_.withConnection([&](Connection& conn) {
    return conn.queryEach(sql_text, {since}, [&](const Row& row) {
      fn(UsageTotals{.key = row.text(0),
                     .requests = row.uint64(1),
                     .prompt_tokens = row.uint64(2),
                     .completion_tokens = row.uint64(3)});
      ++groups;
      return true;
    });
  });
  if (!r) {
    return r.error();
  }
  return groups;
}

}  // namespace livery::storage
