#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "core/error.hpp"
#include "core/net.hpp"

namespace livery::upstream {

// Turns a host name into addresses. The outbound guard checks every address a resolver returns
// and the client connects only to those (the addresses are pinned), so a resolver is the one
// place a test injects "public at save time, 127.0.0.1 at connect time" (DNS rebinding).
//
// Contract: resolve() completes within `timeout` (kUpstreamTimeout) or with the addresses
// (never an empty list: "no addresses" is kUpstreamUnavailable). It is called on the caller's
// executor; implementations must be usable from several I/O threads at once.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual net::awaitable<Result<std::vector<net::ip::address>>> resolve(
      std::string host, std::chrono::milliseconds timeout) = 0;
};

// getaddrinfo through Asio's resolver (one background lookup thread per io_context). A lookup
// that outlives its deadline is abandoned: the coroutine resumes with kUpstreamTimeout and the
// late answer is dropped.
std::unique_ptr<Resolver> makeSystemResolver();

// Answers from a fixed table, for tests and for operator overrides. An entry is a queue of
// answers: each lookup takes the first answer, and the last one repeats forever. Unknown names
// fail with kUpstreamUnavailable ("could not resolve"). Thread-safe.
class StaticResolver final : public Resolver {
 public:
  StaticResolver() = default;
  // Replaces the answers for `host` (lower-case) with one answer.
  void set(const std::string& host, std::vector<net::ip::address> addresses);
  // Appends an answer to the queue for `host`.
  void push(const std::string& host, std::vector<net::ip::address> addresses);
  // How many lookups of `host` were made.
  std::size_t lookups(const std::string& host) const;

  net::awaitable<Result<std::vector<net::ip::address>>> resolve(
      std::string host, std::chrono::milliseconds timeout) override;

 private:
  struct Entry {
    std::vector<std::vector<net::ip::address>> answers;
    std::size_t lookups = 0;
  };
  mutable std::mutex mu_;  // guards entries_
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace livery::upstream
