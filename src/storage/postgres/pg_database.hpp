#pragma once

// The scale-out backend: PostgreSQL through libpq, one synchronous session per pool slot
// (callers run stores on a thread pool, never on an I/O thread).
//
// - Every wait on the server has a deadline: connecting is bounded by connect_timeout; each
//   statement runs under the server-side statement_timeout, and the client gives up (and
//   discards the session) at statement_timeout + io_grace even if the network went silent.
// - Broken sessions are replaced: a statement that fails because the connection is gone marks
//   it broken (the pool drops it); an idle session whose server went away (restart,
//   pg_terminate_backend) is noticed before it is lent out, without a round trip, and a fresh
//   one is opened instead.
// - `?` placeholders are rewritten to `$n` (postgres/placeholders.hpp); statements are
//   prepared once per session; bytea parameters travel in binary format (no escaping), text
//   and numbers in text format (converted by the server like literals); results come back as
//   text and are decoded per column type.
// - The URL is a secret (it may carry a password): it is held in SecretBytes, and every
//   message libpq produces is scrubbed of the password before it reaches an Error.

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "storage/database.hpp"

namespace livery::storage {

struct PgOptions {
  SecretBytes url;     // postgresql://user:password@host:port/db?… or "key=value …"
  std::string schema;  // search_path for every session (empty: the server default)
  std::chrono::milliseconds connect_timeout{5000};  // rounded up to whole seconds, min 2 s
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds io_grace{2000};  // client-side deadline beyond statement_timeout
  PoolOptions pool{};
  bool run_migrations = true;
  std::size_t statement_cache_size = 256;  // prepared statements per session
  std::string application_name = "livery";
};

struct PgShared;  // settings shared by the database and its sessions

class PgDatabase final : public Database {
 public:
  // Validates the URL, opens one session (so a bad URL or an unreachable server fails at
  // start-up) and applies the migrations.
  [[nodiscard]] static Result<std::unique_ptr<PgDatabase>> open(PgOptions options,
                                                                const Clock& clock);
  ~PgDatabase() override;

  Dialect dialect() const noexcept override { return Dialect::kPostgres; }

 protected:
  Result<std::unique_ptr<Connection>> connect() override;

 private:
  PgDatabase(std::shared_ptr<const PgShared> shared, PoolOptions pool);
  std::shared_ptr<const PgShared> shared_;
};

}  // namespace livery::storage
