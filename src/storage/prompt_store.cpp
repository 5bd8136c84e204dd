#include "storage/prompt_store.hpp"

#include "storage/change_store.hpp"
#include "storage/codec.hpp"
#include "storage/lock_keys.hpp"
#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, version, content, author, note, commit_id, eval_json, eval_passed, status, "
    "created_at, activated_at";

std::string selectWhere(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM prompt_versions WHERE " + std::string(where);
}

Result<PromptVersion> fromRow(const Row& row) {
  auto status = parsePromptStatus(row.text(9));
  if (!status) {
    return fail(ErrorCode::kInternal, "storage error", "undecodable prompt status");
  }
  return PromptVersion{.id = row.text(0),
                       .tenant_id = row.text(1),
                       .version = row.int64(2),
                       .content = row.text(3),
                       .author = row.text(4),
                       .note = row.text(5),
                       .commit_id = row.text(6),
                       .eval_json = row.text(7),
                       .eval_passed = row.boolean(8),
                       .status = *status,
                       .created_at = row.int64(10),
                       .activated_at = row.int64(11)};
}

// Inside a change transaction: retires the tenant's active version, activates `target` and
// points the tenant at it.
Result<PromptVersion> switchActive(Connection& conn, PromptVersion target, Millis now) {
  if (auto n = conn.exec(
          "UPDATE prompt_versions SET status = 'retired' WHERE tenant_id = ? AND status = 'active'",
          {target.tenant_id});
      !n) {
    return n.error();
  }
  if (auto n = conn.exec(
          "UPDATE prompt_versions SET status = 'active', activated_at = ? WHERE tenant_id = ? "
          "AND id = ?",
          {now, target.tenant_id, target.id});
      !n) {
    return n.error();
  }
  auto t = conn.exec(
      "UPDATE tenants SET active_prompt_id = ?, updated_at = ?, revision = revision + 1 "
      "WHERE id = ?",
      {target.id, now, target.tenant_id});
  if (!t) {
    return t.error();
  }
  if (*t == 0) {
    return sql::notFound("tenant");
  }
  if (auto c = recordChange(conn, "prompt", target.id, target.tenant_id, now); !c) {
    return c.error();
  }
  if (auto c = recordChange(conn, "tenant", target.tenant_id, target.tenant_id, now); !c) {
    return c.error();
  }
  target.status = PromptStatus::kActive;
  target.activated_at = now;
  return target;
}

}  // namespace

Result<PromptVersion> PromptStore::create(PromptVersion draft) {
  if (draft.tenant_id.empty()) {
    return fail(ErrorCode::kBadRequest, "a prompt version needs a tenant");
  }
  draft.id = sql::idOr(draft.id, "pv");
  draft.created_at = draft.created_at != 0 ? draft.created_at : clock_.unixMillis();
  draft.status = PromptStatus::kDraft;
  draft.activated_at = 0;
  draft.eval_json.clear();
  draft.eval_passed = false;
  return db_.inTransaction([&](Connection& conn) -> Result<PromptVersion> {
    // Gap-free numbering: concurrent creators for the tenant queue here (PostgreSQL; SQLite
    // already serialises writers). UNIQUE (tenant_id, version) is the backstop.
    if (auto l = conn.serializeOn(kPromptVersionLock); !l) {
      return l.error();
    }
    // A Git commit is imported once per tenant (prompt repository sync): checked under the
    // same lock, so two concurrent syncs cannot both import it.
    if (!draft.commit_id.empty()) {
      auto dup = conn.query(
          "SELECT version FROM prompt_versions WHERE tenant_id = ? AND commit_id = ? LIMIT 1",
          {draft.tenant_id, draft.commit_id});
      if (!dup) {
        return dup.error();
      }
      if (!dup->empty()) {
        return fail(ErrorCode::kConflict,
                    "commit " + draft.commit_id.substr(0, 40) + " is already imported as v" +
                        std::to_string((*dup)[0].int64(0)));
      }
    }
    auto next = conn.queryOne(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM prompt_versions WHERE tenant_id = ?",
        {draft.tenant_id},
        "version");
    if (!next) {
      return next.error();
    }
    draft.version = next->int64(0);
    const std::string status(toString(draft.status));
    auto n = conn.exec("INSERT INTO prompt_versions (" + std::string(kColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {draft.id,
                        draft.tenant_id,
                        draft.version,
                        draft.content,
                        draft.author,
                        draft.note,
                        draft.commit_id,
                        draft.eval_json,
                        draft.eval_passed,
                        status,
                        draft.created_at,
                        draft.activated_at});
    if (!n) {
      return n.error();
    }
    return draft;
  });
}

Result<PromptVersion> PromptStore::get(std::string_view tenant_id, std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "prompt version", fromRow);
  });
}

