#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "storage/model.hpp"

namespace livery {
class Logger;
class Counter;
class MetricsRegistry;
}  // namespace livery
namespace livery::limits {
class RedisPool;
struct RedisEndpoint;
}  // namespace livery::limits

namespace livery::metering {

// The live feed of usage events per tenant on a Redis stream, beside the durable ledger:
// each committed record is XADDed to "<prefix>:{<tenant_id>}:usage" (capped with MAXLEN ~,
// hash-tagged like the limiter's keys). Dashboards and other nodes XREAD it. Best effort by
// design (the ledger is the record of truth): a full queue or an unreachable Redis drops events
// and counts them. publish() never blocks; one background thread writes. Thread-safe.
class RedisUsageStream {
 public:
  RedisUsageStream(std::unique_ptr<limits::RedisPool> pool,
                   std::string key_prefix,
                   std::size_t max_len,
                   Logger& log,
                   MetricsRegistry& metrics);
  ~RedisUsageStream();
  RedisUsageStream(const RedisUsageStream&) = delete;
  RedisUsageStream& operator=(const RedisUsageStream&) = delete;

  void publish(std::span<const storage::UsageRecord> records);
  void stop();
  static std::string streamKey(std::string_view prefix, std::string_view tenant_id);

 private:
  void run();

  std::unique_ptr<limits::RedisPool> pool_;
  std::string prefix_;
  std::size_t max_len_;
  Logger& log_;
  Counter& published_;
  Counter& dropped_;
  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<storage::UsageRecord> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace livery::metering
