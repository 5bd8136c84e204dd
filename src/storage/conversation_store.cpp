#include "storage/conversation_store.hpp"

#include "storage/sql_util.hpp"
#include "storage/store_common.hpp"

namespace livery::storage {

namespace {

constexpr std::string_view kColumns =
    "id, tenant_id, user_id, title, model, messages_json, created_at, updated_at";

Result<Conversation> fromRow(const Row& row) {
  return Conversation{.id = row.text(0),
                      .tenant_id = row.text(1),
                      .user_id = row.text(2),
                      .title = row.text(3),
                      .model = row.text(4),
                      .messages_json = row.text(5),
                      .created_at = row.int64(6),
                      .updated_at = row.int64(7)};
}

}  // namespace

Result<Conversation> ConversationStore::insert(Conversation c) {
  if (c.tenant_id.empty() || c.user_id.empty()) {
    return fail(ErrorCode::kBadRequest, "a conversation needs a tenant and a user");
  }
  if (c.messages_json.size() > max_bytes_) {
    return fail(ErrorCode::kPayloadTooLarge, "conversation is too large");
  }
  c.id = sql::idOr(c.id, "cnv");
  c.created_at = c.created_at != 0 ? c.created_at : clock_.unixMillis();
  c.updated_at = c.created_at;
  return db_.withConnection([&](Connection& conn) -> Result<Conversation> {
    // The user must belong to the tenant: checked in the same statement. (The casts give
    // PostgreSQL the parameter types a SELECT list cannot infer.)
    auto n = conn.exec("INSERT INTO conversations (" + std::string(kColumns) +
                           ") SELECT ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT) "
                           "WHERE EXISTS (SELECT 1 FROM users "
                           "WHERE tenant_id = ? AND id = ?)",
                       {c.id,
                        c.tenant_id,
                        c.user_id,
                        c.title,
                        c.model,
                        c.messages_json,
                        c.created_at,
                        c.updated_at,
                        c.tenant_id,
                        c.user_id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("user");
    }
    return c;
  });
}

Result<Conversation> ConversationStore::get(std::string_view tenant_id,
                                            std::string_view user_id,
                                            std::string_view id) {
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "SELECT " + std::string(kColumns) +
                        " FROM conversations WHERE tenant_id = ? AND user_id = ? AND id = ?",
                    {tenant_id, user_id, id},
                    "conversation",
                    fromRow);
  });
}

Result<std::vector<Conversation>> ConversationStore::list(std::string_view tenant_id,
                                                          std::string_view user_id,
                                                          std::size_t limit) {
  return db_.withConnection([&](Connection& conn) {
    return sql::collect(conn,
                        "SELECT id, tenant_id, user_id, title, model, '', created_at, updated_at "
                        "FROM conversations WHERE tenant_id = ? AND user_id = ? "
                        "ORDER BY updated_at DESC, id DESC LIMIT ?",
                        {tenant_id, user_id, clampLimit(limit)},
                        fromRow);
  });
}

Result<Conversation> ConversationStore::update(const Conversation& c) {
  if (c.messages_json.size() > max_bytes_) {
    return fail(ErrorCode::kPayloadTooLarge, "conversation is too large");
  }
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) {
    return sql::one(conn,
                    "UPDATE conversations SET title = ?, model = ?, messages_json = ?, "
                    "updated_at = ? WHERE tenant_id = ? AND user_id = ? AND id = ? RETURNING " +
                        std::string(kColumns),
                    {c.title, c.model, c.messages_json, now, c.tenant_id, c.user_id, c.id},
                    "conversation",
                    fromRow);
  });
}

Result<void> ConversationStore::remove(std::string_view tenant_id,
                                       std::string_view user_id,
                                       std::string_view id) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM conversations WHERE tenant_id = ? AND user_id = ? AND id = ?",
                       {tenant_id, user_id, id});
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return sql::notFound("conversation");
    }
    return {};
  });
}

}  // namespace livery::storage
