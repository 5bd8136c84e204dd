// Issue 10 §4: the live feed of usage events per tenant on a Redis stream (RedisUsageStream,
// module metering_redis), against the real Redis from tools/with_services.sh
// (LIVERY_TEST_REDIS_URL; label needs-redis, RESOURCE_LOCK redis). Shows: committed records are
// XADDed to "<prefix>:{<tenant>}:usage" with their JSON; the stream is capped near MAXLEN; when
// Redis is down or hangs, publish() still returns at once, events are dropped and counted (not
// buffered without bound: the queue holds at most 100,000 events), one warning is logged, and
// the gateway keeps serving chat requests.
#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "limits/redis/redis_pool.hpp"
#include "limits/redis/redis_url.hpp"
#include "metering/redis_usage_stream.hpp"
#include "storage/stores.hpp"
#include "support/gateway_harness.hpp"
#include "support/services.hpp"

namespace livery::metering {
namespace {

using namespace std::chrono_literals;

limits::RedisEndpoint endpointOf(const std::string& url) {
  auto e = limits::parseRedisUrl(url);
  if (!e) {
    ADD_FAILURE() << "LIVERY_TEST_REDIS_URL: " << e.error().client_message;
    return {};
  }
  return std::move(*e);
}

// A loopback TCP listener that accepts into its backlog and never answers: a hung Redis.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::uint16_t port() const { return port_; }
  // Closing leaves a port on which nothing listens: connections are refused.
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

storage::UsageRecord record(const std::string& tenant, std::size_t i) {
  storage::UsageRecord r;
  r.request_id = "req_stream_" + std::to_string(i);
  r.tenant_id = tenant;
  r.api_key_id = "key_1";
  r.model = "gpt-4o";
  r.deployment = "openai:gpt-4o";
  r.provider = "openai";
  r.prompt_tokens = 10 + i;
  r.completion_tokens = 5;
  r.status = 200;
  r.outcome = "ok";
  r.attempts = 1;
  r.created_at = 1'700'000'000'000 + static_cast<storage::Millis>(i);
  return r;
}

// Waits until `done()` or `timeout`.
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A direct client for checking what reached Redis.
class Probe {
 public:
  explicit Probe(const std::string& url) : pool_(endpointOf(url), 1, 5000ms) {}

  limits::RedisReplyPtr run(std::vector<std::string> args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    bool exhausted = false;
    auto lease = pool_.acquire(exhausted);
    if (!lease) {
      ADD_FAILURE() << "redis: " << lease.error().client_message;
      return nullptr;
    }
    auto reply = (*lease)->command(views);
    if (!reply) {
      ADD_FAILURE() << "redis: " << reply.error().client_message;
      return nullptr;
    }
    return std::move(*reply);
  }
  long long integer(std::vector<std::string> args) {
    auto r = run(std::move(args));
    return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  }
  // The "event" field of every entry of `key`, oldest first.
  std::vector<std::string> events(const std::string& key) {
    std::vector<std::string> out;
    auto r = run({"XRANGE", key, "-", "+"});
    if (!r || r->type != REDIS_REPLY_ARRAY) {
      return out;
    }
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* entry = r->element[i];
      const redisReply* fields = entry->element[1];
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (std::string_view(fields->element[f]->str, fields->element[f]->len) == "event") {
          out.emplace_back(fields->element[f + 1]->str, fields->element[f + 1]->len);
        }
      }
    }
    return out;
  }

 private:
  limits::RedisPool pool_;
};

class RedisUsageStreamTest : public ::testing::Test {
 protected:
  RedisUsageStreamTest() : logger(sink, LogLevel::kDebug, clock) {}

  std::unique_ptr<RedisUsageStream> make(const std::string& url, std::size_t max_len) {
    return std::make_unique<RedisUsageStream>(
        std::make_unique<limits::RedisPool>(endpointOf(url), 1, 200ms),
        prefix,
        max_len,
        logger,
        metrics);
  }
  std::uint64_t published() {
    return metrics.counter("livery_usage_stream_published_total", "").value();
  }
  std::uint64_t dropped() {
    return metrics.counter("livery_usage_stream_dropped_total", "").value();
  }

