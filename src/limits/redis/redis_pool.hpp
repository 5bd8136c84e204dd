#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "limits/redis/redis_url.hpp"

struct redisContext;
struct redisReply;

namespace livery::limits {

struct RedisReplyFree {
  void operator()(redisReply* r) const noexcept;
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyFree>;

// One blocking hiredis connection. Every command waits at most the pool's timeout; after a
// transport error (timeout, reset, protocol) the connection is broken and the pool drops it.
// Not thread-safe: one Lease holder at a time.
class RedisConnection {
 public:
  RedisConnection(redisContext* ctx) noexcept : ctx_(ctx) {}  // NOLINT(google-explicit-constructor)
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command (binary-safe arguments). A Redis error reply is a reply (type
  // REDIS_REPLY_ERROR), not an Error; a transport failure is kUnavailable.
  [[nodiscard]] Result<RedisReplyPtr> command(std::span<const std::string_view> args);
  bool broken() const noexcept { return broken_; }

 private:
  redisContext* ctx_;
  bool broken_ = false;
};

// A small pool of blocking Redis connections, created lazily (connect timeout = command timeout
// = `timeout`), authenticated and switched to the endpoint's database on connect. acquire()
// waits at most `timeout` for a free connection. Thread-safe. Blocking: call it off the I/O
// threads. Errors name the endpoint without credentials.
class RedisPool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    RedisConnection* operator->() const noexcept { return conn_.get(); }
    RedisConnection& operator*() const noexcept { return *conn_; }

   private:
    friend class RedisPool;
    Lease(RedisPool& pool, std::unique_ptr<RedisConnection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> conn_;
  };

  RedisPool(RedisEndpoint endpoint, std::size_t size, std::chrono::milliseconds timeout);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Fails with kUnavailable when connecting fails, or when no connection frees up within the
  // timeout; `exhausted` tells the second case (Redis reachable but saturated) from the first.
  [[nodiscard]] Result<Lease> acquire(bool& exhausted);
  const RedisEndpoint& endpoint() const noexcept { return endpoint_; }

 private:
  Result<std::unique_ptr<RedisConnection>> connect() const;
  void release(std::unique_ptr<RedisConnection> conn);

  const RedisEndpoint endpoint_;
  const std::size_t size_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;  // guards idle_ and live_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::size_t live_ = 0;  // connections idle or leased, plus connects in progress
};

}  // namespace livery::limits
