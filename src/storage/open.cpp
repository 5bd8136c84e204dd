#include "storage/open.hpp"

#include "storage/postgres/pg_database.hpp"

namespace livery::storage {

Result<std::unique_ptr<Database>> openDatabase(DatabaseOptions options, const Clock& clock) {
  const PoolOptions pool{.max_connections = options.pool_size,
                         .acquire_timeout = options.acquire_timeout};
  if (options.backend == "sqlite") {
    auto db = SqliteDatabase::open(SqliteOptions{.path = options.sqlite_path,
                                                 .synchronous = options.sqlite_synchronous,
                                                 .busy_timeout = options.busy_timeout,
                                                 .pool = pool,
                                                 .run_migrations = options.run_migrations,
                                                 .mmap_bytes = options.sqlite_mmap_bytes},
                                   clock);
    if (!db) {
      return db.error();
    }
    return std::unique_ptr<Database>(std::move(*db));
  }
  if (options.backend == "postgres") {
    PgOptions pg;
    pg.url = std::move(options.postgres_url);
    pg.schema = std::move(options.postgres_schema);
    pg.connect_timeout = options.connect_timeout;
    pg.statement_timeout = options.statement_timeout;
    pg.pool = pool;
    pg.run_migrations = options.run_migrations;
    auto db = PgDatabase::open(std::move(pg), clock);
    if (!db) {
      return db.error();
    }
    return std::unique_ptr<Database>(std::move(*db));
  }
  return fail(ErrorCode::kBadRequest, "storage backend must be sqlite or postgres");
}

}  // namespace livery::storage
