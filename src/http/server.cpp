#include "http/server.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <list>
#include <memory>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"

namespace livery::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;

// Per-connection state visible to shutdown(). Touched only on the owning worker's thread.
struct SessionState {
  beast::tcp_stream* stream = nullptr;
  bool idle = true;
};

// Per-I/O-thread state; every member is confined to that thread except `ctx`.
struct Worker {
  net::io_context* ctx = nullptr;
  int index = 0;
  std::list<SessionState*> sessions;
  bool draining = false;
  IdGenerator ids;
  std::unordered_map<std::string, Counter*> status_counters;  // "route\x1fstatus" -> counter
  std::string counter_key;                                    // scratch for status_counters lookups
  std::unordered_map<std::string, Histogram*> latency;        // route -> histogram
};

void appendHead(std::string& out, int status, const Headers& headers) {
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", status, reasonPhrase(status));
  for (const auto& f : headers.fields()) {
    if (!Headers::isSafeValue(f.value) || !Headers::isSafeValue(f.name)) {
      continue;  // never let a value split the response
    }
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
}

// Deadline for receiving one request. Expiry cancels the socket's pending read (so the session
// can still answer 408); a generation number makes a late expiry harmless after disarm().
class ReadDeadline {
 public:
  explicit ReadDeadline(beast::tcp_stream& stream)
      : stream_(stream), timer_(stream.get_executor()) {}
  void arm(std::chrono::milliseconds timeout) {
    ++generation_;
    armed_ = true;
    expired_ = false;
    timer_.expires_after(timeout);
    timer_.async_wait([this, gen = generation_](const boost::system::error_code& ec) {
      // On destruction of the timer the handler runs with operation_aborted and touches nothing.
      if (!ec && armed_ && gen == generation_) {
        expired_ = true;
        beast::error_code ignored;
        stream_.socket().cancel(ignored);
      }
    });
  }
  void disarm() {
    armed_ = false;
    timer_.cancel();
  }
  bool expired() const noexcept { return expired_; }

 private:
  beast::tcp_stream& stream_;
  net::steady_timer timer_;
  std::uint64_t generation_ = 0;
  bool armed_ = false;
  bool expired_ = false;
};

class SessionWriter final : public StreamWriter {
 public:
  SessionWriter(beast::tcp_stream& stream,
                const config::HttpConfig& cfg,
                const std::string& request_id,
                bool http10,
                bool head_only)
      : stream_(stream),
        cfg_(cfg),
        request_id_(request_id),
        http10_(http10),
        head_only_(head_only) {}

  net::awaitable<Result<void>> begin(int status, Headers headers) override {
    if (begun_) {
      co_return fail(ErrorCode::kInternal, "response already started");
    }
    begun_ = true;
    status_ = status;
    std::string head;
    head.reserve(256);
    appendHead(head, status, headers);
    head += "x-request-id: ";
    head += request_id_;
    head += "\r\n";
    if (http10_) {
      head += "Connection: close\r\n\r\n";  // body delimited by close
    } else {
      head += "Transfer-Encoding: chunked\r\n\r\n";
    }
    co_return co_await send(std::array{net::buffer(head)});
  }

  net::awaitable<Result<void>> write(std::string_view data) override {
    if (!begun_ || ended_) {
      co_return fail(ErrorCode::kInternal, "write outside a streamed response");
    }
    if (data.empty() || head_only_) {
      co_return Result<void>{};
    }
    if (http10_) {
      co_return co_await send(std::array{net::buffer(data.data(), data.size())});
    }
    std::array<char, 24> size_line{};
    auto end = fmt::format_to(size_line.data(), "{:x}\r\n", data.size());
    auto size_len = static_cast<std::size_t>(end - size_line.data());
    co_return co_await send(
        std::array<net::const_buffer, 3>{net::buffer(size_line.data(), size_len),
                                         net::buffer(data.data(), data.size()),
                                         net::buffer("\r\n", 2)});
  }

  net::awaitable<Result<void>> end() override {
    if (!begun_ || ended_) {
      co_return fail(ErrorCode::kInternal, "end outside a streamed response");
    }
    ended_ = true;
    if (http10_ || head_only_) {
      co_return Result<void>{};
    }
    co_return co_await send(std::array{net::buffer("0\r\n\r\n", 5)});
  }

  bool begun() const noexcept override { return begun_; }
  bool ended() const noexcept { return ended_; }
  bool failed() const noexcept { return failed_; }
  int status() const noexcept { return status_; }
  std::uint64_t bytesWritten() const noexcept override { return bytes_; }

 private:
  template <class Buffers>
  net::awaitable<Result<void>> send(const Buffers& buffers) {
    if (failed_) {
      co_return fail(ErrorCode::kUnavailable, "client connection closed");
    }
    stream_.expires_after(cfg_.write_timeout);
    auto [ec, n] = co_await net::async_write(stream_, buffers, kAsTuple);
    stream_.expires_never();
    bytes_ += n;
    if (ec) {
      failed_ = true;
      co_return fail(ErrorCode::kUnavailable, "client connection closed", ec.message());
    }
    co_return Result<void>{};
  }

  beast::tcp_stream& stream_;
  const config::HttpConfig& cfg_;
  const std::string& request_id_;
  bool http10_;
  bool head_only_;
  bool begun_ = false;
  bool ended_ = false;
  bool failed_ = false;
  int status_ = 0;
  std::uint64_t bytes_ = 0;
};

// Notices that the client closed its side (or reset) while a handler runs, and then cancels the
// handler: terminal cancellation of the session coroutine, whose co_spawn binds `signal`. One per
// connection, armed around each watched handler. A plain callback on one 1-byte MSG_PEEK
// receive: racing the handler against a watcher coroutine with `||` cost about 5 µs of CPU per
// request (two coroutine frames, a parallel group and its cancellation plumbing), and a peek read
// (unlike async_wait) is queued on the already registered descriptor without an epoll_ctl. Peeked
// bytes of a pipelined request stay in the socket; they are not a disconnect, and the watch then
// simply stays quiet.
struct ClientWatch {
  net::cancellation_signal signal;
  std::uint64_t generation = 0;
  bool armed = false;
  bool fired = false;
  char byte = 0;
};

void armClientWatch(const std::shared_ptr<ClientWatch>& watch, tcp::socket& socket) {
  const std::uint64_t generation = ++watch->generation;
  watch->armed = true;
  watch->fired = false;
  socket.async_receive(net::buffer(&watch->byte, 1),
                       tcp::socket::message_peek,
                       [watch, generation](const boost::system::error_code& ec, std::size_t n) {
                         // Disarmed (or re-armed) before this ran, or cancelled by the disarm.
                         if (!watch->armed || watch->generation != generation ||
                             ec == net::error::operation_aborted) {
                           return;
                         }
                         watch->armed = false;
                         if (!ec && n > 0) {
                           return;  // a pipelined request's bytes: not a disconnect
                         }
                         watch->fired = true;  // end of stream or reset: the client is gone
                         watch->signal.emit(net::cancellation_type::terminal);
                       });
}

// Returns whether the client went away while the watch was armed.
bool disarmClientWatch(ClientWatch& watch, tcp::socket& socket) {
  if (watch.armed) {
    watch.armed = false;
    boost::system::error_code ignored;
    socket.cancel(ignored);  // only the watch's peek read is outstanding once the handler returned
  }
  return watch.fired;
}

}  // namespace

