#pragma once

// The embedded default backend: one SQLite file in the data directory, shared by a small pool
// of connections (one per pool slot; each connection is used by one thread at a time).
//
// Settings applied to every connection:
//   journal_mode=WAL   readers never block the writer and vice versa;
//   synchronous        FULL by default: every commit fsyncs the WAL, so a usage batch the
//                      gateway acknowledged survives a power loss. NORMAL fsyncs only at
//                      checkpoints: still crash-safe for the database file (no corruption) and
//                      much faster, but the last commits before a power loss (not a process
//                      crash) can be lost, i.e. usage rows for responses a client already
//                      received. OFF leaves durability to the OS. Batching (many usage records
//                      per transaction) is what keeps FULL fast, and with FULL the WAL is
//                      written through WalWriteVfs (one write per commit, not two per page);
//   busy_timeout       writers wait this long for the write lock, then fail kUnavailable;
//   foreign_keys=ON    tenant deletion cascades, cross-tenant references are refused.
// The database file (and the -wal/-shm files SQLite derives from it) is created with mode
// 0600: it holds key hashes and credential envelopes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "storage/database.hpp"
#include "storage/sqlite/wal_write_vfs.hpp"

namespace livery::storage {

enum class SqliteSync { kOff, kNormal, kFull };

struct SqliteOptions {
  std::string path;  // the database file; created (mode 0600) if missing
  SqliteSync synchronous = SqliteSync::kFull;
  std::chrono::milliseconds busy_timeout{5000};
  PoolOptions pool{};
  bool run_migrations = true;  // apply the embedded migrations at open
  // Bound on cached prepared statements per connection.
  std::size_t statement_cache_size = 256;
  // PRAGMA mmap_size per connection: reads of the database file (not the WAL) map its pages
  // instead of copying them through pread, which halves the start-up scan of a million keys
  // (bench/startup.sh). Address space only; 0 turns it off.
  std::uint64_t mmap_bytes = std::uint64_t{1} << 30;
};

class SqliteDatabase final : public Database {
 public:
  // Opens (creating if needed) the file, checks it can be written, and applies the migrations.
  // `clock` stamps the migration records; it is not retained.
  [[nodiscard]] static Result<std::unique_ptr<SqliteDatabase>> open(SqliteOptions options,
                                                                    const Clock& clock);
  ~SqliteDatabase() override;

  Dialect dialect() const noexcept override { return Dialect::kSqlite; }
  const SqliteOptions& options() const noexcept { return options_; }

 protected:
  Result<std::unique_ptr<Connection>> connect() override;

 private:
  explicit SqliteDatabase(SqliteOptions options);
  SqliteOptions options_;
  // With synchronous=FULL, connections write the WAL through this shim (one write per commit
  // instead of two per page; see wal_write_vfs.hpp). Outlives every connection: the destructor
  // closes them before members are destroyed.
  std::unique_ptr<WalWriteVfs> wal_vfs_;
};

std::string_view toString(SqliteSync sync);
// "off" | "normal" | "full" (case-insensitive).
Result<SqliteSync> parseSqliteSync(std::string_view name);

}  // namespace livery::storage
