#include "metering/ledger.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "metering/usage_feed.hpp"

namespace livery::metering {
namespace {

class RecordingSink : public LedgerSink {
 public:
  Result<void> writeBatch(std::span<const storage::UsageRecord> records) override {
    if (hold_first) {
      hold_first = false;
      std::unique_lock lock(mu);
      holding = true;
      held_cv.notify_all();
      held_cv.wait(lock, [&] { return !holding; });
    }
    std::lock_guard lock(mu);
    if (fail_next > 0) {
      --fail_next;
      return fail(ErrorCode::kUnavailable, "db down");
    }
    ++batches;
    for (const auto& r : records) {
      ids.insert(r.request_id);  // idempotent on request_id, like the real store
    }
    return {};
  }
  std::mutex mu;
  std::set<std::string> ids;
  int batches = 0;
  int fail_next = 0;
  // When set, the first batch blocks until release(), so later records pile up in the queue.
  std::atomic<bool> hold_first{false};
  bool holding = false;
  std::condition_variable held_cv;
  void awaitHeld() {
    std::unique_lock lock(mu);
    held_cv.wait(lock, [&] { return holding; });
  }
  void release() {
    std::lock_guard lock(mu);
    holding = false;
    held_cv.notify_all();
  }
};

storage::UsageRecord rec(std::string id, std::string tenant = "tnt_a") {
  storage::UsageRecord r;
  r.request_id = std::move(id);
  r.tenant_id = std::move(tenant);
  r.prompt_tokens = 3;
  return r;
}

struct LedgerTest : ::testing::Test {
  SystemClock clock;
  std::shared_ptr<MemoryLogSink> logs = std::make_shared<MemoryLogSink>();
  Logger log{logs, LogLevel::kInfo, clock};
  MetricsRegistry metrics;
  RecordingSink sink;
};

TEST_F(LedgerTest, CommitResolvesOnlyAfterTheRecordIsDurable) {
  Ledger ledger(sink, {}, log, metrics);
  ledger.start();
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, ledger.commit(rec("req_1")), boost::asio::use_future);
  io.run();
  ASSERT_TRUE(fut.get());
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.ids.count("req_1"), 1u);
}

