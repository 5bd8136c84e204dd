#include "storage/user_store.hpp"

#include "storage/codec.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, kind, email, display_name, password_hash, role, disabled, created_at, "
    "last_login_at";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM users WHERE " + std::string(where);
}

Result<User> fromRow(const Row& row) {
  auto role = parseUserRole(row.text(6));
  if (!role) {
    return fail(ErrorCode::kInternal, "storage error", "undecodable user role");
  }
  return User{.id = row.text(0),
              .tenant_id = row.text(1),
              .kind = row.text(2),
              .email = row.text(3),
              .display_name = row.text(4),
              .password_hash = row.text(5),
              .role = *role,
              .disabled = row.boolean(7),
              .created_at = row.int64(8),
              .last_login_at = row.int64(9)};
}

}  // namespace

Result<User> UserStore::insert(User u) {
  if (u.tenant_id.empty() || u.kind.empty() || u.email.empty()) {
    return fail(ErrorCode::kBadRequest, "a user needs a tenant, a kind and an email");
  }
  u.id = sql::idOr(u.id, "usr");
  u.email = sql::lowerAscii(u.email);
  u.created_at = u.created_at != 0 ? u.created_at : clock_.unixMillis();
  const std::string role(toString(u.role));
  auto r = db_.withConnection([&](Connection& conn) {
    return conn.exec(
        "INSERT INTO users (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {u.id,
         u.tenant_id,
         u.kind,
         u.email,
         u.display_name,
         u.password_hash,
         role,
         u.disabled,
         u.created_at,
         u.last_login_at});
  });
  if (!r) {
    return r.error();
  }
  return u;
}

Result<User> UserStore::get(std::string_view tenant_id, std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "user", fromRow);
  });
}

Result<User> UserStore::findByEmail(std::string_view tenant_id,
                                    std::string_view kind,
                                    std::string_view email) {
  const std::string lower = sql::lowerAscii(email);
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    selectWhere("tenant_id = ? AND kind = ? AND email = ?"),
                    {tenant_id, kind, lower},
                    "user",
                    fromRow);
  });
}

Result<std::vector<User>> UserStore::list(std::string_view tenant_id,
                                          std::string_view kind,
                                          const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    if (kind.empty()) {
      return sql::collect(conn,
                          selectWhere("tenant_id = ? AND id > ? ORDER BY id LIMIT ?"),
                          {tenant_id, page.after, clampLimit(page.limit)},
                          fromRow);
    }
    return sql::collect(conn,
                        selectWhere("tenant_id = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?"),
                        {tenant_id, kind, page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

Result<User> UserStore::update(const User& u) {
  const std::string role(toString(u.role));
  return db_.inTransaction([&](Connection& conn) -> Result<User> {
    auto row = conn.queryOne(
        "UPDATE users SET display_name = ?, role = ?, disabled = ? "
        "WHERE tenant_id = ? AND id = ? RETURNING " +
            std::string(kColumns),
        {u.display_name, role, u.disabled, u.tenant_id, u.id},
        "user not found");
    if (!row) {
      return row.error();
    }
    if (u.disabled) {
      if (auto n = conn.exec("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?",
                             {u.tenant_id, u.id});
          !n) {
        return n.error();
      }
    }
    return fromRow(*row);
  });
}

Result<void> UserStore::setPasswordHash(std::string_view tenant_id,
                                        std::string_view id,
                                        std::string_view password_hash) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("UPDATE users SET password_hash = ? WHERE tenant_id = ? AND id = ?",
                       {password_hash, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("user");
    }
    return {};
  });
}

Result<void> UserStore::touchLogin(std::string_view tenant_id, std::string_view id, Millis at) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("UPDATE users SET last_login_at = ? WHERE tenant_id = ? AND id = ?",
                       {at, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("user");
    }
    return {};
  });
}

Result<void> UserStore::remove(std::string_view tenant_id, std::string_view id) {
  return db_.inTransaction([&](Connection& conn) -> Result<void> {
    if (auto s =
            conn.exec("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?", {tenant_id, id});
        !s) {
      return s.error();
    }
    auto n = conn.exec("DELETE FROM users WHERE tenant_id = ? AND id = ?", {tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("user");
    }
    return {};
  });
}

}  // namespace livery::storage
