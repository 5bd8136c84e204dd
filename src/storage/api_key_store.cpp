#include "storage/api_key_store.hpp"

#include <deque>

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, name, hash, last4, environment, scopes, expires_at, rpm, tpm, "
    "monthly_token_quota, end_user, created_at, revoked_at, last_used_at";
constexpr std::size_t kColumnCount = 15;
constexpr std::size_t kInsertChunk = 64;  // rows per multi-row INSERT

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM api_keys WHERE " + std::string(where);
}

Result<ApiKey> fromRow(const Row& row) {
  ApiKey k;
  k.id = row.text(0);
  k.tenant_id = row.text(1);
  k.name = row.text(2);
  k.hash = row.blob(3);
  k.last4 = row.text(4);
  k.environment = row.text(5);
  auto scopes = decodeStringList(row.text(6));
  if (!scopes) {
    return scopes.error();
  }
  k.scopes = std::move(*scopes);
  k.expires_at = row.int64(7);
  k.limits.rpm = static_cast<std::uint32_t>(row.uint64(8));
  k.limits.tpm = static_cast<std::uint32_t>(row.uint64(9));
  k.limits.monthly_token_quota = row.uint64(10);
  k.end_user = row.text(11);
  k.created_at = row.int64(12);
  k.revoked_at = row.int64(13);
  k.last_used_at = row.int64(14);
  return k;
}

// Appends one key's parameters; `keep` owns the encoded scopes for the statement's duration.
void appendParams(const ApiKey& k, std::deque<std::string>& keep, std::vector<Param>& params) {
  const std::string& scopes = keep.emplace_back(encodeStringList(k.scopes));
  params.insert(params.end(),
                {k.id,
                 k.tenant_id,
                 k.name,
                 k.hash,
                 k.last4,
                 k.environment,
                 scopes,
                 k.expires_at,
                 k.limits.rpm,
                 k.limits.tpm,
                 k.limits.monthly_token_quota,
                 k.end_user,
                 k.created_at,
                 k.revoked_at,
                 k.last_used_at});
}

Result<void> validate(const ApiKey& k) {
  if (k.tenant_id.empty() || k.hash.empty()) {
    return fail(ErrorCode::kBadRequest, "an api key needs a tenant and a hash");
  }
  return {};
}

}  // namespace

Result<ApiKey> ApiKeyStore::insert(ApiKey key) {
  if (auto v = validate(key); !v) {
    return v.error();
  }
  key.id = sql::idOr(key.id, "key");
  const Millis now = clock_.unixMillis();
  key.created_at = key.created_at != 0 ? key.created_at : now;
  auto r = insertMany(std::span<const ApiKey>(&key, 1));
  if (!r) {
    return r.error();
  }
  return key;
}

Result<std::size_t> ApiKeyStore::insertMany(std::span<const ApiKey> keys) {
  if (keys.empty()) {
    return std::size_t{0};
  }
  const Millis now = clock_.unixMillis();
  for (const auto& k : keys) {
    if (auto v = validate(k); !v) {
      return v.error();
    }
    if (k.id.empty() || k.created_at == 0) {
      return fail(ErrorCode::kBadRequest, "bulk-loaded api keys need an id and created_at");
    }
  }
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<std::size_t> {
    const std::string head = "INSERT INTO api_keys (" + std::string(kColumns) + ") VALUES ";
    const std::string chunk_sql = head + sql::tuples(kInsertChunk, kColumnCount);
    const std::string single_sql = head + sql::tuple(kColumnCount);
    const std::string change_head = "INSERT INTO changes (kind, entity_id, tenant_id, ts) VALUES ";
    const std::string change_chunk_sql = change_head + sql::tuples(kInsertChunk, 4);
    const std::string change_single_sql = change_head + sql::tuple(4);
    std::vector<Param> params;
    std::vector<Param> change_params;
    std::deque<std::string> keep;
    std::size_t i = 0;
    while (i < keys.size()) {
      const std::size_t n = keys.size() - i >= kInsertChunk ? kInsertChunk : 1;
      params.clear();
      change_params.clear();
      keep.clear();
      for (std::size_t j = i; j < i + n; ++j) {
        appendParams(keys[j], keep, params);
        change_params.insert(change_params.end(),
                             {std::string_view("api_key"), keys[j].id, keys[j].tenant_id, now});
      }
      if (auto r = conn.exec(n == 1 ? single_sql : chunk_sql, params); !r) {
        return r.error();
      }
      if (auto r = conn.exec(n == 1 ? change_single_sql : change_chunk_sql, change_params); !r) {
        return r.error();
      }
      i += n;
    }
    if (conn.dialect() == Dialect::kPostgres) {
      // One wake-up for the whole load; listeners read the feed from their last seq.
      if (auto r = conn.exec("SELECT pg_notify('livery_changes', 'bulk')"); !r) {
        return r.error();
      }
    }
    return keys.size();
  });
}

