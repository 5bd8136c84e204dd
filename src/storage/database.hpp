#pragma once

// The tiny SQL abstraction every store is written against, once, for both backends.
//
// A Database owns a bounded pool of connections; acquire() lends one (a ConnectionLease) for
// the duration of one store call. SQL is written once with `?` placeholders; the SQLite backend
// binds them natively and the PostgreSQL backend rewrites them to `$1, $2, …`. Parameters are
// typed (null, integer, real, text, blob), so a blob never travels as text and the two
// backends agree on what a column holds (SQLite tables are STRICT for the same reason).
//
// Errors are Result values. Constraint violations (unique, foreign key, not null, check) are
// ErrorCode::kConflict; a busy/locked database, a lost connection, a statement timeout or an
// exhausted pool are kUnavailable; anything else is kInternal. An Error's log_detail names the
// backend error and the SQL text (which carries placeholders, never values) but never a bound
// parameter value, because parameters are key hashes, envelopes and other secrets.

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace livery::storage {

enum class Dialect { kSqlite, kPostgres };

std::string_view toString(Dialect dialect);

// A borrowed byte string bound as a BLOB (SQLite) or a binary bytea (PostgreSQL).
struct Blob {
  std::span<const unsigned char> bytes;

  static Blob of(std::string_view raw) {
    return Blob{{reinterpret_cast<const unsigned char*>(raw.data()),  // NOLINT(*-reinterpret-cast)
                 raw.size()}};
  }
};

// One bound parameter. Text and blobs are borrowed: the referenced bytes must outlive the
// exec()/query() call they are passed to. Binding a temporary std::string is refused at
// compile time so that a Param can never dangle when stored in a vector; name the string
// first. Unsigned integers are stored as signed 64-bit (values above 2^63 - 1 are not
// representable in either backend and are a caller bug).
class Param {
 public:
  using Value = std::variant<std::monostate, std::int64_t, double, std::string_view, Blob>;

  Param(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): SQL NULL
  template <std::integral T>
  Param(T v) : value_(static_cast<std::int64_t>(v)) {}  // NOLINT(google-explicit-constructor)
  template <std::floating_point T>
  Param(T v) : value_(static_cast<double>(v)) {}  // NOLINT(google-explicit-constructor)
  Param(std::string_view v) : value_(v) {}        // NOLINT(google-explicit-constructor)
  Param(const std::string& v)
      : value_(std::string_view(v)) {}                   // NOLINT(google-explicit-constructor)
  Param(std::string&&) = delete;                         // would dangle
  Param(const char* v) : value_(std::string_view(v)) {}  // NOLINT(google-explicit-constructor)
  Param(Blob v) : value_(v) {}                           // NOLINT(google-explicit-constructor)
  Param(const std::vector<unsigned char>& v)             // NOLINT(google-explicit-constructor)
      : value_(Blob{std::span<const unsigned char>(v)}) {}
  Param(std::vector<unsigned char>&&) = delete;  // would dangle

  const Value& value() const noexcept { return value_; }
  bool isNull() const noexcept { return std::holds_alternative<std::monostate>(value_); }

 private:
  Value value_;
};

using Params = std::span<const Param>;

// One result row, owned. Getters convert leniently between the representations the two
// backends return (PostgreSQL sends numbers as text, SQLite sends SUM() as an integer); a NULL
// reads as 0 / "" / {}. Column indexes follow the SELECT list; an index out of range reads as
// NULL.
class Row {
 public:
  using Cell =
      std::variant<std::monostate, std::int64_t, double, std::string, std::vector<unsigned char>>;

  std::size_t size() const noexcept { return cells_.size(); }
  bool isNull(std::size_t col) const;
  std::int64_t int64(std::size_t col) const;
  std::uint64_t uint64(std::size_t col) const;  // negative reads as 0
  double real(std::size_t col) const;
  std::string text(std::size_t col) const;  // a blob column reads as its raw bytes
  std::vector<unsigned char> blob(std::size_t col) const;
  bool boolean(std::size_t col) const { return int64(col) != 0; }

  // For backends: reuse the row's storage across a result (no per-row reallocation).
  std::vector<Cell>& cells() noexcept { return cells_; }
  const std::vector<Cell>& cells() const noexcept { return cells_; }

 private:
  std::vector<Cell> cells_;
};

using Rows = std::vector<Row>;

// Called once per result row; return false to stop reading (the rest of the result is
// discarded). The row is only valid during the call.
using RowCallback = std::function<bool(const Row&)>;

// One database session. Not thread-safe: it is used by one thread at a time, through a
// ConnectionLease. Prepared statements are cached per connection, keyed by SQL text (the
// cache is bounded; dynamic SQL should come from a small set of shapes).
class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Dialect dialect() const noexcept = 0;

  // Runs one statement; returns the number of rows it inserted, updated or deleted.
  [[nodiscard]] virtual Result<std::int64_t> exec(std::string_view sql, Params params) = 0;
  // Runs one statement and streams its rows to `on_row` (bounded memory on both backends).
  // `on_row` must not run statements on this connection: PostgreSQL is still streaming on it.
  [[nodiscard]] virtual Result<void> queryEach(std::string_view sql,
                                               Params params,
                                               const RowCallback& on_row) = 0;
  // Runs a script of several statements without parameters (migrations).
  [[nodiscard]] virtual Result<void> execScript(std::string_view sql) = 0;

  // Transactions. begin() takes the write lock up front on SQLite (BEGIN IMMEDIATE), so a
  // read-then-write transaction cannot fail halfway on a lock upgrade. Prefer Transaction.
  [[nodiscard]] virtual Result<void> begin() = 0;
  [[nodiscard]] virtual Result<void> commit() = 0;
  [[nodiscard]] virtual Result<void> rollback() = 0;
  virtual bool inTransaction() const noexcept = 0;

  // Inside a transaction: serialises it with every other transaction taking the same `key`
  // until it ends. PostgreSQL takes a transaction-scoped advisory lock; SQLite needs nothing
  // (BEGIN IMMEDIATE already serialises writers). Used for gap-free sequences (audit seq,
  // prompt versions) and a commit-ordered change feed.
  [[nodiscard]] virtual Result<void> serializeOn(std::int64_t key) = 0;

  // True once the session is unusable (connection lost, deadline hit): the pool then discards
  // it instead of lending it again.
  virtual bool broken() const noexcept = 0;
  // Cheap liveness check done by the pool before lending an idle connection (PostgreSQL
  // notices a server-side disconnect without a round trip). Returns false if unusable.
  virtual bool checkAlive() noexcept { return !broken(); }

  // Convenience wrappers.
  [[nodiscard]] Result<std::int64_t> exec(std::string_view sql,
                                          std::initializer_list<Param> params = {}) {
    return exec(sql, Params(params.begin(), params.size()));
  }
  [[nodiscard]] Result<Rows> query(std::string_view sql, Params params);
  [[nodiscard]] Result<Rows> query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query(sql, Params(params.begin(), params.size()));
  }
  [[nodiscard]] Result<void> queryEach(std::string_view sql,
                                       std::initializer_list<Param> params,
                                       const RowCallback& on_row) {
    return queryEach(sql, Params(params.begin(), params.size()), on_row);
  }
  // The first row, or kNotFound with `what` as the client message ("api key not found").
  [[nodiscard]] Result<Row> queryOne(std::string_view sql, Params params, std::string_view what);
  [[nodiscard]] Result<Row> queryOne(std::string_view sql,
                                     std::initializer_list<Param> params,
                                     std::string_view what) {
    return queryOne(sql, Params(params.begin(), params.size()), what);
  }
};

