#include "storage/session_store.hpp"

#include "storage/sql_util.hpp"

namespace livery::storage {

Result<Session> SessionStore::insert(Session s) {
  if (s.token_hash.empty() || s.user_id.empty() || s.expires_at == 0) {
    return fail(ErrorCode::kBadRequest, "a session needs a token hash, a user and an expiry");
  }
  s.created_at = s.created_at != 0 ? s.created_at : clock_.unixMillis();
  auto r = db_.withConnection([&](Connection& conn) {
    return conn.exec(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, kind, csrf_token, created_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {s.token_hash, s.user_id, s.tenant_id, s.kind, s.csrf_token, s.created_at, s.expires_at});
  });
  if (!r) {
    return r.error();
  }
  return s;
}

Result<Session> SessionStore::getByHash(std::span<const unsigned char> token_hash) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT token_hash, user_id, tenant_id, kind, csrf_token, created_at, "
                    "expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
                    {Blob{token_hash}, now},
                    "session",
                    [](const Row& row) -> Result<Session> {
                      return Session{.token_hash = row.blob(0),
                                     .user_id = row.text(1),
                                     .tenant_id = row.text(2),
                                     .kind = row.text(3),
                                     .csrf_token = row.text(4),
                                     .created_at = row.int64(5),
                                     .expires_at = row.int64(6)};
                    });
  });
}

Result<void> SessionStore::remove(std::span<const unsigned char> token_hash) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM sessions WHERE token_hash = ?", {Blob{token_hash}});
    if (!n) {
      return n.error();
    }
    return {};
  });
}

Result<std::int64_t> SessionStore::removeForUser(std::string_view tenant_id,
                                                 std::string_view user_id) {
  return db_.withConnection([&](Connection& conn) {
    return conn.exec("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?",
                     {tenant_id, user_id});
  });
}

Result<std::int64_t> SessionStore::pruneExpired() {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) {
    return conn.exec("DELETE FROM sessions WHERE expires_at <= ?", {now});
  });
}

}  // namespace livery::storage
