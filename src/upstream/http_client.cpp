#include "upstream/http_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/secret.hpp"
#include "upstream/outbound_guard.hpp"
#include "upstream/resolver.hpp"

namespace livery::upstream {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

std::string_view findHeader(const HeaderList& headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (beast::iequals(h.name, name)) {
      return h.value;
    }
  }
  return {};
}

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kBodyPiece = 16 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kBufferLimit = kHeaderLimit + 4 * kReadChunk;

using Parser = bhttp::response_parser<bhttp::buffer_body>;

long long millis(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

bool isToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (unsigned char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool isSafeValue(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool isFramingHeader(std::string_view name) {
  return beast::iequals(name, "host") || beast::iequals(name, "content-length") ||
         beast::iequals(name, "transfer-encoding") || beast::iequals(name, "connection") ||
         beast::iequals(name, "keep-alive") || beast::iequals(name, "upgrade") ||
         beast::iequals(name, "te") || beast::iequals(name, "trailer") ||
         beast::iequals(name, "proxy-connection");
}

// Wipes a buffer that held the credential when the scope ends, whatever the path out.
struct WipeOnExit {
  std::string& s;
  ~WipeOnExit() { wipeString(s); }
};

// Checks what serializeHead() will write, before any connection is made.
Result<void> validateRequest(const Request& r) {
  if (!isToken(r.method)) {
    return fail(ErrorCode::kInternal, "invalid upstream request method");
  }
  for (const auto& h : r.headers) {
    if (!isToken(h.name) || !isSafeValue(h.value)) {
      return fail(ErrorCode::kInternal, "unsafe upstream request header", "header=" + h.name);
    }
  }
  if (r.auth.key != nullptr && (!isToken(r.auth.header) || !isSafeValue(r.auth.prefix) ||
                                !isSafeValue(r.auth.key->reveal()))) {
    return fail(ErrorCode::kInternal, "invalid upstream credential header");
  }
  return {};
}

// Serializes the head of a validated request. The buffer is reserved up front so appending never
// reallocates: a reallocation would leave a stale copy of the credential in freed memory.
void serializeHead(const Request& r, const Target& t, std::string& out) {
  std::size_t size = r.method.size() + t.path_and_query.size() + t.host_header.size() + 64;
  for (const auto& h : r.headers) {
    size += h.name.size() + h.value.size() + 4;
  }
  if (r.auth.key != nullptr) {
    size += r.auth.header.size() + r.auth.prefix.size() + r.auth.key->size() + 4;
  }
  out.clear();
  out.reserve(size);
  out.append(r.method).append(" ").append(t.path_and_query).append(" HTTP/1.1\r\nHost: ");
  out.append(t.host_header).append("\r\n");
  for (const auto& h : r.headers) {
    if (isFramingHeader(h.name) ||
        (r.auth.key != nullptr && beast::iequals(h.name, r.auth.header))) {
      continue;
    }
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (r.auth.key != nullptr) {
    out.append(r.auth.header).append(": ").append(r.auth.prefix);
    out.append(r.auth.key->reveal()).append("\r\n");
  }
  bool needs_length =
      !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (needs_length) {
    out.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
  }
  out.append("\r\n");
}

// One upstream connection (TCP or TLS over TCP) with its read buffer.
class Connection {
 public:
  Connection(const net::any_io_executor& ex, ssl::context* tls, std::string key)
      : key_(std::move(key)), buffer_(kBufferLimit) {
    if (tls != nullptr) {
      tls_.emplace(ex, *tls);
    } else {
      plain_.emplace(ex);
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  beast::tcp_stream& lowest() { return tls_ ? tls_->next_layer() : *plain_; }
  ssl::stream<beast::tcp_stream>* tls() { return tls_ ? &*tls_ : nullptr; }
  beast::flat_buffer& buffer() { return buffer_; }
  const std::string& key() const { return key_; }
  Clock::SteadyTime idle_since{};

  net::awaitable<std::tuple<beast::error_code, std::size_t>> readSome(Deadline deadline) {
    if (buffer_.size() + kReadChunk > buffer_.max_size()) {
      co_return std::tuple{beast::error_code(bhttp::error::header_limit), std::size_t{0}};
    }
    lowest().expires_at(deadline);
    auto space = buffer_.prepare(kReadChunk);
    beast::error_code ec;
    std::size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await tls_->async_read_some(space, kAsTuple);
    } else {
      std::tie(ec, n) = co_await plain_->async_read_some(space, kAsTuple);
    }
    buffer_.commit(n);
    if (lowest().socket().is_open()) {
      lowest().expires_never();
    }
    co_return std::tuple{ec, n};
  }

  net::awaitable<std::tuple<beast::error_code, std::size_t>> write(
      std::array<net::const_buffer, 2> buffers, Deadline deadline) {
    lowest().expires_at(deadline);
    beast::error_code ec;
    std::size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await net::async_write(*tls_, buffers, kAsTuple);
    } else {
      std::tie(ec, n) = co_await net::async_write(*plain_, buffers, kAsTuple);
    }
    if (lowest().socket().is_open()) {
      lowest().expires_never();
    }
    co_return std::tuple{ec, n};
  }

  // An idle connection is alive when the peer has neither closed it nor sent anything: any
  // readable byte on an idle HTTP/1.1 connection is an error or a close.
  bool alive() {
    if (!lowest().socket().is_open() || buffer_.size() != 0) {
      return false;
    }
    char byte = 0;
    auto n = ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && errno == EAGAIN;  // EWOULDBLOCK == EAGAIN on Linux
  }

  void close() noexcept {
    auto& s = lowest().socket();
    if (s.is_open()) {
      beast::error_code ignored;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      s.close(ignored);
    }
  }

 private:
  std::string key_;
  beast::flat_buffer buffer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<ssl::stream<beast::tcp_stream>> tls_;
};

bool isReset(const beast::error_code& ec) {
  return ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

bool isClose(const beast::error_code& ec) {
  return ec == net::error::eof || ec == ssl::error::stream_truncated;
}

}  // namespace

// The client's counters, looked up once (STYLE §25). No label carries a host or tenant.
struct ClientStats {
  explicit ClientStats(MetricsRegistry& m)
      : pool_hits(m.counter("livery_upstream_pool_hits_total",
                            "Upstream requests sent on a pooled keep-alive connection")),
        pool_misses(m.counter("livery_upstream_pool_misses_total",
                              "Upstream requests that needed a new connection")),
        stale_retries(m.counter(
            "livery_upstream_stale_retries_total",
            "Requests retried on a fresh connection after a pooled one failed before any reply")),
        fail_guard(connectFailures(m, "guard")),
        fail_dns(connectFailures(m, "dns")),
        fail_timeout(connectFailures(m, "timeout")),
        fail_refused(connectFailures(m, "refused")),
        fail_tls(connectFailures(m, "tls")),
        fail_other(connectFailures(m, "other")),
        timeout_first_byte(timeouts(m, "first_byte")),
        timeout_idle(timeouts(m, "idle")),
        timeout_total(timeouts(m, "total")) {}

  void countTimeout(std::string_view deadline) {
    if (deadline == "first_byte") {
      timeout_first_byte.inc();
    } else if (deadline == "idle") {
      timeout_idle.inc();
    } else {
      timeout_total.inc();
    }
  }

  Counter& pool_hits;
  Counter& pool_misses;
  Counter& stale_retries;
  Counter& fail_guard;
  Counter& fail_dns;
  Counter& fail_timeout;
  Counter& fail_refused;
  Counter& fail_tls;
  Counter& fail_other;
  Counter& timeout_first_byte;
  Counter& timeout_idle;
  Counter& timeout_total;

 private:
  static Counter& connectFailures(MetricsRegistry& m, const char* reason) {
    return m.counter("livery_upstream_connect_failures_total",
                     "Failed upstream connection attempts by reason",
                     {{"reason", reason}});
  }
  static Counter& timeouts(MetricsRegistry& m, const char* deadline) {
    return m.counter("livery_upstream_timeouts_total",
                     "Upstream exchanges that ran past a deadline",
                     {{"deadline", deadline}});
  }
};

// Shared by the HttpClient and its Responses (a Response may outlive the client).
class HttpClient::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(net::any_io_executor ex,
       const config::UpstreamConfig& cfg,
       Resolver& resolver,
       MetricsRegistry& metrics,
       const Clock& clock)
      : ex_(std::move(ex)),
        cfg_(cfg),
        guard_(cfg),
        resolver_(resolver),
        clock_(clock),
        tls_(ssl::context::tls_client),
        sweep_timer_(ex_),
        stats_(metrics) {}

  Result<void> initTls() {
    beast::error_code ec;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    tls_.set_verify_mode(ssl::verify_peer, ec);
    if (cfg_.ca_file.empty()) {
      tls_.set_default_verify_paths(ec);
      if (ec) {
        return fail(ErrorCode::kInternal, "cannot load the system CA store", ec.message());
      }
    } else {
      tls_.load_verify_file(cfg_.ca_file, ec);
      if (ec) {
        return fail(
            ErrorCode::kInternal, "cannot load upstream.ca_file " + cfg_.ca_file, ec.message());
      }
    }
    return {};
  }

  ~Core() { closeIdle(); }

  net::awaitable<Result<ResponsePtr>> send(Request request);

  const OutboundGuard& guard() const noexcept { return guard_; }

  std::size_t idleCount() const noexcept { return idle_count_; }

  void closeIdle() noexcept {
    for (auto& [key, list] : idle_) {
      for (auto& c : list) {
        c->close();
      }
    }
    idle_.clear();
    idle_count_ = 0;
  }

  // Pool: most recently used first; expired or dead connections are closed on the way.
  std::unique_ptr<Connection> acquire(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) {
      return nullptr;
    }
    auto& list = it->second;
    auto now = clock_.now();
    while (!list.empty()) {
      auto c = std::move(list.back());
      list.pop_back();
      --idle_count_;
      if (now - c->idle_since < cfg_.pool_idle_timeout && c->alive()) {
        return c;
      }
      c->close();
    }
    return nullptr;
  }

  void release(std::unique_ptr<Connection> c) {
    // No liveness probe here: the response was just read to the end, and acquire() probes
    // before reuse (one recv() per request instead of two).
    if (closed_ || cfg_.max_idle_per_host == 0 || !c->lowest().socket().is_open()) {
      return;  // ~Connection closes it
    }
    auto& list = idle_[c->key()];
    if (list.size() >= cfg_.max_idle_per_host) {
      list.front()->close();
      list.erase(list.begin());
      --idle_count_;
    }
    c->idle_since = clock_.now();
    list.push_back(std::move(c));
    ++idle_count_;
    armSweep();
  }

  void shutdown() noexcept {
    closed_ = true;
    closeIdle();
    sweep_timer_.cancel();
  }

  const config::UpstreamConfig& cfg() const noexcept { return cfg_; }
  const net::any_io_executor& executor() const noexcept { return ex_; }
  ClientStats& stats() noexcept { return stats_; }

 private:
  // Closes idle connections past pool_idle_timeout even when nobody asks for their host again.
  void armSweep() {
    if (sweep_armed_) {
      return;
    }
    sweep_armed_ = true;
    sweep_timer_.expires_after(cfg_.pool_idle_timeout);
    sweep_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) {
        return;
      }
      self->sweep_armed_ = false;
      self->sweep();
    });
  }

  void sweep() {
    auto now = clock_.now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      auto keep = std::remove_if(list.begin(), list.end(), [&](std::unique_ptr<Connection>& c) {
        if (now - c->idle_since >= cfg_.pool_idle_timeout || !c->alive()) {
          c->close();
          return true;
        }
        return false;
      });
      idle_count_ -= static_cast<std::size_t>(list.end() - keep);
      list.erase(keep, list.end());
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (idle_count_ > 0) {
      armSweep();
    }
  }

  net::awaitable<Result<std::unique_ptr<Connection>>> connect(const Target& target, Deadline total);

  // checkUrl() through a per-client cache. The guard is immutable, so a URL's verdict cannot
  // change; parsing it with Boost.URL cost ~1.5 µs per request. Only accepted URLs are cached
  // (refusals are rare and re-checked), and the cache is bounded: cleared when full. The
  // address checks of a host name still run at every new connection (DNS rebinding).
  Result<std::shared_ptr<const Target>> checkedTarget(const std::string& url) {
    if (auto it = targets_.find(url); it != targets_.end()) {
      return it->second;
    }
    auto checked = guard_.checkUrl(url);
    if (!checked) {
      return checked.error();
    }
    if (targets_.size() >= kMaxCachedTargets) {
      targets_.clear();
    }
    auto target = std::make_shared<const Target>(std::move(*checked));
    targets_.emplace(url, target);
    return target;
  }
  static constexpr std::size_t kMaxCachedTargets = 4096;

  Error connectError(const beast::error_code& ec,
                     Deadline connect_deadline,
                     Deadline total,
                     const Target& target,
                     const char* step);

  net::any_io_executor ex_;
  config::UpstreamConfig cfg_;
  OutboundGuard guard_;
  Resolver& resolver_;
  const Clock& clock_;
  ssl::context tls_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::size_t idle_count_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const Target>> targets_;
  net::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  bool closed_ = false;

  ClientStats stats_;
};