Result<PromptVersion> PromptStore::getVersion(std::string_view tenant_id, std::int64_t version) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    selectWhere("tenant_id = ? AND version = ?"),
                    {tenant_id, version},
                    "prompt version",
                    fromRow);
  });
}

Result<std::vector<PromptVersion>> PromptStore::list(std::string_view tenant_id,
                                                     std::size_t limit) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id = ? ORDER BY version DESC LIMIT ?"),
                        {tenant_id, clampLimit(limit)},
                        fromRow);
  });
}

Result<PromptVersion> PromptStore::active(std::string_view tenant_id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    selectWhere("tenant_id = ? AND id = (SELECT active_prompt_id FROM tenants "
                                "WHERE id = ?)"),
                    {tenant_id, tenant_id},
                    "active prompt",
                    fromRow);
  });
}

Result<void> PromptStore::recordEval(std::string_view tenant_id,
                                     std::string_view id,
                                     std::string_view eval_json,
                                     bool passed) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec(
        "UPDATE prompt_versions SET eval_json = ?, eval_passed = ? WHERE tenant_id = ? AND id = ?",
        {eval_json, passed, tenant_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("prompt version");
    }
    return {};
  });
}

Result<PromptVersion> PromptStore::activate(std::string_view tenant_id,
                                            std::string_view id,
                                            EvalGate gate) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<PromptVersion> {
    auto target = sql::one(
        conn, selectWhere("tenant_id = ? AND id = ?"), {tenant_id, id}, "prompt version", fromRow);
    if (!target) {
      return target.error();
    }
    if (target->status == PromptStatus::kActive) {
      return target;
    }
    if (gate == EvalGate::kRequirePassed && !target->eval_passed) {
      return fail(ErrorCode::kUnprocessable,
                  "this prompt version has not passed its evaluation",
                  "activation refused by the evaluation gate");
    }
    if (gate == EvalGate::kRefuseFailed && !target->eval_json.empty() && !target->eval_passed) {
      return fail(ErrorCode::kUnprocessable,
                  "this prompt version failed its evaluation",
                  "activation refused: the recorded evaluation failed");
    }
    return switchActive(conn, std::move(*target), now);
  });
}

Result<PromptVersion> PromptStore::rollback(std::string_view tenant_id) {
  const Millis now = clock_.unixMillis();
  return inChangeTransaction(db_, [&](Connection& conn) -> Result<PromptVersion> {
    auto current = sql::one(conn,
                            selectWhere("tenant_id = ? AND status = 'active'"),
                            {tenant_id},
                            "active prompt version",
                            fromRow);
    if (!current) {
      return current.error();
    }
    auto previous = sql::one(conn,
                             selectWhere("tenant_id = ? AND activated_at > 0 AND version < ? "
                                         "ORDER BY version DESC LIMIT 1"),
                             {tenant_id, current->version},
                             "earlier active prompt version",
                             fromRow);
    if (!previous) {
      return previous.error();
    }
    return switchActive(conn, std::move(*previous), now);
  });
}

Result<std::vector<PromptVersion>> PromptStore::listActiveAll(const Page& page) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        selectWhere("tenant_id > ? AND id IN (SELECT active_prompt_id FROM "
                                    "tenants WHERE active_prompt_id <> '') "
                                    "ORDER BY tenant_id LIMIT ?"),
                        {page.after, clampLimit(page.limit)},
                        fromRow);
  });
}

}  // namespace livery::storage