// The writer thread is named, so per-thread CPU (top -H, bench/run_bench.sh) shows the ledger.
TEST_F(LedgerTest, TheWriterThreadIsNamed) {
  auto named = [] {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      if (std::getline(comm, name) && name == "lv-ledger") {
        return true;
      }
    }
    return false;
  };
  EXPECT_FALSE(named());
  {
    Ledger ledger(sink, {}, log, metrics);
    ledger.start();
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {  // the thread names itself as it starts
      seen = named();
      if (!seen) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    EXPECT_TRUE(seen);
    ledger.stop(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(named());
}

TEST_F(LedgerTest, GroupsConcurrentCommitsIntoFewTransactions) {
  Ledger ledger(sink, {.max_batch = 500}, log, metrics);
  ledger.start();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        if (ledger.commitBlocking(rec("req_" + std::to_string(t) + "_" + std::to_string(i)))) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(ok, 2000);
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.ids.size(), 2000u);
  EXPECT_LE(sink.batches, 2000);
}

TEST_F(LedgerTest, ALoneRecordNeverWaitsForTheGatherWindow) {
  Ledger ledger(sink, {.gather = std::chrono::milliseconds(5000), .gather_min = 4}, log, metrics);
  ledger.start();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(ledger.commitBlocking(rec("req_alone")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
}

TEST_F(LedgerTest, UnderLoadTheWriterGathersLaterRecordsIntoTheSameBatch) {
  sink.hold_first = true;
  Ledger ledger(sink,
                {.gather = std::chrono::milliseconds(5000),
                 .gather_min = 4,
                 .gather_idle = std::chrono::seconds(2)},
                log,
                metrics);
  ledger.start();
  ledger.submit(rec("req_0"));
  sink.awaitHeld();  // the writer is inside the first transaction
  for (int i = 1; i <= 5; ++i) {
    ledger.submit(rec("req_" + std::to_string(i)));
  }
  sink.release();
  // Five queued records mean load: the writer waits for more instead of committing at once, so
  // these join the second batch. Without the gather they would make a third.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 6; i <= 9; ++i) {
    ledger.submit(rec("req_" + std::to_string(i)));
  }
  ledger.stop();  // ends the gather wait and flushes
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.ids.size(), 10u);
  EXPECT_EQ(sink.batches, 2);
}

// A closed loop: every client already waits on the queued records, so nothing more arrives. The
// writer stops gathering after gather_idle without growth instead of waiting out the window.
TEST_F(LedgerTest, GatheringStopsWhenNoMoreRecordsArrive) {
  sink.hold_first = true;
  Ledger ledger(sink,
                {.gather = std::chrono::milliseconds(5000),
                 .gather_min = 4,
                 .gather_idle = std::chrono::milliseconds(50)},
                log,
                metrics);
  ledger.start();
  ledger.submit(rec("req_0"));
  sink.awaitHeld();
  for (int i = 1; i <= 5; ++i) {
    ledger.submit(rec("req_" + std::to_string(i)));
  }
  const auto released = std::chrono::steady_clock::now();
  sink.release();
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(sink.mu);
      if (sink.batches == 2) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto waited = std::chrono::steady_clock::now() - released;
  {
    std::lock_guard lock(sink.mu);
    EXPECT_EQ(sink.batches, 2);
    EXPECT_EQ(sink.ids.size(), 6u);
  }
  EXPECT_LT(waited, std::chrono::milliseconds(2000)) << "waited out the 5 s gather window";
  ledger.stop();
}

TEST_F(LedgerTest, RetriesAFailingStoreWithoutLosingRecords) {
  sink.fail_next = 3;
  Ledger ledger(sink, {}, log, metrics);
  ledger.start();
  EXPECT_TRUE(ledger.commitBlocking(rec("req_retry")));
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.ids.count("req_retry"), 1u);
  EXPECT_EQ(metrics.counter("livery_ledger_write_failures_total", "").value(), 3u);
}

TEST_F(LedgerTest, StopFlushesSubmittedRecords) {
  {
    Ledger ledger(sink, {}, log, metrics);
    ledger.start();
    for (int i = 0; i < 100; ++i) {
      ledger.submit(rec("req_s" + std::to_string(i)));
    }
    ledger.stop();
  }
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.ids.size(), 100u);
}

TEST_F(LedgerTest, CommittedBatchesReachTheLiveFeedOfTheRightTenantOnly) {
  UsageFeed feed;
  Ledger ledger(sink, {}, log, metrics);
  ledger.onCommitted([&](auto records) { feed.publish(records); });
  ledger.start();
  boost::asio::io_context io;
  auto sub_a = feed.subscribe(io.get_executor(), "tnt_a");
  auto sub_all = feed.subscribe(io.get_executor(), "");
  ASSERT_TRUE(ledger.commitBlocking(rec("req_b1", "tnt_b")));
  ASSERT_TRUE(ledger.commitBlocking(rec("req_a1", "tnt_a")));
  auto fa =
      boost::asio::co_spawn(io, sub_a->next(std::chrono::seconds(2)), boost::asio::use_future);
  auto fall =
      boost::asio::co_spawn(io, sub_all->next(std::chrono::seconds(2)), boost::asio::use_future);
  io.run();
  auto a = fa.get();
  ASSERT_TRUE(a);
  EXPECT_NE(a->find("req_a1"), std::string::npos);  // tnt_b's event never reaches tnt_a's feed
  auto all = fall.get();
  ASSERT_TRUE(all);
  EXPECT_NE(all->find("req_b1"), std::string::npos);
}

TEST_F(LedgerTest, FeedTimesOutWithNothingToSend) {
  UsageFeed feed;
  boost::asio::io_context io;
  auto sub = feed.subscribe(io.get_executor(), "tnt_x");
  auto f =
      boost::asio::co_spawn(io, sub->next(std::chrono::milliseconds(20)), boost::asio::use_future);
  io.run();
  EXPECT_FALSE(f.get());
}

}  // namespace
}  // namespace livery::metering