namespace {

Error cancelledError() {
  return fail(ErrorCode::kUpstreamUnavailable, "upstream request cancelled");
}

// Maps an I/O error during the exchange. `phase` names the deadline that applied besides the
// total one ("first_byte" or "idle").
Error exchangeError(HttpClient::Core& core,
                    const beast::error_code& ec,
                    std::string_view phase,
                    Deadline phase_deadline,
                    Deadline total,
                    const std::string& host) {
  const auto& cfg = core.cfg();
  if (ec == beast::error::timeout) {
    bool total_hit = total <= phase_deadline;
    std::string_view which = total_hit ? "total" : phase;
    core.stats().countTimeout(which);
    std::string message;
    if (total_hit) {
      message = fmt::format("upstream exchange exceeded total_timeout ({} ms)",
                            millis(cfg.total_timeout));
    } else if (phase == "first_byte") {
      message = fmt::format("upstream sent no response head within first_byte_timeout ({} ms)",
                            millis(cfg.first_byte_timeout));
    } else {
      message = fmt::format("upstream response stalled for longer than idle_timeout ({} ms)",
                            millis(cfg.idle_timeout));
    }
    return fail(ErrorCode::kUpstreamTimeout, std::move(message), "host=" + host);
  }
  if (ec == net::error::operation_aborted) {
    return cancelledError();
  }
  if (isReset(ec)) {
    return fail(ErrorCode::kUpstreamUnavailable, "upstream connection reset", "host=" + host);
  }
  if (isClose(ec)) {
    return fail(ErrorCode::kUpstreamUnavailable,
                "upstream closed the connection before the response was complete",
                "host=" + host);
  }
  if (ec.category() == beast::error_code(bhttp::error::header_limit).category()) {
    return fail(ErrorCode::kUpstreamUnavailable,
                "upstream sent a malformed HTTP response",
                "host=" + host + " error=" + ec.message());
  }
  return fail(ErrorCode::kUpstreamUnavailable,
              "upstream connection failed",
              "host=" + host + " error=" + ec.message());
}

class HttpResponse final : public Response {
 public:
  HttpResponse(std::shared_ptr<HttpClient::Core> core,
               std::unique_ptr<Connection> conn,
               std::string host,
               Deadline total,
               bool head_request)
      : core_(std::move(core)),
        conn_(std::move(conn)),
        host_(std::move(host)),
        total_(total),
        head_request_(head_request) {
    resetParser();
  }
  ~HttpResponse() override = default;  // an unfinished connection closes with conn_

