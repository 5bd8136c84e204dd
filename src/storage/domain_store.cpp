#include "storage/domain_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/sql_util.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "host, tenant_id, status, verification_token, created_at, verified_at";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM domains WHERE " + std::string(where);
}

Result<Domain> fromRow(const Row& row) {
  auto status = parseDomainStatus(row.text(2));
  if (!status) {
    return fail(ErrorCode::kInternal, "storage error", "undecodable domain status");
  }
  return Domain{.host = row.text(0),
                .tenant_id = row.text(1),
                .status = *status,
                .verification_token = row.text(3),
                .created_at = row.int64(4),
                .verified_at = row.int64(5)};
}

bool allowed(DomainStatus from, DomainStatus to) {
  switch (to) {
    case DomainStatus::kVerified:
      return from == DomainStatus::kPending || from == DomainStatus::kActive;
    case DomainStatus::kActive:
      return from == DomainStatus::kVerified;
    case DomainStatus::kPending:
      return true;
  }
  return false;
}

}  // namespace

Result<Domain> DomainStore::insert(Domain d) {
  if (d.host.empty() || d.tenant_id.empty()) {
    return fail(ErrorCode::kBadRequest, "a domain needs a host and a tenant");
  }
  d.host = sql::lowerAscii(d.host);
  const Millis now = clock_.unixMillis();
  d.created_at = d.created_at != 0 ? d.created_at : now;
  const std::string status(toString(d.status));
  auto r = inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n =
        conn.exec("INSERT INTO domains (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?)",
                  {d.host, d.tenant_id, status, d.verification_token, d.created_at, d.verified_at});
    if (!n) {
      if (n.error().code == ErrorCode::kConflict) {
        return fail(ErrorCode::kConflict, "domain is already registered", n.error().log_detail);
      }
      return n.error();
    }
    if (auto c = recordChange(conn, "domain", d.host, d.tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return d;
}

Result<Domain> DomainStore::resolve(std::string_view host) {
  const std::string lower = sql::lowerAscii(host);
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn, selectWhere("host = ?"), {lower}, "domain", fromRow);
  });
}

Result<Domain> DomainStore::get(std::string_view tenant_id, std::string_view host) {
  const std::string lower = sql::lowerAscii(host);
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND host = ?"), {tenant_id, lower}, "domain", fromRow);
  });
}

Result<std::vector<Domain>> DomainStore::list(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id = ? ORDER BY host LIMIT ?"),
                        {tenant_id, clampLimit(kMaxPageSize)},
                        fromRow);
  });
}

Result<std::vector<Domain>> DomainStore::listAll(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("host > ? ORDER BY host LIMIT ?"),
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

Result<Domain> DomainStore::setStatus(std::string_view tenant_id,
                                      std::string_view host,
                                      DomainStatus status) {
  const std::string lower = sql::lowerAscii(host);
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<Domain> {
    auto current = sql::one(
        conn, selectWhere("tenant_id = ? AND host = ?"), {tenant_id, lower}, "domain", fromRow);
    if (!current) {
      return current.error();
    }
    if (current->status == status) {
      return current;
    }
    if (!allowed(current->status, status)) {
      return fail(ErrorCode::kConflict,
                  "domain cannot move from " + std::string(toString(current->status)) + " to " +
                      std::string(toString(status)));
    }
    Millis verified_at = current->verified_at;
    if (status == DomainStatus::kPending) {
      verified_at = 0;
    } else if (current->status == DomainStatus::kPending) {
      verified_at = now;
    }
    const std::string status_text(toString(status));
    const std::string from_text(toString(current->status));
    // The status guard makes the transition a compare-and-set even without the row lock.
    auto n = conn.exec(
        "UPDATE domains SET status = ?, verified_at = ? WHERE tenant_id = ? AND host = ? AND "
        "status = ?",
        {status_text, verified_at, tenant_id, lower, from_text});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return fail(ErrorCode::kConflict, "domain changed meanwhile; retry");
    }
    if (auto c = recordChange(conn, "domain", lower, tenant_id, now); !c) {
      return c.error();
    }
    current->status = status;
    current->verified_at = verified_at;
    return current;
  });
}

Result<void> DomainStore::remove(std::string_view tenant_id, std::string_view host) {
  const std::string lower = sql::lowerAscii(host);
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM domains WHERE tenant_id = ? AND host = ?", {tenant_id, lower});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("domain");
    }
    if (auto c = recordChange(conn, "domain", lower, tenant_id, now); !c) {
      return c.error();
    }
    return {};
  });
}

}  // namespace livery::storage
