#include "storage/operator_token_store.hpp"

#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, name, hash, created_at, revoked_at, last_used_at FROM operator_tokens ";

Result<OperatorToken> fromRow(const Row& row) {
  return OperatorToken{.id = row.text(0),
                       .name = row.text(1),
                       .hash = row.blob(2),
                       .created_at = row.int64(3),
                       .revoked_at = row.int64(4),
                       .last_used_at = row.int64(5)};
}

}  // namespace

Result<OperatorToken> OperatorTokenStore::insert(OperatorToken token) {
  if (token.hash.empty()) {
    return fail(ErrorCode::kBadRequest, "an operator token needs a hash");
  }
  token.id = sql::idOr(token.id, "opt");
  token.created_at = token.created_at != 0 ? token.created_at : clock_.unixMillis();
  auto r = db_.withConnection([&](Connection& conn) {
    return conn.exec(
        "INSERT INTO operator_tokens (id, name, hash, created_at, revoked_at, last_used_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {token.id, token.name, token.hash, token.created_at, token.revoked_at, token.last_used_at});
  });
  if (!r) {
    return r.error();
  }
  return token;
}

Result<OperatorToken> OperatorTokenStore::getByHash(std::span<const unsigned char> hash) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, std::string(kSelect) + "WHERE hash = ?", {Blob{hash}}, "operator token", fromRow);
  });
}

Result<std::vector<OperatorToken>> OperatorTokenStore::list() {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(
        conn, std::string(kSelect) + "ORDER BY id LIMIT ?", {clampLimit(kMaxPageSize)}, fromRow);
  });
}

Result<void> OperatorTokenStore::revoke(std::string_view id) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE operator_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at "
        "END WHERE id = ?",
        {now, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("operator token");
    }
    return {};
  });
}

Result<void> OperatorTokenStore::touchLastUsed(std::string_view id, Millis at) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n =
        conn.exec("UPDATE operator_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?",
                  {at, id, at});
    if (!n) {
      return n.error();
    }
    return {};
  });
}

}  // namespace livery::storage
