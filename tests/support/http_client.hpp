#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace livery::testing {

struct HttpResult {
  int status = 0;
  http::Headers headers;
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A blocking HTTP/1.1 client for tests. Keeps one keep-alive connection and reconnects when the
// server closed it. Every call has a deadline (throws std::runtime_error on timeout or I/O error).
class TestHttpClient {
 public:
  TestHttpClient(std::string host, std::uint16_t port);
  ~TestHttpClient();
  TestHttpClient(TestHttpClient&&) noexcept;
  TestHttpClient& operator=(TestHttpClient&&) noexcept;

  HttpResult request(std::string_view method,
                     std::string_view target,
                     std::string_view body = {},
                     const HeaderList& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  HttpResult get(std::string_view target, const HeaderList& headers = {}) {
    return request("GET", target, {}, headers);
  }
  HttpResult post(std::string_view target, std::string_view body, const HeaderList& headers = {}) {
    return request("POST", target, body, headers);
  }
  // Reads a (chunked) response incrementally; `on_data` gets each piece of body as it arrives and
  // returns false to stop reading (the connection is then closed, as a browser's Stop does).
  HttpResult stream(std::string_view method,
                    std::string_view target,
                    std::string_view body,
                    const HeaderList& headers,
                    const std::function<bool(std::string_view)>& on_data,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw TCP connection for framing and timing tests.
class RawConnection {
 public:
  RawConnection(const std::string& host, std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Returns false when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  // Reads until the peer closes or `timeout` passes; returns what arrived.
  std::string readUntilClose(std::chrono::milliseconds timeout);
  // Reads until `needle` appears or `timeout` passes.
  std::string readUntil(std::string_view needle, std::chrono::milliseconds timeout);
  // True when the peer closed the connection within `timeout` (any bytes are discarded).
  bool closedWithin(std::chrono::milliseconds timeout);
  void close();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Parses the status code of a raw HTTP response ("HTTP/1.1 413 ..."); 0 when absent.
int statusOf(std::string_view raw_response);

}  // namespace livery::testing