  SystemClock clock;
  std::shared_ptr<MemoryLogSink> sink = std::make_shared<MemoryLogSink>();
  Logger logger;
  MetricsRegistry metrics;
  const std::string prefix = "lvtest-" + randomId("s");
};

TEST_F(RedisUsageStreamTest, PublishesEachRecordToItsTenantsStream) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  auto stream = make(url, 1000);
  std::vector<storage::UsageRecord> batch{
      record("tn_a", 1), record("tn_b", 2), record("tn_a", 3), record("tn_a", 4)};
  stream->publish(batch);
  stream->publish(std::vector<storage::UsageRecord>{record("tn_b", 5)});
  ASSERT_TRUE(eventually([&] { return published() == 5; }, 10s)) << published();
  EXPECT_EQ(dropped(), 0u);

  Probe probe(url);
  const auto key_a = RedisUsageStream::streamKey(prefix, "tn_a");
  const auto key_b = RedisUsageStream::streamKey(prefix, "tn_b");
  EXPECT_EQ(key_a, prefix + ":{tn_a}:usage");  // hash-tagged by tenant for Redis Cluster
  auto a = probe.events(key_a);
  auto b = probe.events(key_b);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_NE(a[0].find("\"req_stream_1\""), std::string::npos) << a[0];
  EXPECT_NE(a[2].find("\"req_stream_4\""), std::string::npos) << a[2];  // in commit order
  EXPECT_NE(b[1].find("\"req_stream_5\""), std::string::npos) << b[1];
  EXPECT_EQ(a[0].find("tn_b"), std::string::npos);
  probe.run({"DEL", key_a, key_b});
}

TEST_F(RedisUsageStreamTest, StreamLengthStaysNearMaxLen) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  constexpr std::size_t kMaxLen = 200;
  constexpr std::size_t kTotal = 3000;
  auto stream = make(url, kMaxLen);
  for (std::size_t i = 0; i < kTotal; i += 100) {
    std::vector<storage::UsageRecord> batch;
    for (std::size_t j = i; j < i + 100; ++j) {
      batch.push_back(record("tn_cap", j));
    }
    stream->publish(batch);
  }
  ASSERT_TRUE(eventually([&] { return published() == kTotal; }, 30s)) << published();
  Probe probe(url);
  const auto key = RedisUsageStream::streamKey(prefix, "tn_cap");
  auto len = probe.integer({"XLEN", key});
  // MAXLEN ~ trims whole stream nodes (stream-node-max-entries, 100 by default): at least
  // kMaxLen entries stay, at most one node more.
  EXPECT_GE(len, static_cast<long long>(kMaxLen));
  EXPECT_LE(len, static_cast<long long>(kMaxLen + 100));
  auto events = probe.events(key);
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().find("\"req_stream_" + std::to_string(kTotal - 1) + "\""),
            std::string::npos);  // the newest survive
  probe.run({"DEL", key});
}

