#include "storage/postgres/pg_database.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include "storage/migrations.hpp"
#include "storage/postgres/placeholders.hpp"

namespace livery::storage {

struct PgShared {
  SecretBytes url;
  SecretBytes password;      // decoded password, for scrubbing messages
  SecretBytes raw_userinfo;  // "user:pa%73s" as written in a URL, for scrubbing
  std::string schema;
  std::chrono::milliseconds connect_timeout{};
  std::chrono::milliseconds statement_timeout{};
  std::chrono::milliseconds io_grace{};
  std::size_t statement_cache_size = 0;
  std::string application_name;

  // Removes every trace of the password from a libpq message.
  std::string scrub(std::string message) const {
    auto erase = [&message](std::string_view needle) {
      if (needle.empty()) {
        return;
      }
      for (std::size_t pos = message.find(needle); pos != std::string::npos;
           pos = message.find(needle, pos)) {
        message.replace(pos, needle.size(), "***");
        pos += 3;
      }
    };
    erase(raw_userinfo.reveal());
    erase(password.reveal());
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    for (char& c : message) {
      if (c == '\n' || c == '\t') {
        c = ' ';
      }
    }
    return message;
  }
};

namespace {

// PostgreSQL type OIDs (src/include/catalog/pg_type.dat; stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

struct ResultFree {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// bytea in text output format is "\x" followed by hex (bytea_output = hex, the default since
// PostgreSQL 9.0; the session sets it explicitly).
void decodeBytea(const char* text, std::size_t len, std::vector<unsigned char>& out) {
  out.clear();
  if (len < 2 || text[0] != '\\' || text[1] != 'x') {
    out.assign(text, text + len);
    return;
  }
  out.reserve((len - 2) / 2);
  for (std::size_t i = 2; i + 1 < len; i += 2) {
    const int hi = hexValue(text[i]);
    const int lo = hexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      break;
    }
    out.push_back(static_cast<unsigned char>((hi << 4) | lo));
  }
}

ErrorCode mapSqlState(std::string_view state, bool* breaks_connection) {
  *breaks_connection = false;
  if (state.size() != 5) {
    return ErrorCode::kInternal;
  }
  const std::string_view cls = state.substr(0, 2);
  if (cls == "23") {
    return ErrorCode::kConflict;  // integrity constraint violation
  }
  if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03") {
    *breaks_connection = true;  // connection exception, server shutting down
    return ErrorCode::kUnavailable;
  }
  if (state == "40001" || state == "40P01" || state == "57014" || state == "55P03" || cls == "53") {
    return ErrorCode::kUnavailable;  // serialization, deadlock, timeout, lock, resources
  }
  return ErrorCode::kInternal;
}

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* conn, std::shared_ptr<const PgShared> shared)
      : conn_(conn), shared_(std::move(shared)) {
    // Notices are dropped (never printed to stderr), except that a FATAL one arriving while
    // idle, the server's "terminating connection" just before it closes the socket, marks
    // the session broken so the pool replaces it instead of lending it out.
    PQsetNoticeReceiver(conn_, &PgConnection::onNotice, this);
  }
  ~PgConnection() override { PQfinish(conn_); }

  using Connection::exec;
  using Connection::queryEach;

  Dialect dialect() const noexcept override { return Dialect::kPostgres; }

  Result<std::int64_t> exec(std::string_view sql, Params params) override {
    auto res = runPrepared(sql, params);
    if (!res) {
      return res.error();
    }
    const char* tuples = PQcmdTuples(res->get());
    std::int64_t n = 0;
    if (tuples != nullptr && *tuples != '\0') {
      std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), n);
    }
    return n;
  }

  // Streams in single-row mode: memory stays bounded whatever the result size, and the
  // deadline is an idle deadline (it restarts with every row received).
  Result<void> queryEach(std::string_view sql, Params params, const RowCallback& on_row) override {
    auto until = deadline();
    if (auto sent = sendPrepared(sql, params, until); !sent) {
      return sent.error();
    }
    PQsetSingleRowMode(conn_);  // if refused, rows simply arrive in one result
    if (auto flushed = flushOutput(sql, until); !flushed) {
      return flushed.error();
    }
    std::optional<Error> failure;
    bool stopped = false;
    bool typed = false;
    std::vector<Oid> types;
    Row row;
    for (;;) {
      if (auto ready = awaitResult(sql, until); !ready) {
        return ready.error();
      }
      ResultPtr r(PQgetResult(conn_));
      if (!r) {
        break;
      }
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
        until = deadline();
        if (stopped || failure) {
          continue;  // drain the rest of the result; the protocol has no "stop here"
        }
        const int cols = PQnfields(r.get());
        if (!typed) {
          types.resize(static_cast<std::size_t>(cols));
          for (int c = 0; c < cols; ++c) {
            types[static_cast<std::size_t>(c)] = PQftype(r.get(), c);
          }
          row.cells().resize(static_cast<std::size_t>(cols));
          typed = true;
        }
        for (int i = 0; i < PQntuples(r.get()) && !stopped; ++i) {
          for (int c = 0; c < cols; ++c) {
            readCell(r.get(),
                     i,
                     c,
                     types[static_cast<std::size_t>(c)],
                     row.cells()[static_cast<std::size_t>(c)]);
          }
          stopped = !on_row(row);
        }
      } else if (status == PGRES_FATAL_ERROR) {
        if (!failure) {
          failure = resultError(r.get(), sql);
        }
      } else if (status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY) {
        broken_ = true;
        return databaseError(
            ErrorCode::kInternal, Dialect::kPostgres, "unexpected result status", sql);
      }
    }
    if (failure) {
      return *failure;
    }
    return {};
  }

  Result<void> execScript(std::string_view sql) override {
    auto res = runSimple(sql);
    if (!res) {
      return res.error();
    }
    return {};
  }

  Result<void> begin() override { return simple("BEGIN"); }
  Result<void> commit() override { return simple("COMMIT"); }
  Result<void> rollback() override {
    if (!inTransaction()) {
      return {};
    }
    return simple("ROLLBACK");
  }
  bool inTransaction() const noexcept override {
    const auto status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }
  Result<void> serializeOn(std::int64_t key) override {
    auto r = exec("SELECT pg_advisory_xact_lock(?)", {key});
    if (!r) {
      return r.error();
    }
    return {};
  }
  bool broken() const noexcept override { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

  static void onNotice(void* arg, const PGresult* notice) {
    const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr &&
        (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
      static_cast<PgConnection*>(arg)->broken_ = true;
    }
  }

  bool checkAlive() noexcept override {
    if (broken()) {
      return false;
    }
    // A server-side disconnect leaves an error message and EOF on the socket; reading what is
    // there (without blocking) turns that into CONNECTION_BAD before we send anything.
    for (int round = 0; round < 2; ++round) {
      pollfd pfd{PQsocket(conn_), POLLIN, 0};
      if (pfd.fd < 0) {
        return false;
      }
      if (::poll(&pfd, 1, 0) <= 0) {
        break;
      }
      if (PQconsumeInput(conn_) == 0) {
        broken_ = true;
        return false;
      }
      while (PGnotify* n = PQnotifies(conn_)) {
        PQfreemem(n);
      }
    }
    return !broken();
  }

 private:
  struct Prepared {
    std::string name;  // empty: the unnamed statement (cache full), re-prepared per use
    std::string rewritten;
    int parameters = 0;
  };

  Result<void> simple(std::string_view sql) {
    auto r = runSimple(sql);
    if (!r) {
      return r.error();
    }
    return {};
  }

  std::chrono::steady_clock::time_point deadline() const {
    return std::chrono::steady_clock::now() + shared_->statement_timeout + shared_->io_grace;
  }

  Error connectionError(std::string_view sql) {
    broken_ = true;
    return databaseError(
        ErrorCode::kUnavailable, Dialect::kPostgres, shared_->scrub(PQerrorMessage(conn_)), sql);
  }

  Error resultError(PGresult* r, std::string_view sql) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state == nullptr) {
      // No SQLSTATE: a client-side failure (typically the connection dropped).
      if (PQstatus(conn_) != CONNECTION_OK) {
        return connectionError(sql);
      }
      return databaseError(
          ErrorCode::kInternal, Dialect::kPostgres, shared_->scrub(PQresultErrorMessage(r)), sql);
    }
    bool breaks = false;
    const ErrorCode code = mapSqlState(state, &breaks);
    if (breaks || PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
    }
    std::string detail = fmt::format("sqlstate {}", state);
    const std::string_view cls = std::string_view(state).substr(0, 2);
    if (cls == "22" || cls == "23") {
      // Data exceptions and constraint violations may quote the offending value (a key hash,
      // an envelope) in their message and DETAIL: keep only the constraint and table names.
      const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
      const char* table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
      if (constraint != nullptr) {
        detail += fmt::format(" constraint {}", constraint);
      }
      if (table != nullptr) {
        detail += fmt::format(" table {}", table);
      }
    } else if (const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) {
      detail += ": " + shared_->scrub(primary);
    }
    return databaseError(code, Dialect::kPostgres, detail, sql);
  }

  // Waits until the socket is ready for `events` or the deadline passes.
  Result<void> waitSocket(short events,
                          std::chrono::steady_clock::time_point until,
                          std::string_view sql) {
    const int fd = PQsocket(conn_);
    if (fd < 0) {
      return connectionError(sql);
    }
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        broken_ = true;  // the statement's fate is unknown: never reuse this session
        return databaseError(ErrorCode::kUnavailable,
                             Dialect::kPostgres,
                             "no answer from the server before the deadline",
                             sql);
      }
      pollfd pfd{fd, events, 0};
      const int rc =
          ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
      if (rc > 0) {
        return {};
      }
      if (rc < 0 && errno != EINTR) {
        return connectionError(sql);
      }
    }
  }

  // Sends what libpq has queued (non-blocking mode), waiting for the socket as needed.
  Result<void> flushOutput(std::string_view sql, std::chrono::steady_clock::time_point until) {
    for (;;) {
      const int flushed = PQflush(conn_);
      if (flushed == 0) {
        return {};
      }
      if (flushed < 0) {
        return connectionError(sql);
      }
      if (auto w = waitSocket(POLLIN | POLLOUT, until, sql); !w) {
        return w.error();
      }
      if (PQconsumeInput(conn_) == 0) {
        return connectionError(sql);
      }
    }
  }

  // Waits until PQgetResult() will not block.
  Result<void> awaitResult(std::string_view sql, std::chrono::steady_clock::time_point until) {
    while (PQisBusy(conn_) != 0) {
      if (auto w = waitSocket(POLLIN, until, sql); !w) {
        return w.error();
      }
      if (PQconsumeInput(conn_) == 0) {
        return connectionError(sql);
      }
    }
    return {};
  }

  // Sends what was queued, then collects the results of one command; returns the last one
  // (or the first error).
  Result<ResultPtr> collect(std::string_view sql, std::chrono::steady_clock::time_point until) {
    if (auto flushed = flushOutput(sql, until); !flushed) {
      return flushed.error();
    }
    ResultPtr last;
    ResultPtr first_error;
    for (;;) {
      if (auto ready = awaitResult(sql, until); !ready) {
        return ready.error();
      }
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        break;
      }
      const auto status = PQresultStatus(r);
      if (status == PGRES_FATAL_ERROR && !first_error) {
        first_error.reset(r);
      } else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
        PQclear(r);
        broken_ = true;
        return databaseError(
            ErrorCode::kInternal, Dialect::kPostgres, "COPY is not supported", sql);
      } else {
        last.reset(r);
      }
    }
    if (first_error) {
      return resultError(first_error.get(), sql);
    }
    if (!last) {
      if (PQstatus(conn_) != CONNECTION_OK) {
        return connectionError(sql);
      }
      return databaseError(ErrorCode::kInternal, Dialect::kPostgres, "no result", sql);
    }
    return last;
  }

  Result<ResultPtr> runSimple(std::string_view sql) {
    if (broken()) {
      return connectionError(sql);
    }
    const std::string owned(sql);
    if (PQsendQuery(conn_, owned.c_str()) == 0) {
      return connectionError(sql);
    }
    return collect(sql, deadline());
  }

  Result<const Prepared*> prepare(std::string_view sql,
                                  std::chrono::steady_clock::time_point until) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      return &it->second;
    }
    Prepared p;
    RewrittenSql rw = rewritePlaceholders(sql);
    p.rewritten = std::move(rw.sql);
    p.parameters = rw.parameters;
    const bool cacheable = cache_.size() < shared_->statement_cache_size;
    if (cacheable) {
      p.name = fmt::format("lv{}", ++statement_counter_);
    }
    if (PQsendPrepare(conn_, p.name.c_str(), p.rewritten.c_str(), p.parameters, nullptr) == 0) {
      return connectionError(sql);
    }
    auto res = collect(sql, until);
    if (!res) {
      return res.error();
    }
    if (!cacheable) {
      unnamed_ = std::move(p);
      return &unnamed_;
    }
    auto [it, inserted] = cache_.emplace(std::string(sql), std::move(p));
    return &it->second;
  }

  Result<ResultPtr> runPrepared(std::string_view sql, Params params) {
    const auto until = deadline();
    if (auto sent = sendPrepared(sql, params, until); !sent) {
      return sent.error();
    }
    return collect(sql, until);
  }

  // Prepares (once per session) and sends one execution of `sql`; results are not read.
  Result<void> sendPrepared(std::string_view sql,
                            Params params,
                            std::chrono::steady_clock::time_point until) {
    if (broken()) {
      return connectionError(sql);
    }
    auto prepared = prepare(sql, until);
    if (!prepared) {
      return prepared.error();
    }
    const Prepared& p = **prepared;
    if (p.parameters != static_cast<int>(params.size())) {
      return databaseError(
          ErrorCode::kInternal,
          Dialect::kPostgres,
          fmt::format("statement takes {} parameters, {} given", p.parameters, params.size()),
          sql);
    }
    const std::size_t n = params.size();
    values_.assign(n, nullptr);
    lengths_.assign(n, 0);
    formats_.assign(n, 0);
    if (texts_.size() < n) {
      texts_.resize(n);
    }
    static constexpr char kEmpty[] = "";
    for (std::size_t i = 0; i < n; ++i) {
      const auto& v = params[i].value();
      // Numbers and text go in text format, exactly like SQL literals: the server converts
      // them to whatever type it inferred for the placeholder (libpq needs them
      // NUL-terminated, hence the copies into per-session buffers).
      if (const auto* x = std::get_if<std::int64_t>(&v)) {
        std::array<char, 32> buf{};
        auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), *x);
        texts_[i].assign(buf.data(), end);
        values_[i] = texts_[i].c_str();
      } else if (const auto* d = std::get_if<double>(&v)) {
        std::array<char, 40> buf{};
        auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), *d);
        texts_[i].assign(buf.data(), end);
        values_[i] = texts_[i].c_str();
      } else if (const auto* s = std::get_if<std::string_view>(&v)) {
        texts_[i].assign(s->data() != nullptr ? s->data() : kEmpty, s->size());
        values_[i] = texts_[i].c_str();
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        values_[i] =
            b->bytes.empty()
                ? kEmpty
                : reinterpret_cast<const char*>(b->bytes.data());  // NOLINT(*-reinterpret-cast)
        lengths_[i] = static_cast<int>(b->bytes.size());
        formats_[i] = 1;  // bytea in binary: no hex/escape encoding, no copy
      }
    }
    if (PQsendQueryPrepared(conn_,
                            p.name.c_str(),
                            static_cast<int>(n),
                            values_.data(),
                            lengths_.data(),
                            formats_.data(),
                            0) == 0) {
      return connectionError(sql);
    }
    return {};
  }

  static void readCell(PGresult* r, int row, int col, Oid type, Row::Cell& cell) {
    if (PQgetisnull(r, row, col) != 0) {
      cell = std::monostate{};
      return;
    }
    const char* v = PQgetvalue(r, row, col);
    const auto len = static_cast<std::size_t>(PQgetlength(r, row, col));
    switch (type) {
      case kInt8Oid:
      case kInt4Oid:
      case kInt2Oid:
      case kOidOid: {
        std::int64_t x = 0;
        std::from_chars(v, v + len, x);
        cell = x;
        return;
      }
      case kBoolOid:
        cell = static_cast<std::int64_t>(len > 0 && v[0] == 't' ? 1 : 0);
        return;
      case kFloat4Oid:
      case kFloat8Oid: {
        double x = 0;
        std::from_chars(v, v + len, x);
        cell = x;
        return;
      }
      case kByteaOid: {
        auto* b = std::get_if<std::vector<unsigned char>>(&cell);
        if (b == nullptr) {
          b = &cell.emplace<std::vector<unsigned char>>();
        }
        decodeBytea(v, len, *b);
        return;
      }
      default: {
        // text, numeric (SUM over bigint), and anything else: the getters convert.
        if (auto* s = std::get_if<std::string>(&cell)) {
          s->assign(v, len);
        } else {
          cell.emplace<std::string>(v, len);
        }
        return;
      }
    }
  }

  PGconn* conn_;
  std::shared_ptr<const PgShared> shared_;
  bool broken_ = false;
  std::uint64_t statement_counter_ = 0;
  std::unordered_map<std::string, Prepared, TransparentHash, std::equal_to<>> cache_;
  Prepared unnamed_;
  // Per-call parameter arrays, kept to avoid reallocating on every statement.
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::string> texts_;  // text-format parameter values (NUL-terminated)
};