class Server::Impl {
 public:
  Impl(std::vector<net::io_context*> ctxs,
       const config::HttpConfig& cfg,
       const Router& router,
       Logger& log,
       MetricsRegistry& metrics,
       const Clock& clock)
      : cfg_(cfg),
        router_(router),
        log_(log),
        metrics_(metrics),
        clock_(clock),
        acceptor_(*ctxs.at(0)),
        in_flight_gauge_(
            metrics.gauge("livery_http_requests_in_flight", "HTTP requests being handled")),
        connections_gauge_(
            metrics.gauge("livery_http_connections_open", "Open client connections")),
        rejected_connections_(metrics.counter("livery_http_connections_rejected_total",
                                              "Connections refused over http.max_connections")),
        handler_exceptions_(metrics.counter("livery_http_handler_exceptions_total",
                                            "Exceptions that escaped a handler (answered 500)")) {
    int i = 0;
    for (auto* ctx : ctxs) {
      auto w = std::make_unique<Worker>();
      w->ctx = ctx;
      w->index = i++;
      workers_.push_back(std::move(w));
    }
  }

  std::uint16_t listen(const std::string& host, std::uint16_t port) {
    auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
    tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
  }

  void start() {
    net::co_spawn(acceptor_.get_executor(), acceptLoop(), [this](const std::exception_ptr& ep) {
      if (ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          LIVERY_LOG(log_, Error, "accept_loop_failed", {"error", e.what()});
        }
      }
    });
  }

  void shutdown() {
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    for (auto& w : workers_) {
      Worker* wp = w.get();
      net::post(*wp->ctx, [wp] {
        wp->draining = true;
        for (SessionState* s : wp->sessions) {
          if (s->idle) {
            beast::error_code ignored;
            s->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            s->stream->cancel();
          }
        }
      });
    }
  }

  void closeAll() {
    for (auto& w : workers_) {
      Worker* wp = w.get();
      net::post(*wp->ctx, [wp] {
        wp->draining = true;
        for (SessionState* s : wp->sessions) {
          beast::error_code ignored;
          s->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
          s->stream->cancel();
        }
      });
    }
  }

  std::size_t openConnections() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::size_t inFlight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }

 private:
  net::awaitable<void> acceptLoop() {
    std::size_t next = 0;
    for (;;) {
      Worker& w = *workers_[next];
      next = (next + 1) % workers_.size();
      auto [ec, socket] = co_await acceptor_.async_accept(*w.ctx, kAsTuple);
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      if (ec) {
        LIVERY_LOG(log_, Warn, "accept_failed", {"error", ec.message()});
        net::steady_timer backoff(acceptor_.get_executor(), std::chrono::milliseconds(50));
        co_await backoff.async_wait(kAsTuple);
        continue;
      }
      if (open_.load(std::memory_order_relaxed) >= cfg_.max_connections) {
        rejected_connections_.inc();
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      open_.fetch_add(1, std::memory_order_relaxed);
      connections_gauge_.add(1);
      auto watch = std::make_shared<ClientWatch>();
      auto slot = watch->signal.slot();
      net::co_spawn(*w.ctx,
                    session(std::move(socket), w, watch),
                    net::bind_cancellation_slot(slot, [this, watch](const std::exception_ptr& ep) {
                      open_.fetch_sub(1, std::memory_order_relaxed);
                      connections_gauge_.add(-1);
                      if (ep) {
                        try {
                          std::rethrow_exception(ep);
                        } catch (const std::exception& e) {
                          LIVERY_LOG(log_, Error, "session_failed", {"error", e.what()});
                        }
                      }
                    }));
    }
  }

  // Writes a complete buffered response.
  net::awaitable<bool> writeResponse(beast::tcp_stream& stream,
                                     const Response& res,
                                     const std::string& request_id,
                                     bool keep_alive,
                                     bool head_only,
                                     std::uint64_t& bytes_out) {
    std::string head;
    head.reserve(256 + res.headers.size() * 32);
    appendHead(head, res.status, res.headers);
    bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
    if (!no_body) {
      fmt::format_to(std::back_inserter(head), "Content-Length: {}\r\n", res.body.size());
    }
    head += "x-request-id: ";
    head += request_id;
    head += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    stream.expires_after(cfg_.write_timeout);
    std::size_t n = 0;
    beast::error_code ec;
    if (head_only || no_body || res.body.empty()) {
      std::tie(ec, n) = co_await net::async_write(stream, net::buffer(head), kAsTuple);
    } else {
      std::tie(ec, n) = co_await net::async_write(
          stream,
          std::array<net::const_buffer, 2>{net::buffer(head), net::buffer(res.body)},
          kAsTuple);
    }
    stream.expires_never();
    bytes_out += n;
    co_return !ec;
  }

  // Answers a request that failed before it reached a handler, then the connection closes.
  net::awaitable<void> reject(beast::tcp_stream& stream,
                              Worker& w,
                              ErrorCode code,
                              std::string message,
                              std::string_view reason,
                              const std::string& remote) {
    auto request_id = w.ids.nextTimed("req", clock_.unixMillis());
    Response res = Response::error(Error{code, std::move(message)});
    std::uint64_t bytes = 0;
    co_await writeResponse(stream, res, request_id, false, false, bytes);
    countStatus(w, "(rejected)", res.status);
    if (cfg_.access_log) {
      LIVERY_LOG(log_,
                 Info,
                 "request",
                 {"request_id", request_id},
                 {"remote", remote},
                 {"route", "(rejected)"},
                 {"status", res.status},
                 {"reason", reason});
    }
  }

  void countStatus(Worker& w, std::string_view route, int status) {
    // The lookup key is built in a per-worker scratch string: no allocation per request.
    std::string& key = w.counter_key;
    key.assign(route);
    key.push_back('\x1f');
    char digits[12];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
    key.append(digits, static_cast<std::size_t>(end - digits));
    auto it = w.status_counters.find(key);
    if (it == w.status_counters.end()) {
      Counter& c =
          metrics_.counter("livery_http_requests_total",
                           "HTTP requests by route and status",
                           {{"route", std::string(route)}, {"status", std::to_string(status)}});
      it = w.status_counters.emplace(key, &c).first;
    }
    it->second->inc();
  }

  Histogram& latencyFor(Worker& w, std::string_view route) {
    w.counter_key.assign(route);  // scratch key: no allocation per request
    auto it = w.latency.find(w.counter_key);
    if (it == w.latency.end()) {
      Histogram& h = metrics_.histogram("livery_http_request_duration_seconds",
                                        "Time from request received to response completed",
                                        {{"route", std::string(route)}},
                                        MetricsRegistry::latencyBuckets());
      it = w.latency.emplace(std::string(route), &h).first;
    }
    return *it->second;
  }

  net::awaitable<Response> invoke(const Handler& handler, Exchange& ex) {
    try {
      co_return co_await handler(ex);
    } catch (const std::exception& e) {
      handler_exceptions_.inc();
      LIVERY_LOG(log_,
                 Error,
                 "handler_exception",
                 {"request_id", ex.request_id},
                 {"path", ex.request.path()},
                 {"error", e.what()});
      co_return Response::error(Error{ErrorCode::kInternal, "internal error"});
    }
  }

  net::awaitable<void> session(tcp::socket socket, Worker& w, std::shared_ptr<ClientWatch> watch) {
    beast::error_code sock_ec;
    socket.set_option(tcp::no_delay(true), sock_ec);
    std::string remote;
    if (auto ep = socket.remote_endpoint(sock_ec); !sock_ec) {
      remote = ep.address().to_string();
    }
    beast::tcp_stream stream(std::move(socket));
    SessionState state;
    state.stream = &stream;
    w.sessions.push_front(&state);
    auto registration = w.sessions.begin();
    struct Unregister {
      Worker& w;
      std::list<SessionState*>::iterator it;
      ~Unregister() { w.sessions.erase(it); }
    } unregister{w, registration};

    beast::flat_buffer buffer(std::max<std::size_t>(cfg_.max_header_bytes * 2, 64 * 1024));
    ReadDeadline read_deadline(stream);
    for (;;) {
      if (w.draining) {
        break;
      }
      state.idle = true;
      if (buffer.size() == 0) {
        stream.expires_after(cfg_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kAsTuple);
        stream.expires_never();
        if (ec) {
          break;  // peer closed, idle timeout, or shutdown
        }
        buffer.commit(n);
      }
      state.idle = false;
      // A request counts as in flight from its first byte, so a drain waits for uploads too.
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      in_flight_gauge_.add(1);
      struct InFlight {
        Impl& impl;
        ~InFlight() {
          impl.in_flight_.fetch_sub(1, std::memory_order_relaxed);
          impl.in_flight_gauge_.add(-1);
        }
      } in_flight_guard{*this};
      auto started = clock_.now();
      // The read deadline is our own timer rather than the stream's expiry: Beast closes the
      // socket on expiry, and we want to answer 408 before closing.
      read_deadline.arm(cfg_.read_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg_.max_header_bytes));
      parser.body_limit(cfg_.max_body_bytes);
      {
        auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
        if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
          read_deadline.disarm();
          co_await reject(stream,
                          w,
                          ErrorCode::kHeadersTooLarge,
                          fmt::format("request headers exceed {} bytes", cfg_.max_header_bytes),
                          "header_limit",
                          remote);
          break;
        }
        if (ec == bhttp::error::body_limit) {  // a declared Content-Length over the limit
          read_deadline.disarm();
          co_await reject(
              stream,
              w,
              ErrorCode::kPayloadTooLarge,
              fmt::format("request body exceeds the limit of {} bytes", cfg_.max_body_bytes),
              "body_limit",
              remote);
          break;
        }
        if (read_deadline.expired()) {
          co_await reject(stream,
                          w,
                          ErrorCode::kRequestTimeout,
                          "request not received within the read timeout",
                          "read_timeout",
                          remote);
          break;
        }
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset) {
          break;
        }
        if (ec) {
          read_deadline.disarm();
          co_await reject(stream,
                          w,
                          ErrorCode::kBadRequest,
                          "malformed HTTP request: " + ec.message(),
                          "bad_request",
                          remote);
          break;
        }
      }
      auto& header = parser.get();
      if (header.count(bhttp::field::content_length) > 1 ||
          (header.count(bhttp::field::content_length) > 0 &&
           header.count(bhttp::field::transfer_encoding) > 0)) {
        read_deadline.disarm();
        co_await reject(stream,
                        w,
                        ErrorCode::kBadRequest,
                        "ambiguous message framing (Content-Length with Transfer-Encoding)",
                        "bad_framing",
                        remote);
        break;
      }
      if (auto len = parser.content_length(); len && *len > cfg_.max_body_bytes) {
        read_deadline.disarm();
        co_await reject(stream,
                        w,
                        ErrorCode::kPayloadTooLarge,
                        fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                                    *len,
                                    cfg_.max_body_bytes),
                        "body_limit",
                        remote);
        break;
      }
      if (!parser.is_done()) {
        if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [ec, n] = co_await net::async_write(
              stream, net::buffer(kContinue.data(), kContinue.size()), kAsTuple);
          if (ec) {
            break;
          }
        }
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
        if (ec == bhttp::error::body_limit) {
          read_deadline.disarm();
          co_await reject(
              stream,
              w,
              ErrorCode::kPayloadTooLarge,
              fmt::format("request body exceeds the limit of {} bytes", cfg_.max_body_bytes),
              "body_limit",
              remote);
          break;
        }
        if (read_deadline.expired()) {
          co_await reject(stream,
                          w,
                          ErrorCode::kRequestTimeout,
                          "request body not received within the read timeout",
                          "read_timeout",
                          remote);
          break;
        }
        if (ec) {
          break;
        }
      }
      read_deadline.disarm();

      Request req;
      auto msg = parser.release();
      req.method_text = std::string(msg.method_string());
      req.method = parseMethod(req.method_text);
      req.target = std::string(msg.target());
      req.version = msg.version();
      req.headers.reserve(16);
      for (const auto& f : msg) {
        req.headers.add(std::string(f.name_string()), std::string(f.value()));
      }
      req.keep_alive = msg.keep_alive() && !w.draining;
      req.body = std::move(msg.body());
      req.remote_ip = remote;
      // Handlers may move the body out (the chat pipeline does); log what arrived.
      const std::size_t bytes_in = req.body.size();

      std::string request_id = w.ids.nextTimed("req", clock_.unixMillis());
      bool head_only = req.method == Method::kHead;
      SessionWriter writer(stream, cfg_, request_id, req.version == 10, head_only);
      Exchange ex{req, writer, request_id, {}, started, w.index, {}, {}, {}, 0};
      if (auto client_id = req.headers.get("x-request-id"); isSafeClientId(client_id)) {
        ex.client_request_id = std::string(client_id);
      }

      std::string route_name = "(unmatched)";
      Response res;
      bool client_gone = false;
      RouteMatch match = router_.match(req.method, req.path(), &ex);
      if (match.handler == nullptr) {
        res = Response::error(match.path_matched
                                  ? Error{ErrorCode::kMethodNotAllowed, "method not allowed"}
                                  : Error{ErrorCode::kNotFound, "no such route"});
      } else {
        route_name = match.options->name;
        if (match.options->watch_client_close) {
          armClientWatch(watch, stream.socket());
          res = co_await invoke(*match.handler, ex);
          client_gone = disarmClientWatch(*watch, stream.socket());
          if (client_gone) {
            // The session only closes the socket from here; nothing left to cancel.
            co_await net::this_coro::reset_cancellation_state();
          }
        } else {
          res = co_await invoke(*match.handler, ex);
        }
      }

      std::uint64_t bytes_out = 0;
      bool keep_alive = req.keep_alive && !w.draining && !client_gone;
      int status = 0;
      if (client_gone) {
        status = 499;  // nginx's "client closed request", for logs and metrics only
        keep_alive = false;
      } else if (writer.begun()) {
        status = writer.status();
        bytes_out = writer.bytesWritten();
        // A streamed response that was not ended (handler failed mid-stream) cannot be reused.
        keep_alive = keep_alive && writer.ended() && !writer.failed() && req.version != 10;
        if (writer.failed()) {
          client_gone = true;
        }
      } else {
        status = res.status;
        if (!co_await writeResponse(stream, res, request_id, keep_alive, head_only, bytes_out)) {
          keep_alive = false;
        }
      }
      auto elapsed = clock_.now() - started;
      double seconds = std::chrono::duration<double>(elapsed).count();
      countStatus(w, route_name, status);
      latencyFor(w, route_name).observe(seconds);
      if (cfg_.access_log) {
        double ms = seconds * 1000.0;
        LIVERY_LOG(log_,
                   Info,
                   "request",
                   {"request_id", request_id},
                   {"client_request_id", ex.client_request_id},
                   {"tenant_id", ex.tenant_id},
                   {"method", req.method_text},
                   {"route", route_name},
                   {"path", req.path()},
                   {"status", status},
                   {"duration_ms", ms},
                   {"bytes_in", bytes_in},
                   {"bytes_out", bytes_out},
                   {"detail", ex.route_detail},
                   {"attempts", ex.upstream_attempts},
                   {"remote", remote});
      }
      if (!keep_alive) {
        break;
      }
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }

  const config::HttpConfig& cfg_;
  const Router& router_;
  Logger& log_;
  MetricsRegistry& metrics_;
  const Clock& clock_;
  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> in_flight_{0};
  Gauge& in_flight_gauge_;
  Gauge& connections_gauge_;
  Counter& rejected_connections_;
  Counter& handler_exceptions_;
};

Server::Server(std::vector<net::io_context*> workers,
               const config::HttpConfig& cfg,
               const Router& router,
               Logger& log,
               MetricsRegistry& metrics,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(workers), cfg, router, log, metrics, clock)) {}

Server::~Server() = default;

std::uint16_t Server::listen(const std::string& host, std::uint16_t port) {
  return impl_->listen(host, port);
}

void Server::start() {
  impl_->start();
}

void Server::shutdown() {
  impl_->shutdown();
}

void Server::closeAll() {
  impl_->closeAll();
}

std::size_t Server::openConnections() const noexcept {
  return impl_->openConnections();
}

std::size_t Server::inFlightRequests() const noexcept {
  return impl_->inFlight();
}

}  // namespace livery::http
