#include "storage/migrations.hpp"

#include <map>
#include <string>

#include <fmt/format.h>

#include "storage/codec.hpp"
#include "storage/lock_keys.hpp"

namespace livery::storage {

Result<MigrationReport> migrate(Database& db, const Clock& clock) {
  const auto migrations = embeddedMigrations(db.dialect());
  return db.inTransaction([&](Connection& conn) -> Result<MigrationReport> {
    // Two nodes starting at once: the second waits here until the first commits.
    if (auto r = conn.serializeOn(kMigrationsLock); !r) {
      return r.error();
    }
    auto created = conn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version BIGINT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " checksum TEXT NOT NULL,"
        " applied_at BIGINT NOT NULL)");
    if (!created) {
      return created.error();
    }
    auto rows = conn.query("SELECT version, checksum FROM schema_migrations ORDER BY version");
    if (!rows) {
      return rows.error();
    }
    std::map<int, std::string> applied;
    for (const auto& row : *rows) {
      applied.emplace(static_cast<int>(row.int64(0)), row.text(1));
    }

    MigrationReport report;
    for (const Migration& m : migrations) {
      const std::string checksum = sha256Hex(m.sql);
      if (auto it = applied.find(m.version); it != applied.end()) {
        if (it->second != checksum) {
          return fail(ErrorCode::kInternal,
                      "database schema does not match this binary",
                      fmt::format("migration {} was changed after it was applied; migrations are "
                                  "append-only",
                                  m.name));
        }
        continue;
      }
      if (auto r = conn.execScript(m.sql); !r) {
        Error e = r.error();
        e.log_detail = fmt::format("migration {}: {}", m.name, e.log_detail);
        return e;
      }
      const std::string name(m.name);
      auto recorded = conn.exec(
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
          {m.version, name, checksum, clock.unixMillis()});
      if (!recorded) {
        return recorded.error();
      }
      applied.emplace(m.version, checksum);
      ++report.applied;
    }
    report.schema_version = applied.empty() ? 0 : applied.rbegin()->first;
    return report;
  });
}

}  // namespace livery::storage
