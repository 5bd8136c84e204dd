#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace livery::http {

// N io_contexts, each run by exactly one thread (so per-worker state needs no locks). The
// contexts stay alive (work guards) until stop(); join() waits for the threads.
class IoThreads {
 public:
  explicit IoThreads(int count);
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  void start();
  // Releases the work guards: each context returns once its pending work is done.
  void release();
  // Stops every context now (pending handlers are abandoned).
  void stop();
  void join();

  std::size_t size() const noexcept { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t i) { return *contexts_[i]; }
  std::vector<boost::asio::io_context*> contexts();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace livery::http
