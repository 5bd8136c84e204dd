#pragma once

#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "core/error.hpp"
#include "core/net.hpp"
#include "upstream/client.hpp"

namespace livery {
class Clock;
class MetricsRegistry;
namespace config {
struct UpstreamConfig;
}
}  // namespace livery

namespace livery::upstream {

class OutboundGuard;
class Resolver;

// HTTP/1.1 upstream client on Beast and OpenSSL, one per I/O thread.
//
// Connections: one keep-alive pool per (scheme, host, port). A connection goes back to its pool
// only after its response was read to the end with keep-alive; at most
// upstream.max_idle_per_host idle connections are kept per key (the newest), each for at most
// upstream.pool_idle_timeout (measured with the injected Clock). A pooled connection is checked
// for liveness before reuse, and a request that fails on a reused connection before any byte of
// the response arrived (write error, reset or close) is retried once on a fresh connection.
//
// New connections: the outbound guard (upstream/outbound_guard.hpp) checks the URL, resolves
// the host through the injected Resolver and checks every address; the client then dials only
// those addresses (pinned), so DNS rebinding cannot redirect it. Host name, TCP connect and TLS
// handshake share upstream.connect_timeout. TLS verifies the peer against the system CA store
// (or upstream.ca_file), always sends SNI for host names and checks the certificate's host name
// (or IP address) with OpenSSL's X509_VERIFY_PARAM host check. Redirects are never followed.
//
// Deadlines (kUpstreamTimeout, the message names the deadline): connect_timeout; the request
// write plus response head within first_byte_timeout; each body read within idle_timeout; the
// whole exchange within total_timeout. Deadlines run on the steady clock through Asio timers.
//
// Cancellation: when the awaiting coroutine is cancelled (Asio per-operation cancellation with
// terminal cancellation allowed, as co_spawn with a bound cancellation slot or the `||`
// operator do), the pending operation stops, the connection is closed, and the call returns
// kUpstreamUnavailable without awaiting anything else.
//
// Metrics (registered in the given registry): livery_upstream_pool_hits_total,
// livery_upstream_pool_misses_total, livery_upstream_stale_retries_total,
// livery_upstream_connect_failures_total{reason=guard|dns|timeout|refused|tls|other},
// livery_upstream_timeouts_total{deadline=first_byte|idle|total}. No label carries a host.
//
// Thread-safety: none. send(), every returned Response and the destructor must run on
// `executor`'s single thread. Responses keep the client's internals alive, so a Response may
// outlive the HttpClient (its connection is then closed rather than pooled). The Resolver,
// MetricsRegistry and Clock must outlive the client and every Response.
class HttpClient final : public Client {
 public:
  // Builds the TLS context; fails (kInternal) when upstream.ca_file cannot be loaded.
  static Result<std::unique_ptr<HttpClient>> create(net::any_io_executor executor,
                                                    const config::UpstreamConfig& cfg,
                                                    Resolver& resolver,
                                                    MetricsRegistry& metrics,
                                                    const Clock& clock);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  net::awaitable<Result<ResponsePtr>> send(Request request) override;

  // The guard this client applies; also usable for save-time checks on this thread.
  const OutboundGuard& guard() const noexcept;
  // Idle pooled connections across all keys (for tests and a gauge).
  std::size_t idleConnections() const noexcept;
  // Closes every idle pooled connection.
  void closeIdle() noexcept;
  // Closes idle connections and stops the pool's sweep timer, so the io_context can run out of
  // work at shutdown. Call on the client's executor; later sends still work (no pooling).
  void shutdown() noexcept;
  const net::any_io_executor& executor() const noexcept;

  class Core;

 private:
  explicit HttpClient(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace livery::upstream
