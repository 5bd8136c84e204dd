#include "storage/sqlite/sqlite_database.hpp"

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/migrations.hpp"

namespace livery::storage {

std::string_view toString(SqliteSync sync) {
  switch (sync) {
    case SqliteSync::kOff:
      return "off";
    case SqliteSync::kNormal:
      return "normal";
    case SqliteSync::kFull:
      return "full";
  }
  return "full";
}

Result<SqliteSync> parseSqliteSync(std::string_view name) {
  std::string lower;
  for (char c : name) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (lower == "off") {
    return SqliteSync::kOff;
  }
  if (lower == "normal") {
    return SqliteSync::kNormal;
  }
  if (lower == "full") {
    return SqliteSync::kFull;
  }
  return fail(ErrorCode::kBadRequest, "synchronous must be off, normal or full");
}

namespace {

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

ErrorCode mapSqliteCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return ErrorCode::kConflict;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

bool onlyWhitespace(const char* p) {
  if (p == nullptr) {
    return true;
  }
  for (; *p != '\0'; ++p) {
    if (std::isspace(static_cast<unsigned char>(*p)) == 0 && *p != ';') {
      return false;
    }
  }
  return true;
}

// One SQLite session with a bounded cache of prepared statements.
class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, std::size_t cache_size) : db_(db), cache_size_(cache_size) {}
  ~SqliteConnection() override {
    clearCache();
    sqlite3_close_v2(db_);
  }

  using Connection::exec;
  using Connection::queryEach;

  Dialect dialect() const noexcept override { return Dialect::kSqlite; }

  Result<std::int64_t> exec(std::string_view sql, Params params) override {
    auto stmt = prepareAndBind(sql, params);
    if (!stmt) {
      return stmt.error();
    }
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) {
      rc = sqlite3_step(*stmt);
    }
    if (rc != SQLITE_DONE) {
      auto err = error(sql);
      release(*stmt);
      return err;
    }
    release(*stmt);
    return static_cast<std::int64_t>(sqlite3_changes64(db_));
  }

  Result<void> queryEach(std::string_view sql, Params params, const RowCallback& on_row) override {
    auto stmt = prepareAndBind(sql, params);
    if (!stmt) {
      return stmt.error();
    }
    Row row;
    const int columns = sqlite3_column_count(*stmt);
    row.cells().resize(static_cast<std::size_t>(columns));
    for (;;) {
      const int rc = sqlite3_step(*stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        auto err = error(sql);
        release(*stmt);
        return err;
      }
      for (int i = 0; i < columns; ++i) {
        readColumn(*stmt, i, row.cells()[static_cast<std::size_t>(i)]);
      }
      if (!on_row(row)) {
        break;
      }
    }
    release(*stmt);
    return {};
  }

  Result<void> execScript(std::string_view sql) override {
    std::string owned(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      return databaseError(mapSqliteCode(rc), Dialect::kSqlite, detail, sql);
    }
    return {};
  }

  Result<void> begin() override { return simple("BEGIN IMMEDIATE"); }
  Result<void> commit() override { return simple("COMMIT"); }
  Result<void> rollback() override {
    if (!inTransaction()) {
      return {};
    }
    return simple("ROLLBACK");
  }
  bool inTransaction() const noexcept override { return sqlite3_get_autocommit(db_) == 0; }
  Result<void> serializeOn(std::int64_t /*key*/) override {
    // BEGIN IMMEDIATE already holds the database's single write lock.
    return {};
  }
  bool broken() const noexcept override { return false; }

 private:
  Result<void> simple(std::string_view sql) {
    auto r = exec(sql, Params{});
    if (!r) {
      return r.error();
    }
    return {};
  }

  // Readies a cached statement for its next use and drops the borrowed parameter pointers,
  // which dangle once the caller's exec()/queryEach() returns.
  static void release(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }

  Error error(std::string_view sql) const {
    const int rc = sqlite3_extended_errcode(db_);
    return databaseError(mapSqliteCode(rc), Dialect::kSqlite, sqlite3_errmsg(db_), sql);
  }

  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      return it->second;
    }
    if (cache_.size() >= cache_size_) {
      clearCache();
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(
        db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) {
      return error(sql);
    }
    if (stmt == nullptr) {
      return databaseError(ErrorCode::kInternal, Dialect::kSqlite, "empty statement", sql);
    }
    const char* end = sql.data() + sql.size();
    if (tail != nullptr && tail < end && !onlyWhitespace(std::string(tail, end).c_str())) {
      sqlite3_finalize(stmt);
      return databaseError(
          ErrorCode::kInternal, Dialect::kSqlite, "several statements (use execScript)", sql);
    }
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  Result<sqlite3_stmt*> prepareAndBind(std::string_view sql, Params params) {
    auto prepared = prepare(sql);
    if (!prepared) {
      return prepared.error();
    }
    sqlite3_stmt* stmt = *prepared;
    // No sqlite3_clear_bindings: the count must match and every parameter is bound below.
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      return databaseError(
          ErrorCode::kInternal,
          Dialect::kSqlite,
          fmt::format("statement takes {} parameters, {} given", expected, params.size()),
          sql);
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      const auto& v = params[i].value();
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string_view>(&v)) {
        // A null data pointer would bind SQL NULL; an empty text is still text.
        rc = sqlite3_bind_text64(stmt,
                                 index,
                                 s->data() != nullptr ? s->data() : "",
                                 s->size(),
                                 SQLITE_STATIC,
                                 SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        rc = b->bytes.empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                              : sqlite3_bind_blob64(
                                    stmt, index, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) {
        return error(sql);
      }
    }
    return stmt;
  }

  static void readColumn(sqlite3_stmt* stmt, int i, Row::Cell& cell) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        cell = static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
        break;
      case SQLITE_FLOAT:
        cell = sqlite3_column_double(stmt, i);
        break;
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(  // NOLINT(*-reinterpret-cast)
            sqlite3_column_text(stmt, i));
        const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
        if (auto* s = std::get_if<std::string>(&cell)) {
          s->assign(p, n);
        } else {
          cell.emplace<std::string>(p, n);
        }
        break;
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i));
        const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
        if (auto* b = std::get_if<std::vector<unsigned char>>(&cell)) {
          b->assign(p, p + n);
        } else {
          cell.emplace<std::vector<unsigned char>>(p, p + n);
        }
        break;
      }
      default:
        cell = std::monostate{};
        break;
    }
  }

  void clearCache() noexcept {
    for (auto& [sql, stmt] : cache_) {
      sqlite3_finalize(stmt);
    }
    cache_.clear();
  }

  sqlite3* db_;
  std::size_t cache_size_;
  std::unordered_map<std::string, sqlite3_stmt*, TransparentHash, std::equal_to<>> cache_;
};

