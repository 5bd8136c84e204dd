#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/net.hpp"
#include "storage/model.hpp"

namespace livery::metering {

// JSON for one usage event as the live feeds send it (docs/API.md UsageEvent).
std::string usageEventJson(const storage::UsageRecord& r);

// Fan-out of committed usage records to live subscribers (SSE dashboards). Each subscriber has a
// bounded queue; a slow subscriber loses events (counted) rather than slowing the ledger.
// publish() is called from the ledger thread; subscribe()/next() from I/O threads.
class UsageFeed {
 public:
  class Subscription {
   public:
    virtual ~Subscription() = default;
    // The next event's JSON, or nullopt when `timeout` passed first (send a heartbeat).
    virtual net::awaitable<std::optional<std::string>> next(std::chrono::milliseconds timeout) = 0;
    virtual std::uint64_t dropped() const = 0;
  };

  // tenant_id empty: every tenant (operator feed).
  std::shared_ptr<Subscription> subscribe(const boost::asio::any_io_executor& ex,
                                          std::string tenant_id);
  void publish(std::span<const storage::UsageRecord> records);
  std::size_t subscribers() const;

 private:
  struct Entry;
  mutable std::mutex mu_;  // guards entries_
  std::vector<std::weak_ptr<Entry>> entries_;
};

}  // namespace livery::metering
