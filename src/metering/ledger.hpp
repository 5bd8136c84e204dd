#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "core/error.hpp"
#include "core/net.hpp"
#include "storage/model.hpp"

namespace livery {
class Logger;
class MetricsRegistry;
class Counter;
class Gauge;
}  // namespace livery

namespace livery::metering {

// Where committed batches go (the usage table). writeBatch must be idempotent on request_id and
// durable when it returns success. Called from the ledger's writer thread only.
class LedgerSink {
 public:
  virtual ~LedgerSink() = default;
  virtual Result<void> writeBatch(std::span<const storage::UsageRecord> records) = 0;
};

struct LedgerOptions {
  std::size_t max_batch = 2000;
  std::size_t max_pending = 200'000;  // beyond this, commit() fails fast (kUnavailable)
  // Under load (at least gather_min records already queued when the writer wakes), wait up to
  // `gather` for more before committing: bigger batches, fewer fsyncs and wake-ups per record.
  // The wait ends early once `gather_idle` passes without a new record: when every client is
  // already waiting on this batch (a closed loop), nothing more will come, and waiting out the
  // whole window would only add latency. Light load commits at once.
  std::chrono::milliseconds gather{0};  // 0: never wait
  std::size_t gather_min = 2;
  std::chrono::microseconds gather_idle{250};
  std::chrono::milliseconds waiter_timeout{5000};  // a failing store fails waiters after this
};

// The durable usage ledger with group commit.
//
// commit() resolves only once the record is durable in the sink, so a caller that withholds the
// end of a response until then guarantees that a response the client received completely is in
// the ledger even if the process is killed right after (design: docs/design/metering.md).
// Records queue in memory; one writer thread takes everything queued (up to max_batch) into one
// transaction, so the batch size grows with load and one fsync covers many requests. A failing
// sink is retried with backoff; waiters of a batch failing for longer than waiter_timeout get
// kUnavailable while the batch keeps being retried. onCommitted runs on the writer thread after
// each durable batch (live usage feed, spike detection) and must not block.
//
// Thread-safety: commit()/submit() from any thread; start()/stop() from the owner.
class Ledger {
 public:
  using CommittedFn = std::function<void(std::span<const storage::UsageRecord>)>;

  Ledger(LedgerSink& sink, LedgerOptions options, Logger& log, MetricsRegistry& metrics);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  void onCommitted(CommittedFn fn);
  void start();
  // Writes everything still queued (up to `deadline`), then stops the writer thread.
  void stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

  // Resolves when `record` is durable (or with an error). The record is queued when the result
  // is first awaited. Not a coroutine itself (the record waits in a heap node, not in a
  // coroutine frame): keep its frame, and the caller's, small enough for Asio to recycle.
  net::awaitable<Result<void>> commit(storage::UsageRecord record);
  // Queues a record without waiting (failed requests, aborted streams).
  void submit(storage::UsageRecord record);
  // Blocking variant for threads that are not coroutines (tests, CLI).
  Result<void> commitBlocking(storage::UsageRecord record);

  std::size_t pending() const;

 private:
  struct Pending {
    storage::UsageRecord record;
    // Resumes the waiter; runs on `work`'s executor (inline on the writer thread when `work` is
    // empty: commitBlocking). Empty for submit().
    std::function<void(Result<void>)> done;
    std::optional<net::executor_work_guard<net::any_io_executor>> work;
    std::chrono::steady_clock::time_point queued;
  };
  bool enqueue(Pending p);
  void run();
  // Completes the waiters of `batch` (those with `done`), one post per executor: a batch of N
  // requests of one I/O thread wakes that thread once, not N times.
  static void complete(std::vector<Pending>& batch,
                       const Result<void>& result,
                       bool only_expired,
                       std::chrono::steady_clock::time_point now,
                       std::chrono::milliseconds timeout);

  LedgerSink& sink_;
  LedgerOptions options_;
  Logger& log_;
  Counter& committed_;
  Counter& batches_;
  Counter& failures_;
  Counter& rejected_;
  Gauge& pending_gauge_;
  CommittedFn on_committed_;

  mutable std::mutex mu_;  // guards queue_, stopping_, stopped_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool stopped_ = false;
  bool writer_idle_ = true;  // the writer waits on cv_: enqueue must notify
  std::chrono::steady_clock::time_point stop_deadline_;
  std::thread thread_;
};

}  // namespace livery::metering
