#include "metering/usage_feed.hpp"

#include <atomic>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace livery::metering {

namespace {
constexpr std::size_t kQueueCapacity = 1024;
using Channel =
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;
}  // namespace

std::string usageEventJson(const storage::UsageRecord& r) {
  boost::json::object o;
  o["request_id"] = r.request_id;
  o["tenant_id"] = r.tenant_id;
  o["api_key_id"] = r.api_key_id;
  o["end_user"] = r.end_user;
  o["model"] = r.model;
  o["deployment"] = r.deployment;
  o["provider"] = r.provider;
  o["prompt_tokens"] = r.prompt_tokens;
  o["completion_tokens"] = r.completion_tokens;
  o["cached_tokens"] = r.cached_tokens;
  o["reasoning_tokens"] = r.reasoning_tokens;
  o["status"] = r.status;
  o["outcome"] = r.outcome;
  o["latency_ms"] = r.latency_ms;
  o["attempts"] = r.attempts;
  o["cost_usd"] = static_cast<double>(r.cost_micro_usd) / 1e6;
  o["ts"] = r.created_at;
  return boost::json::serialize(o);
}

struct UsageFeed::Entry final : UsageFeed::Subscription {
  Entry(const boost::asio::any_io_executor& ex, std::string tenant)
      : tenant_id(std::move(tenant)), channel(ex, kQueueCapacity) {}

  net::awaitable<std::optional<std::string>> next(std::chrono::milliseconds timeout) override {
    using namespace boost::asio::experimental::awaitable_operators;  // NOLINT
    net::steady_timer timer(channel.get_executor(), timeout);
    auto receive = channel.async_receive(net::as_tuple(net::use_awaitable));
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto result = co_await (std::move(receive) || std::move(wait));
    if (result.index() == 0) {
      auto [ec, text] = std::get<0>(std::move(result));
      if (!ec) {
        co_return std::move(text);
      }
    }
    co_return std::nullopt;
  }
  std::uint64_t dropped() const override { return dropped_count.load(std::memory_order_relaxed); }

  std::string tenant_id;
  Channel channel;
  std::atomic<std::uint64_t> dropped_count{0};
};

std::shared_ptr<UsageFeed::Subscription> UsageFeed::subscribe(
    const boost::asio::any_io_executor& ex, std::string tenant_id) {
  auto e = std::make_shared<Entry>(ex, std::move(tenant_id));
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [](const std::weak_ptr<Entry>& w) { return w.expired(); });
  entries_.push_back(e);
  return e;
}

void UsageFeed::publish(std::span<const storage::UsageRecord> records) {
  std::vector<std::shared_ptr<Entry>> live;
  {
    std::lock_guard lock(mu_);
    if (entries_.empty()) {
      return;
    }
    for (const auto& w : entries_) {
      if (auto e = w.lock()) {
        live.push_back(std::move(e));
      }
    }
  }
  for (const auto& r : records) {
    std::string json;
    for (const auto& e : live) {
      if (!e->tenant_id.empty() && e->tenant_id != r.tenant_id) {
        continue;  // a tenant's feed carries only its own events
      }
      if (json.empty()) {
        json = usageEventJson(r);
      }
      if (!e->channel.try_send(boost::system::error_code{}, json)) {
        e->dropped_count.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

std::size_t UsageFeed::subscribers() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& w : entries_) {
    n += w.expired() ? 0 : 1;
  }
  return n;
}

}  // namespace livery::metering
