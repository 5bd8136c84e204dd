#include "storage/credential_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, provider, label, fingerprint, base_url, options_json, ciphertext, nonce, "
    "tag, wrapped_dek, kek_id, kek_version, format_version, health, health_detail, created_at, "
    "updated_at, last_used_at, revision";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM credentials WHERE " + std::string(where);
}

Result<Credential> fromRow(const Row& row) {
  Credential c;
  c.id = row.text(0);
  c.tenant_id = row.text(1);
  c.provider = row.text(2);
  c.label = row.text(3);
  c.fingerprint = row.text(4);
  c.base_url = row.text(5);
  c.options_json = row.text(6);
  c.envelope.ciphertext = row.blob(7);
  c.envelope.nonce = row.blob(8);
  c.envelope.tag = row.blob(9);
  c.envelope.wrapped_dek = row.blob(10);
  c.envelope.kek_id = row.text(11);
  c.envelope.kek_version = static_cast<std::uint32_t>(row.uint64(12));
  c.envelope.format_version = static_cast<std::uint32_t>(row.uint64(13));
  auto health = parseCredentialHealth(row.text(14));
  c.health = health.value_or(CredentialHealth::kUnknown);
  c.health_detail = row.text(15);
  c.created_at = row.int64(16);
  c.updated_at = row.int64(17);
  c.last_used_at = row.int64(18);
  c.revision = row.int64(19);
  return c;
}

// Distinguishes "no such credential" from "stale revision" after a CAS matched no row.
Error casMiss(Connection& conn, std::string_view id, std::string_view tenant_id) {
  auto rows =
      tenant_id.empty()
          ? conn.query("SELECT 1 FROM credentials WHERE id = ?", {id})
          : conn.query("SELECT 1 FROM credentials WHERE tenant_id = ? AND id = ?", {tenant_id, id});
  if (!rows) {
    return rows.error();
  }
  return rows->empty() ? sql::notFound("credential") : sql::staleRevision("credential");
}

}  // namespace

Result<Credential> CredentialStore::insert(Credential c) {
  if (c.tenant_id.empty()) {
    return fail(ErrorCode::kBadRequest, "a credential needs a tenant");
  }
  c.id = sql::idOr(c.id, "cred");
  const Millis now = clock_.unixMillis();
  c.created_at = c.created_at != 0 ? c.created_at : now;
  c.updated_at = c.created_at;
  c.revision = 1;
  const std::string health(toString(c.health));
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("INSERT INTO credentials (" + std::string(kColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {c.id,
                        c.tenant_id,
                        c.provider,
                        c.label,
                        c.fingerprint,
                        c.base_url,
                        c.options_json,
                        c.envelope.ciphertext,
                        c.envelope.nonce,
                        c.envelope.tag,
                        c.envelope.wrapped_dek,
                        c.envelope.kek_id,
                        c.envelope.kek_version,
                        c.envelope.format_version,
                        health,
                        c.health_detail,
                        c.created_at,
                        c.updated_at,
                        c.last_used_at,
                        c.revision});
    if (!n) {
      return n.error();
    }
    if (auto ch = recordChange(conn, "credential", c.id, c.tenant_id, now); !ch) {
      return ch.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return c;
}

Result<Credential> CredentialStore::get(std::string_view tenant_id, std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "credential", fromRow);
  });
}

Result<std::vector<Credential>> CredentialStore::list(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id = ? ORDER BY id LIMIT ?"),
                        {tenant_id, clampLimit(kMaxPageSize)},
                        fromRow);
  });
}