  int status() const noexcept override { return status_; }
  const HeaderList& headers() const noexcept override { return headers_; }
  bool complete() const noexcept override { return done_; }
  // The connection, while the response owns it (during send()).
  Connection& connection() noexcept { return *conn_; }

  void abort() noexcept override {
    if (conn_) {
      conn_->close();
      conn_.reset();
    }
    if (!done_ && !failed_) {
      failed_ = fail(ErrorCode::kUpstreamUnavailable, "upstream response aborted");
    }
  }

  // Reads the response head (skipping 1xx interim responses). `received` reports whether any
  // byte of the response arrived, which decides whether a stale connection may be retried.
  net::awaitable<std::pair<beast::error_code, Result<void>>> readHead(Deadline deadline,
                                                                      bool& received) {
    auto cs = co_await net::this_coro::cancellation_state;
    for (;;) {
      auto& buf = conn_->buffer();
      std::size_t used = 0;
      if (buf.size() > 0) {
        beast::error_code ec;
        used = parser_->put(buf.data(), ec);
        buf.consume(used);
        if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) {
          ec = {};
        }
        if (ec) {
          co_return std::pair{ec,
                              Result<void>(fail(ErrorCode::kUpstreamUnavailable,
                                                "upstream sent a malformed HTTP response",
                                                "host=" + host_ + " error=" + ec.message()))};
        }
        if (parser_->is_header_done()) {
          int status = static_cast<int>(parser_->get().result_int());
          if (status >= 100 && status < 200 && status != 101) {
            resetParser();  // interim response (100 Continue, 103 Early Hints)
            continue;
          }
          status_ = status;
          // After 101 the bytes are no longer HTTP: never pool such a connection, or a later
          // request to this host could read whatever the upstream sends next.
          keep_alive_ok_ = status != 101;
          for (const auto& f : parser_->get()) {
            headers_.push_back({std::string(f.name_string()), std::string(f.value())});
          }
          if (parser_->is_done()) {
            finish();
          }
          co_return std::pair{beast::error_code{}, Result<void>{}};
        }
        if (used > 0) {
          continue;
        }
      }
      if (cs.cancelled() != net::cancellation_type::none) {
        conn_->close();
        co_return std::pair{beast::error_code(net::error::operation_aborted),
                            Result<void>(cancelledError())};
      }
      auto [ec, n] = co_await conn_->readSome(deadline);
      if (n > 0) {
        received = true;
      }
      if (ec) {
        conn_->close();
        co_return std::pair{
            ec, Result<void>(exchangeError(*core_, ec, "first_byte", deadline, total_, host_))};
      }
    }
  }

