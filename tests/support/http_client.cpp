#include "support/http_client.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace livery::testing {

namespace bhttp = boost::beast::http;

namespace {

int connectTo(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    throw std::runtime_error("bad address " + host);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT
    int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(e));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Waits for readability until the deadline; returns false on timeout.
bool waitReadable(int fd, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  if (left < 0) {
    left = 0;
  }
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left));
  return r > 0;
}

bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

struct TestHttpClient::Impl {
  std::string host;
  std::uint16_t port;
  int fd = -1;
  std::string leftover;

  void ensure() {
    if (fd < 0) {
      fd = connectTo(host, port);
      leftover.clear();
    }
  }
  void drop() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    leftover.clear();
  }

  HttpResult exchange(std::string_view method,
                      std::string_view target,
                      std::string_view body,
                      const HeaderList& headers,
                      const std::function<bool(std::string_view)>* on_data,
                      std::chrono::milliseconds timeout) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ensure();
      std::string req;
      req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
      bool has_host = false;
      for (const auto& [k, v] : headers) {
        if (http::iequals(k, "host")) {
          has_host = true;
        }
        req.append(k).append(": ").append(v).append("\r\n");
      }
      if (!has_host) {
        req.append("Host: ").append(host).append(":").append(std::to_string(port)).append("\r\n");
      }
      if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
      }
      req.append("\r\n").append(body);
      if (!sendAll(fd, req)) {
        drop();
        continue;  // stale keep-alive connection: retry once on a new one
      }
      auto deadline = std::chrono::steady_clock::now() + timeout;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(1ULL << 30);
      parser.header_limit(1 << 20);
      if (method == "HEAD") {
        parser.skip(true);
      }
      std::string buf = std::move(leftover);
      leftover.clear();
      std::size_t body_seen = 0;
      bool got_any = !buf.empty();
      bool stopped = false;
      for (;;) {
        if (!buf.empty()) {
          boost::beast::error_code ec;
          std::size_t used = 0;
          while (used < buf.size() && !parser.is_done()) {
            auto n = parser.put(boost::asio::buffer(buf.data() + used, buf.size() - used), ec);
            if (ec == bhttp::error::need_more) {
              ec = {};
              break;
            }
            if (ec) {
              drop();
              throw std::runtime_error("bad HTTP response: " + ec.message());
            }
            used += n;
            if (n == 0) {
              break;
            }
          }
          buf.erase(0, used);
          if (on_data != nullptr && parser.is_header_done()) {
            const auto& b = parser.get().body();
            if (b.size() > body_seen) {
              if (!(*on_data)(std::string_view(b).substr(body_seen))) {
                stopped = true;
              }
              body_seen = b.size();
            }
          }
          if (parser.is_done() || stopped) {
            break;
          }
        }
        if (!waitReadable(fd, deadline)) {
          drop();
          throw std::runtime_error("timed out waiting for the response");
        }
        char tmp[16384];
        auto n = ::recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
          if (!got_any && attempt == 0) {
            drop();
            goto retry;  // NOLINT: the server closed an idle keep-alive connection
          }
          if (!got_any) {
            drop();
            throw std::runtime_error("connection closed before any response byte");
          }
          boost::beast::error_code ec;
          parser.put_eof(ec);
          if (ec || !parser.is_done()) {
            drop();
            throw std::runtime_error("connection closed before the response was complete");
          }
          break;
        }
        got_any = true;
        buf.append(tmp, static_cast<std::size_t>(n));
      }
      {
        HttpResult r;
        auto msg = parser.release();
        r.status = static_cast<int>(msg.result_int());
        for (const auto& f : msg) {
          r.headers.add(std::string(f.name_string()), std::string(f.value()));
        }
        r.body = std::move(msg.body());
        if (stopped || !msg.keep_alive()) {
          drop();
        } else {
          leftover = std::move(buf);
        }
        return r;
      }
    retry:;
    }
    throw std::runtime_error("request failed twice");
  }
};

TestHttpClient::TestHttpClient(std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

TestHttpClient::~TestHttpClient() {
  if (impl_) {
    impl_->drop();
  }
}

TestHttpClient::TestHttpClient(TestHttpClient&&) noexcept = default;
TestHttpClient& TestHttpClient::operator=(TestHttpClient&&) noexcept = default;

HttpResult TestHttpClient::request(std::string_view method,
                                   std::string_view target,
                                   std::string_view body,
                                   const HeaderList& headers,
                                   std::chrono::milliseconds timeout) {
  return impl_->exchange(method, target, body, headers, nullptr, timeout);
}

HttpResult TestHttpClient::stream(std::string_view method,
                                  std::string_view target,
                                  std::string_view body,
                                  const HeaderList& headers,
                                  const std::function<bool(std::string_view)>& on_data,
                                  std::chrono::milliseconds timeout) {
  return impl_->exchange(method, target, body, headers, &on_data, timeout);
}

void TestHttpClient::close() {
  impl_->drop();
}

RawConnection::RawConnection(const std::string& host, std::uint16_t port)
    : fd_(connectTo(host, port)) {}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool RawConnection::send(std::string_view bytes) {
  return sendAll(fd_, bytes);
}

std::string RawConnection::readUntilClose(std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (waitReadable(fd_, deadline)) {
    char tmp[8192];
    auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      break;
    }
    out.append(tmp, static_cast<std::size_t>(n));
  }
  return out;
}

std::string RawConnection::readUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.find(needle) == std::string::npos && waitReadable(fd_, deadline)) {
    char tmp[8192];
    auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      break;
    }
    out.append(tmp, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawConnection::closedWithin(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (waitReadable(fd_, deadline)) {
    char tmp[8192];
    auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      return true;
    }
  }
  return false;
}

int statusOf(std::string_view raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.")) {
    return 0;
  }
  return std::atoi(std::string(raw.substr(9, 3)).c_str());
}

}  // namespace livery::testing
