#include "storage/jwt_key_store.hpp"

#include "storage/change_store.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, kid, algorithm, public_pem, hmac_credential_id, issuer, audience, created_at";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM jwt_keys WHERE " + std::string(where);
}

Result<JwtKey> fromRow(const Row& row) {
  return JwtKey{.id = row.text(0),
                .tenant_id = row.text(1),
                .kid = row.text(2),
                .algorithm = row.text(3),
                .public_pem = row.text(4),
                .hmac_credential_id = row.text(5),
                .issuer = row.text(6),
                .audience = row.text(7),
                .created_at = row.int64(8)};
}

}  // namespace

Result<JwtKey> JwtKeyStore::insert(JwtKey key) {
  if (key.tenant_id.empty() || key.algorithm.empty()) {
    return fail(ErrorCode::kBadRequest, "a JWT key needs a tenant and an algorithm");
  }
  key.id = sql::idOr(key.id, "jwk");
  const Millis now = clock_.unixMillis();
  key.created_at = key.created_at != 0 ? key.created_at : now;
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "INSERT INTO jwt_keys (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {key.id,
         key.tenant_id,
         key.kid,
         key.algorithm,
         key.public_pem,
         sql::textOrNull(key.hmac_credential_id),
         key.issuer,
         key.audience,
         key.created_at});
    if (!n) {
      return n.error();
    }
    if (auto c = recordChange(conn, "jwt_key", key.id, key.tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return key;
}

Result<JwtKey> JwtKeyStore::get(std::string_view tenant_id, std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "JWT key", fromRow);
  });
}

Result<JwtKey> JwtKeyStore::findByKid(std::string_view tenant_id, std::string_view kid) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND kid = ?"), {tenant_id, kid}, "JWT key", fromRow);
  });
}

Result<std::vector<JwtKey>> JwtKeyStore::list(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id = ? ORDER BY kid LIMIT ?"),
                        {tenant_id, clampLimit(kMaxPageSize)},
                        fromRow);
  });
}

Result<void> JwtKeyStore::remove(std::string_view tenant_id, std::string_view id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM jwt_keys WHERE tenant_id = ? AND id = ?", {tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("JWT key");
    }
    if (auto c = recordChange(conn, "jwt_key", id, tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
}

Result<std::vector<JwtKey>> JwtKeyStore::listAll(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("id > ? ORDER BY id LIMIT ?"),
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

}  // namespace livery::storage