  net::awaitable<Result<std::string_view>> readSome() override {
    if (failed_) {
      co_return *failed_;
    }
    if (done_) {
      co_return std::string_view{};
    }
    if (!conn_) {
      co_return fail(ErrorCode::kUpstreamUnavailable, "upstream response aborted");
    }
    auto cs = co_await net::this_coro::cancellation_state;
    if (!piece_) {
      // Left uninitialised on purpose: zero-filling 16 KiB per response was the largest single
      // cost of a proxied request (callgrind).
      piece_.reset(new char[kBodyPiece]);  // NOLINT(cppcoreguidelines-owning-memory)
    }
    // Beast's parser stops at every chunk boundary; keep parsing what is already buffered so
    // one piece carries every chunk that arrived together (one client write instead of one per
    // SSE event: a 20-event stream that arrives in one segment cost 20 syscalls before).
    std::size_t produced = 0;
    for (;;) {
      auto& body = parser_->get().body();
      body.data = piece_.get() + produced;
      body.size = kBodyPiece - produced;
      body.more = true;
      auto& buf = conn_->buffer();
      std::size_t used = 0;
      if (buf.size() > 0) {
        beast::error_code ec;
        used = parser_->put(buf.data(), ec);
        buf.consume(used);
        if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) {
          ec = {};
        }
        if (ec) {
          co_return setFailed(fail(ErrorCode::kUpstreamUnavailable,
                                   "upstream sent a malformed HTTP response body",
                                   "host=" + host_ + " error=" + ec.message()));
        }
      }
      produced = kBodyPiece - body.size;
      if (parser_->is_done()) {
        finish();
        co_return std::string_view(piece_.get(), produced);
      }
      if (used > 0 && produced < kBodyPiece) {
        continue;  // framing or data consumed: parse what is buffered before returning or reading
      }
      if (produced > 0) {
        co_return std::string_view(piece_.get(), produced);
      }
      if (cs.cancelled() != net::cancellation_type::none) {
        co_return setFailed(cancelledError());
      }
      Deadline deadline = std::min(SteadyClock::now() + core_->cfg().idle_timeout, total_);
      auto [ec, n] = co_await conn_->readSome(deadline);
      if (ec && isClose(ec) && parser_->need_eof()) {
        beast::error_code eof_ec;
        parser_->put_eof(eof_ec);
        if (!eof_ec && parser_->is_done()) {
          keep_alive_ok_ = false;
          continue;  // a close-delimited body ended; pass out what is buffered
        }
      }
      if (ec) {
        co_return setFailed(exchangeError(*core_, ec, "idle", deadline, total_, host_));
      }
    }
  }

  net::awaitable<Result<std::string>> readAll() override {
    std::string out;
    std::size_t limit = core_->cfg().max_response_bytes;
    if (!done_ && parser_->content_length() && *parser_->content_length() > limit) {
      abort();
      co_return fail(
          ErrorCode::kUpstreamUnavailable,
          fmt::format("upstream response exceeds upstream.max_response_bytes ({})", limit));
    }
    if (parser_->content_length()) {
      out.reserve(static_cast<std::size_t>(*parser_->content_length()));
    }
    auto cs = co_await net::this_coro::cancellation_state;
    for (;;) {
      if (cs.cancelled() != net::cancellation_type::none) {
        co_return setFailed(cancelledError());
      }
      auto piece = co_await readSome();
      if (!piece) {
        co_return piece.error();
      }
      if (piece->empty()) {
        co_return out;
      }
      if (out.size() + piece->size() > limit) {
        abort();
        co_return fail(
            ErrorCode::kUpstreamUnavailable,
            fmt::format("upstream response exceeds upstream.max_response_bytes ({})", limit));
      }
      out.append(*piece);
    }
  }

 private:
  void resetParser() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->skip(head_request_);
  }

  Error setFailed(Error e) {
    failed_ = e;
    if (conn_) {
      conn_->close();
      conn_.reset();
    }
    return e;
  }

  // The body is complete: the connection goes back to the pool when the server allows it and
  // nothing unexpected follows the response.
  void finish() {
    done_ = true;
    if (!conn_) {
      return;
    }
    if (keep_alive_ok_ && parser_->keep_alive() && conn_->buffer().size() == 0) {
      core_->release(std::move(conn_));
    } else {
      conn_->close();
      conn_.reset();
    }
  }

  std::shared_ptr<HttpClient::Core> core_;
  std::unique_ptr<Connection> conn_;
  std::string host_;
  Deadline total_;
  bool head_request_;
  std::optional<Parser> parser_;
  int status_ = 0;
  HeaderList headers_;
  std::unique_ptr<char[]> piece_;  // the decoded-body buffer readSome() hands out
  bool done_ = false;
  bool keep_alive_ok_ = true;
  std::optional<Error> failed_;
};

}  // namespace

