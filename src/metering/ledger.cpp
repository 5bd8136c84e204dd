#include "metering/ledger.hpp"

#include <algorithm>
#include <future>
#include <memory>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/thread_name.hpp"

namespace livery::metering {

Ledger::Ledger(LedgerSink& sink, LedgerOptions options, Logger& log, MetricsRegistry& metrics)
    : sink_(sink),
      options_(options),
      log_(log),
      committed_(metrics.counter("livery_ledger_records_committed_total",
                                 "Usage records durably written")),
      batches_(metrics.counter("livery_ledger_batches_total", "Group-commit transactions")),
      failures_(metrics.counter("livery_ledger_write_failures_total",
                                "Failed ledger transactions (retried)")),
      rejected_(metrics.counter("livery_ledger_rejected_total",
                                "Records refused because the queue was full")),
      pending_gauge_(
          metrics.gauge("livery_ledger_pending", "Usage records waiting to be written")) {}

Ledger::~Ledger() {
  stop();
}

void Ledger::onCommitted(CommittedFn fn) {
  on_committed_ = std::move(fn);
}

void Ledger::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      nameThisThread("lv-ledger");
      run();
    });
  }
}

void Ledger::stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      return;
    }
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + deadline;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard lock(mu_);
  stopped_ = true;
}

std::size_t Ledger::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool Ledger::enqueue(Pending p) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_pending || stopped_) {
      rejected_.inc();
      return false;
    }
    queue_.push_back(std::move(p));
    pending_gauge_.set(static_cast<std::int64_t>(queue_.size()));
    // Wake the writer only when it sleeps: while it is writing a batch it takes everything
    // queued when it comes back, and a notify per record would cost a futex call per request.
    wake = writer_idle_;
    writer_idle_ = false;
  }
  if (wake) {
    cv_.notify_one();
  }
  return true;
}

void Ledger::submit(storage::UsageRecord record) {
  if (!enqueue(Pending{std::move(record), {}, std::nullopt, std::chrono::steady_clock::now()})) {
    LIVERY_LOG(log_, Error, "ledger_queue_full", {"max_pending", options_.max_pending});
  }
}

// Not a coroutine: the record moves into a heap node right away, and the only frame is the small
// one Asio's use_awaitable makes for the initiation (which holds the node's pointer, not the
// record). A frame holding the record itself is larger than the frames Asio recycles, so it cost
// an aligned allocation (and a glibc malloc_consolidate) per request.
net::awaitable<Result<void>> Ledger::commit(storage::UsageRecord record) {
  auto initiation = [this](auto handler, std::unique_ptr<storage::UsageRecord> rec) {
    net::any_io_executor ex = net::get_associated_executor(handler);
    // std::function needs a copyable target; the handler is move-only, so share it.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    Pending p{std::move(*rec),
              [shared](Result<void> r) { std::move (*shared)(std::move(r)); },
              net::make_work_guard(ex),
              std::chrono::steady_clock::now()};
    if (!enqueue(std::move(p))) {
      net::post(ex, [shared] {
        std::move (*shared)(fail(
            ErrorCode::kUnavailable, "usage ledger is overloaded; try again", "ledger queue full"));
      });
    }
  };
  return net::async_initiate<const net::use_awaitable_t<>&, void(Result<void>)>(
      std::move(initiation),
      net::use_awaitable,
      std::make_unique<storage::UsageRecord>(std::move(record)));
}

void Ledger::complete(std::vector<Pending>& batch,
                      const Result<void>& result,
                      bool only_expired,
                      std::chrono::steady_clock::time_point now,
                      std::chrono::milliseconds timeout) {
  struct Group {
    net::any_io_executor executor;
    std::vector<std::function<void(Result<void>)>> fns;
    std::vector<net::executor_work_guard<net::any_io_executor>> work;
  };
  std::vector<Group> groups;
  for (auto& p : batch) {
    if (!p.done || (only_expired && now - p.queued <= timeout)) {
      continue;
    }
    if (!p.work) {
      p.done(result);  // a blocking waiter (commitBlocking) resumes from here
      p.done = nullptr;
      continue;
    }
    auto ex = p.work->get_executor();
    auto it = std::find_if(
        groups.begin(), groups.end(), [&](const Group& g) { return g.executor == ex; });
    if (it == groups.end()) {
      groups.push_back(Group{ex, {}, {}});
      it = std::prev(groups.end());
    }
    it->fns.push_back(std::move(p.done));
    it->work.push_back(std::move(*p.work));
    p.done = nullptr;
    p.work.reset();
  }
  for (auto& g : groups) {
    auto ex = g.executor;
    net::post(ex, [fns = std::move(g.fns), work = std::move(g.work), result]() mutable {
      for (auto& f : fns) {
        f(result);
      }
    });
  }
}

