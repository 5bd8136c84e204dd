#include "storage/database.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace livery::storage {

std::string_view toString(Dialect dialect) {
  switch (dialect) {
    case Dialect::kSqlite:
      return "sqlite";
    case Dialect::kPostgres:
      return "postgres";
  }
  return "unknown";
}

// ---- Row -----------------------------------------------------------------------------------

namespace {

const Row::Cell& nullCell() {
  static const Row::Cell kNull;  // immutable
  return kNull;
}

template <class T>
T parseNumber(std::string_view s) {
  T value{};
  const char* first = s.data();
  const char* last = s.data() + s.size();
  while (first != last && *first == ' ') {
    ++first;
  }
  if (first != last && *first == '+') {
    ++first;
  }
  std::from_chars(first, last, value);  // leaves 0 on failure; "12.00" parses as 12
  return value;
}

}  // namespace

bool Row::isNull(std::size_t col) const {
  return col >= cells_.size() || std::holds_alternative<std::monostate>(cells_[col]);
}

std::int64_t Row::int64(std::size_t col) const {
  const Cell& c = col < cells_.size() ? cells_[col] : nullCell();
  if (const auto* i = std::get_if<std::int64_t>(&c)) {
    return *i;
  }
  if (const auto* d = std::get_if<double>(&c)) {
    return static_cast<std::int64_t>(*d);
  }
  if (const auto* s = std::get_if<std::string>(&c)) {
    if (*s == "t" || *s == "true") {  // PostgreSQL boolean in text format
      return 1;
    }
    return parseNumber<std::int64_t>(*s);
  }
  return 0;
}

std::uint64_t Row::uint64(std::size_t col) const {
  const std::int64_t v = int64(col);
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

double Row::real(std::size_t col) const {
  const Cell& c = col < cells_.size() ? cells_[col] : nullCell();
  if (const auto* d = std::get_if<double>(&c)) {
    return *d;
  }
  if (const auto* i = std::get_if<std::int64_t>(&c)) {
    return static_cast<double>(*i);
  }
  if (const auto* s = std::get_if<std::string>(&c)) {
    return parseNumber<double>(*s);
  }
  return 0;
}

std::string Row::text(std::size_t col) const {
  const Cell& c = col < cells_.size() ? cells_[col] : nullCell();
  if (const auto* s = std::get_if<std::string>(&c)) {
    return *s;
  }
  if (const auto* i = std::get_if<std::int64_t>(&c)) {
    return std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&c)) {
    return fmt::format("{}", *d);
  }
  if (const auto* b = std::get_if<std::vector<unsigned char>>(&c)) {
    return {b->begin(), b->end()};
  }
  return {};
}

std::vector<unsigned char> Row::blob(std::size_t col) const {
  const Cell& c = col < cells_.size() ? cells_[col] : nullCell();
  if (const auto* b = std::get_if<std::vector<unsigned char>>(&c)) {
    return *b;
  }
  if (const auto* s = std::get_if<std::string>(&c)) {
    return {s->begin(), s->end()};
  }
  return {};
}

// ---- Connection ----------------------------------------------------------------------------

Result<Rows> Connection::query(std::string_view sql, Params params) {
  Rows rows;
  auto done = queryEach(sql, params, [&rows](const Row& row) {
    rows.push_back(row);
    return true;
  });
  if (!done) {
    return done.error();
  }
  return rows;
}

Result<Row> Connection::queryOne(std::string_view sql, Params params, std::string_view what) {
  Row first;
  bool found = false;
  auto done = queryEach(sql, params, [&](const Row& row) {
    first = row;
    found = true;
    return false;
  });
  if (!done) {
    return done.error();
  }
  if (!found) {
    return fail(ErrorCode::kNotFound, std::string(what));
  }
  return first;
}

// ---- ConnectionLease -----------------------------------------------------------------------

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    release();
    db_ = std::exchange(other.db_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

ConnectionLease::~ConnectionLease() {
  release();
}

void ConnectionLease::release() noexcept {
  if (db_ != nullptr && conn_) {
    db_->giveBack(std::move(conn_));
  }
  db_ = nullptr;
}

// ---- Transaction ---------------------------------------------------------------------------

Result<Transaction> Transaction::begin(Connection& conn) {
  if (auto r = conn.begin(); !r) {
    return r.error();
  }
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr) {
    (void)conn_->rollback();
  }
}

Result<void> Transaction::commit() {
  if (conn_ == nullptr) {
    return fail(ErrorCode::kInternal, "storage error", "commit on a finished transaction");
  }
  Connection* conn = std::exchange(conn_, nullptr);
  auto r = conn->commit();
  if (!r && conn->inTransaction()) {
    (void)conn->rollback();
  }
  return r;
}

Result<void> Transaction::rollback() {
  if (conn_ == nullptr) {
    return {};
  }
  return std::exchange(conn_, nullptr)->rollback();
}

// ---- Database ------------------------------------------------------------------------------

Database::Database(PoolOptions pool) : pool_(pool) {
  if (pool_.max_connections == 0) {
    pool_.max_connections = 1;
  }
}

Database::~Database() {
  closeAll();
}

void Database::closeAll() noexcept {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= idle.size();
  }
  idle.clear();
}

std::size_t Database::openConnections() const {
  std::lock_guard lock(mu_);
  return open_;
}

Result<ConnectionLease> Database::acquire() {
  return acquire(pool_.acquire_timeout);
}

Result<ConnectionLease> Database::acquire(std::chrono::milliseconds timeout) {
  // The wait is on the OS clock: it bounds a real blocking wait, not domain time.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      if (conn->checkAlive()) {
        return ConnectionLease(this, std::move(conn));
      }
      conn.reset();  // a server-side disconnect: drop it and open a fresh one below
      lock.lock();
      --open_;
    }
    if (open_ < pool_.max_connections) {
      ++open_;
      lock.unlock();
      auto conn = connect();
      if (!conn) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return conn.error();
      }
      return ConnectionLease(this, std::move(*conn));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= pool_.max_connections) {
      return fail(ErrorCode::kUnavailable,
                  "database busy",
                  fmt::format("no free {} connection within {} ms (pool of {})",
                              toString(dialect()),
                              timeout.count(),
                              pool_.max_connections));
    }
  }
}

void Database::giveBack(std::unique_ptr<Connection> conn) noexcept {
  if (conn->inTransaction() && !conn->broken()) {
    (void)conn->rollback();
  }
  const bool discard = conn->broken() || conn->inTransaction();
  if (discard) {
    conn.reset();
  }
  {
    std::lock_guard lock(mu_);
    if (discard) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
}

Error databaseError(ErrorCode code,
                    Dialect dialect,
                    std::string_view backend_detail,
                    std::string_view sql) {
  constexpr std::size_t kMaxSql = 160;
  std::string_view shown = sql.substr(0, kMaxSql);
  std::string message;
  switch (code) {
    case ErrorCode::kConflict:
      message = "conflict with existing data";
      break;
    case ErrorCode::kUnavailable:
      message = "database unavailable";
      break;
    default:
      message = "storage error";
      break;
  }
  return fail(code,
              std::move(message),
              fmt::format("{}: {} [sql: {}{}]",
                          toString(dialect),
                          backend_detail,
                          shown,
                          sql.size() > kMaxSql ? "…" : ""));
}

}  // namespace livery::storage
