#pragma once

// Schema migrations. The .sql files under src/storage/migrations/<dialect>/NNNN_name.sql are
// embedded into the binary at build time (embed_migrations.cmake generates a .cpp), so a
// running binary never reads schema files from disk.
//
// migrate() applies, in version order and inside ONE transaction, every embedded migration not
// yet recorded in `schema_migrations` (version, name, SHA-256 of the SQL, applied_at). It is
// idempotent (a second run applies nothing) and safe when several nodes start at once: on
// PostgreSQL the transaction first takes an advisory lock, so a second node waits, then sees
// the versions the first one recorded. A recorded migration whose SQL changed since it was
// applied is refused (kInternal): migrations are append-only; fix forward with a new file.
// A database that is ahead of this binary (a newer node migrated it) is accepted: migrations
// are additive, so an older binary keeps working during a rolling upgrade.

#include <cstdint>
#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"

namespace livery::storage {

struct Migration {
  int version = 0;
  std::string_view name;  // file name without the extension, e.g. "0001_initial"
  std::string_view sql;
};

// The migrations compiled into this binary for `dialect`, sorted by version.
std::span<const Migration> embeddedMigrations(Dialect dialect);

struct MigrationReport {
  int applied = 0;         // migrations applied by this call
  int schema_version = 0;  // highest version recorded after the call
};

[[nodiscard]] Result<MigrationReport> migrate(Database& db, const Clock& clock);

}  // namespace livery::storage