class Database;

// A connection borrowed from a Database; returns it on destruction (discarding it if broken,
// rolling back a transaction left open). Move-only; must not outlive its Database.
class ConnectionLease {
 public:
  ConnectionLease() = default;
  ConnectionLease(Database* db, std::unique_ptr<Connection> conn)
      : db_(db), conn_(std::move(conn)) {}
  ConnectionLease(ConnectionLease&& other) noexcept = default;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease();

  Connection& operator*() const noexcept { return *conn_; }
  Connection* operator->() const noexcept { return conn_.get(); }
  Connection& get() const noexcept { return *conn_; }

 private:
  void release() noexcept;
  Database* db_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

// RAII transaction: rolls back on destruction unless commit() succeeded. Not thread-safe.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> begin(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  [[nodiscard]] Result<void> commit();
  [[nodiscard]] Result<void> rollback();

 private:
  explicit Transaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

struct PoolOptions {
  std::size_t max_connections = 4;
  // How long acquire() waits for a free connection before failing with kUnavailable.
  std::chrono::milliseconds acquire_timeout{5000};
};

// A database: a bounded pool of connections of one backend. Thread-safe. Connections are
// created lazily up to max_connections and reused; acquire() waits (bounded) when all are
// lent out. The Database must outlive every lease and every store built over it.
class Database {
 public:
  explicit Database(PoolOptions pool);
  virtual ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual Dialect dialect() const noexcept = 0;

  [[nodiscard]] Result<ConnectionLease> acquire();
  [[nodiscard]] Result<ConnectionLease> acquire(std::chrono::milliseconds timeout);

  // Runs `fn(Connection&)` (returning Result<T>) on a leased connection, outside a transaction.
  template <class F>
  auto withConnection(F&& fn) -> std::invoke_result_t<F&, Connection&>;

  // Runs `fn(Connection&)` (returning Result<T>) inside a transaction on a leased connection:
  // commits when it returns a value, rolls back when it returns an error.
  template <class F>
  auto inTransaction(F&& fn) -> std::invoke_result_t<F&, Connection&>;

  std::size_t maxConnections() const noexcept { return pool_.max_connections; }
  // Connections currently open (idle + lent).
  std::size_t openConnections() const;

 protected:
  // Opens a new session; called without the pool lock held.
  virtual Result<std::unique_ptr<Connection>> connect() = 0;
  // Must be called by the most-derived destructor so connections close while the backend
  // object is still alive.
  void closeAll() noexcept;

 private:
  friend class ConnectionLease;
  void giveBack(std::unique_ptr<Connection> conn) noexcept;

  PoolOptions pool_;
  mutable std::mutex mu_;  // guards idle_ and open_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

template <class F>
auto Database::withConnection(F&& fn) -> std::invoke_result_t<F&, Connection&> {
  auto lease = acquire();
  if (!lease) {
    return lease.error();
  }
  return fn(lease->get());
}

template <class F>
auto Database::inTransaction(F&& fn) -> std::invoke_result_t<F&, Connection&> {
  auto lease = acquire();
  if (!lease) {
    return lease.error();
  }
  auto tx = Transaction::begin(lease->get());
  if (!tx) {
    return tx.error();
  }
  auto result = fn(lease->get());
  if (!result) {
    (void)tx->rollback();
    return result;
  }
  if (auto committed = tx->commit(); !committed) {
    return committed.error();
  }
  return result;
}

// Helpers for backends: an Error whose log_detail names the backend message and the SQL text,
// shortened (the SQL carries placeholders, never values).
Error databaseError(ErrorCode code,
                    Dialect dialect,
                    std::string_view backend_detail,
                    std::string_view sql);

}  // namespace livery::storage