// Extracts the password (decoded, and as written in a URL) so messages can be scrubbed.
Result<void> extractPassword(std::string_view url, PgShared& shared) {
  const std::string owned(url);
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(owned.c_str(), &err);
  if (opts == nullptr) {
    // libpq's message may quote the malformed part of the URL: never pass it on.
    if (err != nullptr) {
      PQfreemem(err);
    }
    return fail(ErrorCode::kBadRequest, "invalid PostgreSQL URL");
  }
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) {
      shared.password = SecretBytes::copyOf(std::string_view(o->val));
    }
  }
  PQconninfoFree(opts);
  // In URL form the password may be percent-encoded: scrub the raw user:password too.
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = url.find('@', start);
    const std::size_t slash = url.find('/', start);
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
      const std::string_view userinfo = url.substr(start, at - start);
      const std::size_t colon = userinfo.find(':');
      if (colon != std::string_view::npos && colon + 1 < userinfo.size()) {
        shared.raw_userinfo = SecretBytes::copyOf(userinfo.substr(colon + 1));
      }
    }
  }
  return {};
}

std::string quoteIdentifier(PGconn* conn, std::string_view name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  if (quoted == nullptr) {
    return {};
  }
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

}  // namespace

PgDatabase::PgDatabase(std::shared_ptr<const PgShared> shared, PoolOptions pool)
    : Database(pool), shared_(std::move(shared)) {}