// Creates the file with mode 0600 if it does not exist, and narrows an existing one. SQLite
// gives the -wal and -shm files the permissions of the database file.
Result<void> prepareFile(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path(), ec);
  }
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  if (errno != EEXIST) {
    return fail(ErrorCode::kUnavailable,
                "cannot create the database file",
                fmt::format("sqlite: open({}) failed: errno {}", path, errno));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    ::chmod(path.c_str(), 0600);
  }
  return {};
}

}  // namespace

SqliteDatabase::SqliteDatabase(SqliteOptions options)
    : Database(options.pool), options_(std::move(options)) {}

SqliteDatabase::~SqliteDatabase() {
  closeAll();
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::open(SqliteOptions options,
                                                             const Clock& clock) {
  if (options.path.empty() || options.path == ":memory:") {
    return fail(ErrorCode::kBadRequest,
                "sqlite needs a file path",
                "an in-memory database cannot be shared by a connection pool");
  }
  if (auto r = prepareFile(options.path); !r) {
    return r.error();
  }
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(std::move(options)));
  if (db->options_.synchronous == SqliteSync::kFull) {
    auto vfs = WalWriteVfs::create();
    if (!vfs) {
      return vfs.error();
    }
    db->wal_vfs_ = std::move(*vfs);
  }
  // Open one connection now so a bad path or an unwritable file fails at start-up.
  {
    auto lease = db->acquire();
    if (!lease) {
      return lease.error();
    }
  }
  if (db->options_.run_migrations) {
    auto applied = migrate(*db, clock);
    if (!applied) {
      return applied.error();
    }
  }
  return db;
}

Result<std::unique_ptr<Connection>> SqliteDatabase::connect() {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;  // file created by open()
  const int rc =
      sqlite3_open_v2(options_.path.c_str(), &raw, flags, wal_vfs_ ? wal_vfs_->name() : nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return fail(ErrorCode::kUnavailable,
                "cannot open the database",
                fmt::format("sqlite: {} ({})", detail, options_.path));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options_.busy_timeout.count()));
  auto conn = std::make_unique<SqliteConnection>(raw, options_.statement_cache_size);

  // journal_mode is persistent in the file; reading it back confirms WAL is in effect (it is
  // refused on some network file systems, where we would rather fail loudly).
  auto mode = conn->queryOne("PRAGMA journal_mode=WAL", {}, "journal_mode");
  if (!mode) {
    return mode.error();
  }
  if (mode->text(0) != "wal") {
    return fail(ErrorCode::kUnavailable,
                "cannot enable write-ahead logging",
                fmt::format("sqlite: journal_mode is {}", mode->text(0)));
  }
  const std::string pragmas = fmt::format(
      "PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
      "PRAGMA mmap_size={};",
      toString(options_.synchronous),
      options_.mmap_bytes);
  if (auto r = conn->execScript(pragmas); !r) {
    return r.error();
  }
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace livery::storage