Result<ApiKey> ApiKeyStore::getByHash(std::span<const unsigned char> hash) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn, selectWhere("hash = ?"), {Blob{hash}}, "api key", fromRow);
  });
}

Result<ApiKey> ApiKeyStore::get(std::string_view tenant_id, std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "api key", fromRow);
  });
}

Result<std::vector<ApiKey>> ApiKeyStore::list(std::string_view tenant_id, const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id = ? AND id > ? ORDER BY id LIMIT ?"),
                        {tenant_id, page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

Result<void> ApiKeyStore::revoke(std::string_view tenant_id, std::string_view id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END "
        "WHERE tenant_id = ? AND id = ?",
        {now, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("api key");
    }
    if (auto c = recordChange(conn, "api_key", id, tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
}

Result<std::size_t> ApiKeyStore::touchLastUsed(std::span<const KeyTouch> touches) {
  if (touches.empty()) {
    return std::size_t{0};
  }
  return db_.inTransaction([&](Connection& conn) -> Result<std::size_t> {
    std::size_t updated = 0;
    for (const auto& t : touches) {
      auto n = conn.exec(
          "UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ? AND id = ? AND "
          "last_used_at < ?",
          {t.at, t.tenant_id, t.key_id, t.at});
      if (!n) {
        return n.error();
      }
      updated += static_cast<std::size_t>(*n);
    }
    return updated;
  });
}

Result<std::uint64_t> ApiKeyStore::countActive(std::string_view tenant_id) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row = conn.queryOne(
        "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND revoked_at = 0 AND "
        "(expires_at = 0 OR expires_at > ?)",
        {tenant_id, now},
        "count");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<std::size_t> ApiKeyStore::forEachActive(const std::function<bool(ApiKey&&)>& fn,
                                               std::size_t page_size) {
  const Millis now = clock_.unixMillis();
  const std::int64_t limit = clampLimit(page_size);
  // `revoked_at = 0` is a literal so both planners can use the partial index api_keys_active.
  const std::string sql_text = selectWhere(
      "revoked_at = 0 AND id > ? AND (expires_at = 0 OR expires_at > ?) ORDER BY id LIMIT ?");
  std::string after;  // bound to the statement: only changed between pages
  std::size_t delivered = 0;
  for (;;) {
    std::string last_id;
    std::size_t in_page = 0;
    bool stopped = false;
    std::optional<Error> decode_error;
    auto r = db_.withConnection([&](Connection& conn) {
      return conn.queryEach(sql_text, {after, now, limit}, [&](const Row& row) {
        ++in_page;
        auto key = fromRow(row);
        if (!key) {
          decode_error = key.error();
          return false;
        }
        last_id = key->id;
        ++delivered;
        if (!fn(std::move(*key))) {
          stopped = true;
          return false;
        }
        return true;
      });
    });
    if (!r) {
      return r.error();
    }
    if (decode_error) {
      return *decode_error;
    }
    if (stopped || in_page < static_cast<std::size_t>(limit)) {
      return delivered;
    }
    after = std::move(last_id);
  }
}

}  // namespace livery::storage
