#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace livery {
class Logger;
class MetricsRegistry;
class Clock;
namespace config {
struct HttpConfig;
}
}  // namespace livery

namespace livery::http {

class Router;

// HTTP/1.1 server on Boost.Beast: one acceptor, connections spread round-robin over the given
// io_contexts (one thread each), one coroutine per connection that owns its socket.
//
// Limits (config::HttpConfig): headers over max_header_bytes get 431; a declared body over
// max_body_bytes gets 413 before any of it is read (a chunked one when it crosses the limit);
// a request not fully received within read_timeout gets 408 and the connection is closed; an
// idle keep-alive connection is closed after idle_timeout; each write has write_timeout.
//
// Thread-safety: listen()/start() from one thread before the io_contexts run; shutdown() and
// the counters from any thread. The Router, Logger, MetricsRegistry and Clock must outlive the
// server and every connection.
class Server {
 public:
  Server(std::vector<boost::asio::io_context*> workers,
         const config::HttpConfig& cfg,
         const Router& router,
         Logger& log,
         MetricsRegistry& metrics,
         const Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::system_error on failure. Returns the bound port (port 0
  // picks a free one).
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  // Starts accepting (the io_contexts must be run by their threads).
  void start();
  // Stops accepting, closes idle keep-alive connections, and marks the rest to close after
  // their current response. In-flight requests continue.
  void shutdown();
  // Closes every remaining connection (after the drain deadline). Pending handlers see their
  // writes fail and finish.
  void closeAll();

  std::size_t openConnections() const noexcept;
  std::size_t inFlightRequests() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace livery::http
