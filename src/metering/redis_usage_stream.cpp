#include "metering/redis_usage_stream.hpp"

#include <array>
#include <chrono>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/thread_name.hpp"
#include "limits/redis/redis_pool.hpp"
#include "metering/usage_feed.hpp"

namespace livery::metering {

namespace {
constexpr std::size_t kMaxQueue = 100'000;
}

RedisUsageStream::RedisUsageStream(std::unique_ptr<limits::RedisPool> pool,
                                   std::string key_prefix,
                                   std::size_t max_len,
                                   Logger& log,
                                   MetricsRegistry& metrics)
    : pool_(std::move(pool)),
      prefix_(std::move(key_prefix)),
      max_len_(max_len),
      log_(log),
      published_(metrics.counter("livery_usage_stream_published_total",
                                 "Usage events written to the Redis stream")),
      dropped_(metrics.counter("livery_usage_stream_dropped_total",
                               "Usage events not written to the Redis stream")) {
  thread_ = std::thread([this] {
    nameThisThread("lv-usage-feed");
    run();
  });
}

RedisUsageStream::~RedisUsageStream() {
  stop();
}

std::string RedisUsageStream::streamKey(std::string_view prefix, std::string_view tenant_id) {
  std::string k(prefix);
  k += ":{";
  k += tenant_id;
  k += "}:usage";
  return k;
}

void RedisUsageStream::publish(std::span<const storage::UsageRecord> records) {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : records) {
      if (queue_.size() >= kMaxQueue) {
        ++dropped;
        continue;
      }
      queue_.push_back(r);
    }
  }
  if (dropped > 0) {
    dropped_.inc(dropped);
  }
  cv_.notify_one();
}

void RedisUsageStream::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RedisUsageStream::run() {
  std::string max_len = std::to_string(max_len_);
  auto last_warning = std::chrono::steady_clock::time_point{};
  for (;;) {
    std::deque<storage::UsageRecord> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        return;
      }
      batch.swap(queue_);
    }
    bool exhausted = false;
    auto lease = pool_->acquire(exhausted);
    if (!lease) {
      dropped_.inc(batch.size());
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning > std::chrono::seconds(30)) {
        last_warning = now;
        LIVERY_LOG(log_, Warn, "usage_stream_unavailable", {"dropped", batch.size()});
      }
      continue;
    }
    for (const auto& r : batch) {
      auto key = streamKey(prefix_, r.tenant_id);
      auto json = usageEventJson(r);
      std::array<std::string_view, 8> args{"XADD", key, "MAXLEN", "~", max_len, "*", "event", json};
      auto reply = (*lease)->command(args);
      if (reply) {
        published_.inc();
      } else {
        dropped_.inc();
      }
    }
  }
}

}  // namespace livery::metering
