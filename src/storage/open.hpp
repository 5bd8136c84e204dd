#pragma once

// Opens the configured backend (the composition root maps config::StorageConfig onto
// DatabaseOptions). Start-up code: errors are Results the caller turns into an exit.

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/secret.hpp"
#include "storage/database.hpp"
#include "storage/sqlite/sqlite_database.hpp"

namespace livery::storage {

struct DatabaseOptions {
  std::string backend = "sqlite";  // sqlite | postgres
  // sqlite
  std::string sqlite_path;  // e.g. <data_dir>/livery.db
  SqliteSync sqlite_synchronous = SqliteSync::kFull;
  std::uint64_t sqlite_mmap_bytes = std::uint64_t{1} << 30;  // PRAGMA mmap_size; 0: off
  std::chrono::milliseconds busy_timeout{5000};
  // postgres
  SecretBytes postgres_url;
  std::string postgres_schema;
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds connect_timeout{5000};
  // both
  std::size_t pool_size = 4;
  std::chrono::milliseconds acquire_timeout{5000};
  bool run_migrations = true;
};

// Opens the database and applies migrations. kBadRequest for an unknown backend.
[[nodiscard]] Result<std::unique_ptr<Database>> openDatabase(DatabaseOptions options,
                                                             const Clock& clock);

}  // namespace livery::storage