Result<void> Ledger::commitBlocking(storage::UsageRecord record) {
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto fut = promise->get_future();
  Pending p{std::move(record),
            [promise](Result<void> r) { promise->set_value(std::move(r)); },
            std::nullopt,
            std::chrono::steady_clock::now()};
  if (!enqueue(std::move(p))) {
    return fail(ErrorCode::kUnavailable, "usage ledger is overloaded");
  }
  return fut.get();
}

void Ledger::run() {
  std::vector<Pending> batch;
  std::vector<storage::UsageRecord> records;
  auto backoff = std::chrono::milliseconds(10);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      writer_idle_ = queue_.empty();
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      writer_idle_ = false;
      if (queue_.empty() && stopping_) {
        return;
      }
      if (options_.gather.count() > 0 && queue_.size() >= options_.gather_min &&
          queue_.size() < options_.max_batch && !stopping_) {
        // enqueue() does not notify while the writer is awake, so each wait runs its full step
        // unless stop() wakes it; the queue's growth over the step decides whether to go on.
        const auto until = std::chrono::steady_clock::now() + options_.gather;
        for (;;) {
          const std::size_t seen = queue_.size();
          const auto step_end =
              std::min(until, std::chrono::steady_clock::now() + options_.gather_idle);
          cv_.wait_until(
              lock, step_end, [&] { return stopping_ || queue_.size() >= options_.max_batch; });
          if (stopping_ || queue_.size() >= options_.max_batch || queue_.size() == seen ||
              std::chrono::steady_clock::now() >= until) {
            break;
          }
        }
      }
      std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.clear();
      records.clear();
      for (std::size_t i = 0; i < n; ++i) {
        records.push_back(std::move(queue_.front().record));
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_gauge_.set(static_cast<std::int64_t>(queue_.size()));
    }
    // Retry the same batch until it is durable: a usage record is never dropped because the
    // store hiccupped. Waiters are released with an error once they have waited too long.
    for (;;) {
      const auto write_started = std::chrono::steady_clock::now();
      auto r = sink_.writeBatch(records);
      if (r) {
        LIVERY_LOG(log_,
                   Debug,
                   "ledger_batch_committed",
                   {"records", records.size()},
                   {"write_us",
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - write_started)
                        .count()});
        batches_.inc();
        committed_.inc(records.size());
        backoff = std::chrono::milliseconds(10);
        complete(batch, Result<void>{}, false, {}, {});
        if (on_committed_) {
          on_committed_(records);
        }
        break;
      }
      failures_.inc();
      LIVERY_LOG(log_,
                 Error,
                 "ledger_write_failed",
                 {"records", records.size()},
                 {"error",
                  r.error().log_detail.empty() ? r.error().client_message : r.error().log_detail});
      auto now = std::chrono::steady_clock::now();
      complete(batch,
               fail(ErrorCode::kUnavailable,
                    "usage could not be recorded; try again",
                    "ledger store failing"),
               true,
               now,
               options_.waiter_timeout);
      {
        std::unique_lock lock(mu_);
        if (stopping_ && now > stop_deadline_) {
          LIVERY_LOG(log_, Error, "ledger_records_lost_at_shutdown", {"records", records.size()});
          complete(batch, fail(ErrorCode::kUnavailable, "shutting down"), false, {}, {});
          return;
        }
        cv_.wait_for(lock, backoff, [&] { return false; });
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }
}

}  // namespace livery::metering