Error HttpClient::Core::connectError(const beast::error_code& ec,
                                     Deadline connect_deadline,
                                     Deadline total,
                                     const Target& target,
                                     const char* step) {
  std::string detail = fmt::format("host={} step={} error={}", target.host, step, ec.message());
  if (ec == beast::error::timeout) {
    stats_.fail_timeout.inc();
    if (total <= connect_deadline) {
      stats_.timeout_total.inc();
      return fail(ErrorCode::kUpstreamTimeout,
                  fmt::format("upstream exchange exceeded total_timeout ({} ms)",
                              millis(cfg_.total_timeout)),
                  std::move(detail));
    }
    return fail(
        ErrorCode::kUpstreamTimeout,
        fmt::format("upstream connect_timeout ({} ms) exceeded", millis(cfg_.connect_timeout)),
        std::move(detail));
  }
  if (ec == net::error::operation_aborted) {
    return cancelledError();
  }
  if (ec == net::error::connection_refused) {
    stats_.fail_refused.inc();
    return fail(ErrorCode::kUpstreamUnavailable, "upstream connection refused", std::move(detail));
  }
  stats_.fail_other.inc();
  return fail(ErrorCode::kUpstreamUnavailable,
              fmt::format("upstream connection failed: {}", ec.message()),
              std::move(detail));
}