PgDatabase::~PgDatabase() {
  closeAll();
}

Result<std::unique_ptr<PgDatabase>> PgDatabase::open(PgOptions options, const Clock& clock) {
  auto shared = std::make_shared<PgShared>();
  if (auto r = extractPassword(options.url.reveal(), *shared); !r) {
    return r.error();
  }
  shared->url = std::move(options.url);
  shared->schema = std::move(options.schema);
  shared->connect_timeout = options.connect_timeout;
  shared->statement_timeout = options.statement_timeout;
  shared->io_grace = options.io_grace;
  shared->statement_cache_size = options.statement_cache_size;
  shared->application_name = std::move(options.application_name);

  std::unique_ptr<PgDatabase> db(new PgDatabase(std::move(shared), options.pool));
  {
    auto lease = db->acquire();
    if (!lease) {
      return lease.error();
    }
  }
  if (options.run_migrations) {
    auto applied = migrate(*db, clock);
    if (!applied) {
      return applied.error();
    }
  }
  return db;
}

Result<std::unique_ptr<Connection>> PgDatabase::connect() {
  const auto timeout_s = std::max<std::int64_t>(
      2, (shared_->connect_timeout.count() + 999) / 1000);  // libpq: whole seconds, >= 2
  const std::string timeout = std::to_string(timeout_s);
  const std::string url(shared_->url.reveal());
  // Our defaults first; the URL (expanded from dbname) comes last so its settings win.
  const std::array<const char*, 5> keywords{
      "connect_timeout", "application_name", "client_encoding", "dbname", nullptr};
  const std::array<const char*, 5> values{
      timeout.c_str(), shared_->application_name.c_str(), "UTF8", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 1);
  if (conn == nullptr) {
    return fail(ErrorCode::kUnavailable, "database unavailable", "postgres: out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string detail = shared_->scrub(PQerrorMessage(conn));
    PQfinish(conn);
    return fail(ErrorCode::kUnavailable,
                "database unavailable",
                fmt::format("postgres: cannot connect: {}", detail));
  }
  // Non-blocking sends: every wait (including a full socket buffer) goes through poll() with
  // the statement's deadline.
  if (PQsetnonblocking(conn, 1) != 0) {
    PQfinish(conn);
    return fail(
        ErrorCode::kUnavailable, "database unavailable", "postgres: cannot set non-blocking");
  }
  auto session = std::make_unique<PgConnection>(conn, shared_);
  std::string setup = fmt::format(
      "SET statement_timeout = {}; SET client_min_messages = warning; SET bytea_output = 'hex';",
      shared_->statement_timeout.count());
  if (!shared_->schema.empty()) {
    const std::string quoted = quoteIdentifier(conn, shared_->schema);
    if (quoted.empty()) {
      return fail(ErrorCode::kBadRequest, "invalid schema name");
    }
    // The configured schema is created on first use (IF NOT EXISTS: every new session runs this).
    setup += fmt::format(" CREATE SCHEMA IF NOT EXISTS {}; SET search_path TO {};", quoted, quoted);
  }
  if (auto r = session->execScript(setup); !r) {
    return r.error();
  }
  return std::unique_ptr<Connection>(std::move(session));
}

}  // namespace livery::storage