Result<Credential> CredentialStore::replace(const Credential& c, std::int64_t expected_revision) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<Credential> {
    auto rows = conn.query(
        "UPDATE credentials SET provider = ?, label = ?, fingerprint = ?, base_url = ?, "
        "options_json = ?, ciphertext = ?, nonce = ?, tag = ?, wrapped_dek = ?, kek_id = ?, "
        "kek_version = ?, format_version = ?, health = 'unknown', health_detail = '', "
        "updated_at = ?, revision = revision + 1 WHERE tenant_id = ? AND id = ? AND revision = ? "
        "RETURNING " +
            std::string(kColumns),
        {c.provider,
         c.label,
         c.fingerprint,
         c.base_url,
         c.options_json,
         c.envelope.ciphertext,
         c.envelope.nonce,
         c.envelope.tag,
         c.envelope.wrapped_dek,
         c.envelope.kek_id,
         c.envelope.kek_version,
         c.envelope.format_version,
         now,
         c.tenant_id,
         c.id,
         expected_revision});
    if (!rows) {
      return rows.error();
    }
    if (rows->empty()) {
      return casMiss(conn, c.id, c.tenant_id);
    }
    if (auto ch = recordChange(conn, "credential", c.id, c.tenant_id, now); !ch) {
      return ch.error();
    }
    return fromRow(rows->front());
  });
}

Result<void> CredentialStore::remove(std::string_view tenant_id, std::string_view id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM credentials WHERE tenant_id = ? AND id = ?", {tenant_id, id});
    if (!n) {
      if (n.error().code == ErrorCode::kConflict) {
        return fail(ErrorCode::kConflict, "credential is used by a JWT key", n.error().log_detail);
      }
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("credential");
    }
    if (auto ch = recordChange(conn, "credential", id, tenant_id, now); !ch) {
      return ch.error();
    }
    return {};
  });
}

Result<void> CredentialStore::updateHealth(std::string_view tenant_id,
                                           std::string_view id,
                                           CredentialHealth health,
                                           std::string_view detail) {
  const std::string health_text(toString(health));
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE credentials SET health = ?, health_detail = ? WHERE tenant_id = ? AND id = ?",
        {health_text, detail, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("credential");
    }
    return {};
  });
}

Result<void> CredentialStore::touchLastUsed(std::string_view tenant_id,
                                            std::string_view id,
                                            Millis at) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE credentials SET last_used_at = ? WHERE tenant_id = ? AND id = ? AND "
        "last_used_at < ?",
        {at, tenant_id, id, at});
    if (!n) {
      return n.error();
    }
    return {};
  });
}

Result<std::uint64_t> CredentialStore::countByKek(std::string_view kek_id, std::uint32_t version) {
  return db_.withConnection([&](Connection& conn) -> Result<std::uint64_t> {
    auto row =
        conn.queryOne("SELECT COUNT(*) FROM credentials WHERE kek_id = ? AND kek_version = ?",
                      {kek_id, version},
                      "count");
    if (!row) {
      return row.error();
    }
    return row->uint64(0);
  });
}

Result<std::vector<Credential>> CredentialStore::listByKekVersionBelow(std::uint32_t version,
                                                                       std::size_t limit,
                                                                       std::string_view after_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("kek_version < ? AND id > ? ORDER BY id LIMIT ?"),
                        {version, after_id, clampLimit(limit)},
                        fromRow);
  });
}

Result<std::int64_t> CredentialStore::casUpdateEnvelope(std::string_view id,
                                                        std::int64_t expected_revision,
                                                        const Envelope& new_envelope) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<std::int64_t> {
    auto rows = conn.query(
        "UPDATE credentials SET wrapped_dek = ?, kek_version = ?, updated_at = ?, "
        "revision = revision + 1 WHERE id = ? AND revision = ? RETURNING revision, tenant_id",
        {new_envelope.wrapped_dek, new_envelope.kek_version, now, id, expected_revision});
    if (!rows) {
      return rows.error();
    }
    if (rows->empty()) {
      return casMiss(conn, id, {});
    }
    const std::string tenant_id = rows->front().text(1);
    if (auto ch = recordChange(conn, "credential", id, tenant_id, now); !ch) {
      return ch.error();
    }
    return rows->front().int64(0);
  });
}

Result<std::vector<Credential>> CredentialStore::listAll(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("id > ? ORDER BY id LIMIT ?"),
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

}  // namespace livery::storage
