#include "limits/redis/redis_pool.hpp"

#include <array>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace livery::limits {
namespace {

constexpr std::size_t kMaxArgs = 64;

timeval toTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
  return tv;
}

}  // namespace

void RedisReplyFree::operator()(redisReply* r) const noexcept {
  freeReplyObject(r);
}

RedisConnection::~RedisConnection() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
  }
}

Result<RedisReplyPtr> RedisConnection::command(std::span<const std::string_view> args) {
  if (broken_ || ctx_ == nullptr) {
    return fail(ErrorCode::kUnavailable, "limits store unavailable", "redis: connection broken");
  }
  if (args.size() > kMaxArgs) {
    return fail(ErrorCode::kInternal, "internal error", "redis: too many command arguments");
  }
  std::array<const char*, kMaxArgs> argv{};
  std::array<std::size_t, kMaxArgs> argvlen{};
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv.at(i) = args[i].data();
    argvlen.at(i) = args[i].size();
  }
  void* raw = redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), argvlen.data());
  if (raw == nullptr) {
    broken_ = true;
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis: {}", ctx_->errstr[0] != '\0' ? ctx_->errstr : "no reply"));
  }
  return RedisReplyPtr(static_cast<redisReply*>(raw));
}

RedisPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) {
    pool_->release(std::move(conn_));
  }
}

RedisPool::RedisPool(RedisEndpoint endpoint, std::size_t size, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)),
      size_(std::max<std::size_t>(size, 1)),
      timeout_(std::max(timeout, std::chrono::milliseconds(1))) {}

RedisPool::~RedisPool() = default;

Result<RedisPool::Lease> RedisPool::acquire(bool& exhausted) {
  exhausted = false;
  // Real time, not the injected Clock: this bounds an actual wait on other threads.
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
    if (live_ < size_) {
      ++live_;
      lock.unlock();
      auto conn = connect();
      if (!conn) {
        lock.lock();
        --live_;
        cv_.notify_one();
        return conn.error();
      }
      return Lease(*this, std::move(*conn));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        live_ >= size_) {
      exhausted = true;
      return fail(
          ErrorCode::kUnavailable,
          "limits store unavailable",
          fmt::format(
              "redis {}: no free connection within {} ms", endpoint_.describe(), timeout_.count()));
    }
  }
}

void RedisPool::release(std::unique_ptr<RedisConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->broken()) {
    --live_;  // dropped; a later acquire() reconnects
    conn.reset();
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

Result<std::unique_ptr<RedisConnection>> RedisPool::connect() const {
  const timeval tv = toTimeval(timeout_);
  redisContext* ctx = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  if (ctx == nullptr) {
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis {}: cannot allocate a context", endpoint_.describe()));
  }
  auto conn = std::make_unique<RedisConnection>(ctx);
  if (ctx->err != 0) {
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis {}: connect: {}", endpoint_.describe(), ctx->errstr));
  }
  if (redisSetTimeout(ctx, tv) != REDIS_OK) {
    return fail(ErrorCode::kUnavailable,
                "limits store unavailable",
                fmt::format("redis {}: cannot set the timeout", endpoint_.describe()));
  }
  (void)redisEnableKeepAlive(ctx);

  const auto expectOk = [&](std::span<const std::string_view> args,
                            std::string_view what) -> Result<void> {
    auto reply = conn->command(args);
    if (!reply) {
      return reply.error();
    }
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      // Redis's AUTH errors ("WRONGPASS invalid username-password pair") never echo the password.
      return fail(ErrorCode::kUnavailable,
                  "limits store unavailable",
                  fmt::format("redis {}: {} refused: {}",
                              endpoint_.describe(),
                              what,
                              std::string_view((*reply)->str, (*reply)->len)));
    }
    return {};
  };
  if (!endpoint_.password.empty()) {
    const std::string_view pw = endpoint_.password.reveal();
    std::array<std::string_view, 3> with_user = {"AUTH", endpoint_.username, pw};
    std::array<std::string_view, 2> without_user = {"AUTH", pw};
    auto ok =
        endpoint_.username.empty() ? expectOk(without_user, "AUTH") : expectOk(with_user, "AUTH");
    if (!ok) {
      return ok.error();
    }
  }
  if (endpoint_.db != 0) {
    const std::string db = std::to_string(endpoint_.db);
    std::array<std::string_view, 2> args = {"SELECT", db};
    if (auto ok = expectOk(args, "SELECT"); !ok) {
      return ok.error();
    }
  }
  return conn;
}

}  // namespace livery::limits