net::awaitable<Result<std::unique_ptr<Connection>>> HttpClient::Core::connect(const Target& target,
                                                                              Deadline total) {
  auto cs = co_await net::this_coro::cancellation_state;
  Deadline deadline = std::min(SteadyClock::now() + cfg_.connect_timeout, total);
  auto budget =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  auto addresses = co_await guard_.resolveChecked(target, resolver_, budget);
  if (!addresses) {
    if (addresses.error().code == ErrorCode::kPermissionDenied) {
      stats_.fail_guard.inc();
    } else if (addresses.error().code == ErrorCode::kUpstreamTimeout) {
      stats_.fail_timeout.inc();
    } else {
      stats_.fail_dns.inc();
    }
    co_return addresses.error();
  }
  if (cs.cancelled() != net::cancellation_type::none) {
    co_return cancelledError();
  }
  std::vector<tcp::endpoint> endpoints;
  endpoints.reserve(addresses->size());
  for (const auto& a : *addresses) {
    endpoints.emplace_back(a, target.port);
  }
  auto conn = std::make_unique<Connection>(ex_, target.tls ? &tls_ : nullptr, target.pool_key);
  conn->lowest().expires_at(deadline);
  auto [ec, endpoint] = co_await conn->lowest().async_connect(endpoints, kAsTuple);
  if (ec) {
    conn->close();
    co_return connectError(ec, deadline, total, target, "connect");
  }
  conn->lowest().expires_never();
  beast::error_code ignored;
  conn->lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (auto* tls = conn->tls()) {
    SSL* handle = tls->native_handle();
    // SNI for host names (RFC 6066 forbids it for IP literals), and the certificate must name
    // the host (or IP) we meant, not just chain to a trusted CA.
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = 0;
    if (target.host_is_ip) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
    } else {
      ok = SSL_set1_host(handle, target.host.c_str());
      if (ok == 1) {
        ok = static_cast<int>(SSL_ctrl(handle,
                                       SSL_CTRL_SET_TLSEXT_HOSTNAME,
                                       TLSEXT_NAMETYPE_host_name,
                                       const_cast<char*>(target.host.c_str())));
      }
    }
    if (ok != 1) {
      stats_.fail_tls.inc();
      co_return fail(
          ErrorCode::kUpstreamUnavailable, "upstream TLS set-up failed", "host=" + target.host);
    }
    tls->set_verify_mode(ssl::verify_peer);
    if (cs.cancelled() != net::cancellation_type::none) {
      co_return cancelledError();
    }
    conn->lowest().expires_at(deadline);
    auto [hs_ec] = co_await tls->async_handshake(ssl::stream_base::client, kAsTuple);
    if (hs_ec) {
      long verify = SSL_get_verify_result(handle);
      conn->close();
      if (hs_ec == beast::error::timeout || hs_ec == net::error::operation_aborted) {
        co_return connectError(hs_ec, deadline, total, target, "tls");
      }
      stats_.fail_tls.inc();
      std::string reason =
          verify != X509_V_OK ? X509_verify_cert_error_string(verify) : hs_ec.message();
      co_return fail(ErrorCode::kUpstreamUnavailable,
                     fmt::format("upstream TLS handshake failed: {}", reason),
                     fmt::format("host={} error={}", target.host, hs_ec.message()));
    }
    conn->lowest().expires_never();
  }
  co_return conn;
}