TEST_F(RedisUsageStreamTest, RedisDownDropsAndCountsWithoutBlockingOrBuffering) {
  SilentListener gone;
  const std::uint16_t port = gone.port();
  gone.close();  // nothing listens there now
  auto stream = make("redis://127.0.0.1:" + std::to_string(port), 1000);
  constexpr std::size_t kTotal = 2000;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < kTotal; ++i) {
    stream->publish(std::vector<storage::UsageRecord>{record("tn_down", i)});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "publish() blocked";
  ASSERT_TRUE(eventually([&] { return dropped() == kTotal; }, 20s)) << dropped();
  EXPECT_EQ(published(), 0u);
  // One warning per 30 s, not one per batch.
  std::size_t warnings = 0;
  for (const auto& line : sink->lines()) {
    warnings += line.find("usage_stream_unavailable") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(warnings, 1u) << sink->joined();
  stream->stop();  // returns: nothing left to wait for
}

TEST_F(RedisUsageStreamTest, AHungRedisCannotMakeTheQueueGrowPastItsBound) {
  SilentListener hung;  // connects, never answers: every command waits for the 200 ms timeout
  auto stream = make("redis://127.0.0.1:" + std::to_string(hung.port()), 1000);
  // Let the writer take one event and block on the hung connection.
  stream->publish(std::vector<storage::UsageRecord>{record("tn_hung", 0)});
  std::this_thread::sleep_for(50ms);
  constexpr std::size_t kBound = 100'000;
  constexpr std::size_t kOffered = 130'000;
  std::vector<storage::UsageRecord> flood;
  flood.reserve(kOffered);
  for (std::size_t i = 1; i <= kOffered; ++i) {
    flood.push_back(record("tn_hung", i));
  }
  const auto t0 = std::chrono::steady_clock::now();
  stream->publish(flood);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "publish() blocked";
  // Everything over the bound was dropped at once, before the writer could take any of it.
  EXPECT_GE(dropped(), kOffered - kBound);
  ASSERT_TRUE(eventually([&] { return dropped() == kOffered + 1; }, 30s)) << dropped();
  EXPECT_EQ(published(), 0u);
}

// The composition root: a gateway configured with Redis publishes its served requests' usage;
// with Redis unreachable it keeps serving and only counts the dropped events.
TEST(RedisUsageStreamGatewayTest, TheGatewayPublishesServedRequests) {
  LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_REDIS_URL");
  testing::GatewayHarness h([&url](config::Config& c) {
    c.redis.url = url;
    c.redis.usage_stream = true;
    c.redis.timeout = 2000ms;
  });
  auto tenant = h.createTenant("streamer");
  h.routeTo(tenant.id, "gpt-4o", "openai", "gpt-4o");
  auto key = h.issueKey(tenant.id);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = h.chat(key, testing::GatewayHarness::simpleChat("gpt-4o", "hi", i == 2));
    ASSERT_EQ(r.status, 200) << r.body;
    ids.emplace_back(r.headers.get("x-request-id"));
  }
  Probe probe(url);
  const auto stream_key = RedisUsageStream::streamKey("lv", tenant.id);
  std::vector<std::string> events;
  ASSERT_TRUE(eventually(
      [&] {
        events = probe.events(stream_key);
        return events.size() >= 3;
      },
      15s))
      << events.size();
  for (const auto& id : ids) {
    bool found = false;
    for (const auto& e : events) {
      found = found || e.find("\"" + id + "\"") != std::string::npos;
    }
    EXPECT_TRUE(found) << id;
  }
  probe.run({"DEL", stream_key});
}

TEST(RedisUsageStreamGatewayTest, TheGatewayKeepsServingWhenRedisIsDown) {
  SilentListener gone;
  const std::uint16_t port = gone.port();
  gone.close();
  testing::GatewayHarness h([port](config::Config& c) {
    c.redis.url = "redis://127.0.0.1:" + std::to_string(port);
    c.redis.usage_stream = true;
  });
  auto tenant = h.createTenant("offline");
  h.routeTo(tenant.id, "gpt-4o", "openai", "gpt-4o");
  auto key = h.issueKey(tenant.id);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto r = h.chat(key, testing::GatewayHarness::simpleChat("gpt-4o", "hi", i % 2 == 1));
    ASSERT_EQ(r.status, 200) << r.body;
    ids.emplace_back(r.headers.get("x-request-id"));
  }
  // The durable ledger has every request; the live feed dropped and counted them.
  ASSERT_TRUE(eventually(
      [&] {
        auto metrics = h.client().get("/metrics").body;
        return metrics.find("livery_usage_stream_dropped_total 20") != std::string::npos;
      },
      15s))
      << h.client().get("/metrics").body;
  for (const auto& id : ids) {
    EXPECT_TRUE(h.gateway().stores().usage.get(tenant.id, id)) << id;
  }
  EXPECT_NE(h.logs().find("usage_stream_unavailable"), std::string::npos);
}

}  // namespace
}  // namespace livery::metering
