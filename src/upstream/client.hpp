#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/net.hpp"

namespace livery {
class SecretBytes;
}

namespace livery::upstream {

// The interface the gateway uses to call a provider. One concrete implementation talks HTTP/1.1
// over TCP or TLS (upstream/http_client.hpp); tests of the layers above substitute their own.

struct Header {
  std::string name;
  std::string value;
};
using HeaderList = std::vector<Header>;

// First value of header `name` (ASCII case-insensitive), or empty.
std::string_view findHeader(const HeaderList& headers, std::string_view name) noexcept;

// The provider credential, written only into the serialized request head (as
// `<header>: <prefix><key>`), never into Request::headers, a log line or an error. The buffer
// that held the head is wiped (core/secret.hpp wipeString) once it has been written.
struct AuthInjection {
  std::string header;                // "Authorization", "x-api-key", "api-key"; empty: none
  std::string prefix;                // "Bearer " or ""
  const SecretBytes* key = nullptr;  // borrowed: must stay valid until send() completes
};

// One upstream request. The client owns framing: Host, Content-Length, Transfer-Encoding and
// Connection given in `headers` are ignored, as is any header with the auth header's name.
// Header names and values must be free of CR, LF and NUL (kInternal otherwise).
struct Request {
  std::string method = "POST";
  std::string url;  // absolute http(s) URL, checked by the outbound guard
  HeaderList headers;
  std::string body;
  AuthInjection auth;
};

// A response whose head has been received. The body is read either whole or piece by piece,
// never both. The connection returns to its keep-alive pool as soon as the body has been read
// to the end; destroying an unfinished response (or abort()) closes the connection instead.
//
// Deadlines: every read waits at most upstream.idle_timeout, and the whole exchange (from
// send()) at most upstream.total_timeout; either gives kUpstreamTimeout naming the deadline.
// A connection that fails or is truncated mid-body gives kUpstreamUnavailable. A cancelled
// read (Asio per-operation cancellation of the awaiting coroutine) closes the connection and
// returns kUpstreamUnavailable.
//
// Not thread-safe: use it on the executor of the client that returned it.
class Response {
 public:
  virtual ~Response() = default;

  virtual int status() const noexcept = 0;
  virtual const HeaderList& headers() const noexcept = 0;
  std::string_view header(std::string_view name) const noexcept {
    return findHeader(headers(), name);
  }

  // The rest of the body, at most upstream.max_response_bytes (kUpstreamUnavailable beyond).
  virtual net::awaitable<Result<std::string>> readAll() = 0;
  // The next piece of the decoded body (chunked framing removed), at most 16 KiB. An empty view
  // means the body is complete. The view is valid until the next call or destruction.
  virtual net::awaitable<Result<std::string_view>> readSome() = 0;
  // True once the whole body has been read.
  virtual bool complete() const noexcept = 0;
  // Closes the upstream connection now; later reads fail. Idempotent, never throws.
  virtual void abort() noexcept = 0;
};

using ResponsePtr = std::unique_ptr<Response>;

// Sends requests upstream. Errors:
//   kPermissionDenied (openai_code upstream_address_refused): the outbound guard refused the URL;
//   kBadRequest: the URL is malformed; kInternal: an unsafe header;
//   kUpstreamTimeout: connect / first byte / total deadline (the message says which);
//   kUpstreamUnavailable: resolution, connection or TLS failure, reset, malformed response.
// Any HTTP status, 3xx included, is a successful send(): redirects are never followed.
//
// Implementations document their thread-safety; HttpClient is per I/O thread.
class Client {
 public:
  virtual ~Client() = default;
  virtual net::awaitable<Result<ResponsePtr>> send(Request request) = 0;
};

}  // namespace livery::upstream