net::awaitable<Result<ResponsePtr>> HttpClient::Core::send(Request request) {
  auto self = shared_from_this();  // a Response may outlive the HttpClient
  auto cs = co_await net::this_coro::cancellation_state;
  Deadline total = SteadyClock::now() + cfg_.total_timeout;
  auto checked = checkedTarget(request.url);
  if (!checked) {
    if (checked.error().code == ErrorCode::kPermissionDenied) {
      stats_.fail_guard.inc();
    }
    co_return checked.error();
  }
  const std::shared_ptr<const Target> target = std::move(*checked);
  if (auto valid = validateRequest(request); !valid) {
    co_return valid.error();
  }
  bool head_request = request.method == "HEAD";
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn;
    if (attempt == 0) {
      conn = acquire(target->pool_key);
    }
    bool reused = conn != nullptr;
    if (reused) {
      stats_.pool_hits.inc();
    } else {
      stats_.pool_misses.inc();
      auto fresh = co_await connect(*target, total);
      if (!fresh) {
        co_return fresh.error();
      }
      conn = std::move(*fresh);
    }
    auto response =
        std::make_unique<HttpResponse>(self, std::move(conn), target->host, total, head_request);
    Deadline first_byte = std::min(SteadyClock::now() + cfg_.first_byte_timeout, total);
    beast::error_code write_ec;
    {
      std::string head;
      WipeOnExit wipe{head};
      serializeHead(request, *target, head);
      if (cs.cancelled() != net::cancellation_type::none) {
        co_return cancelledError();
      }
      // Reach the connection through the response that owns it from here on.
      std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(request.body)};
      auto [ec, n] = co_await response->connection().write(buffers, first_byte);
      write_ec = ec;
    }
    if (write_ec) {
      if (reused && attempt == 0 && (isReset(write_ec) || isClose(write_ec))) {
        stats_.stale_retries.inc();
        continue;
      }
      response->connection().close();
      co_return exchangeError(*this, write_ec, "first_byte", first_byte, total, target->host);
    }
    if (cs.cancelled() != net::cancellation_type::none) {
      co_return cancelledError();
    }
    bool received = false;
    auto [read_ec, head_result] = co_await response->readHead(first_byte, received);
    if (!head_result) {
      // No silent resend once the request was delivered: the provider may have processed (and
      // billed) it before the connection died. The caller's retry policy decides, and counts
      // the attempt where the tenant can see it (x-livery-attempts, the usage record). Only a
      // write that failed on a stale pooled connection, above, is resent.
      co_return head_result.error();
    }
    co_return ResponsePtr(std::move(response));
  }
  co_return fail(ErrorCode::kUpstreamUnavailable, "upstream connection failed twice");
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(net::any_io_executor executor,
                                                       const config::UpstreamConfig& cfg,
                                                       Resolver& resolver,
                                                       MetricsRegistry& metrics,
                                                       const Clock& clock) {
  auto core = std::make_shared<Core>(std::move(executor), cfg, resolver, metrics, clock);
  if (auto ok = core->initTls(); !ok) {
    return ok.error();
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(core)));
}

HttpClient::HttpClient(std::shared_ptr<Core> core) : core_(std::move(core)) {}

HttpClient::~HttpClient() {
  core_->shutdown();
}

net::awaitable<Result<ResponsePtr>> HttpClient::send(Request request) {
  // Hold the core in the frame: the client may be destroyed while this coroutine runs.
  auto core = core_;
  co_return co_await core->send(std::move(request));
}

const OutboundGuard& HttpClient::guard() const noexcept {
  return core_->guard();
}

std::size_t HttpClient::idleConnections() const noexcept {
  return core_->idleCount();
}

void HttpClient::closeIdle() noexcept {
  core_->closeIdle();
}

void HttpClient::shutdown() noexcept {
  core_->shutdown();
}

const net::any_io_executor& HttpClient::executor() const noexcept {
  return core_->executor();
}

}  // namespace livery::upstream
