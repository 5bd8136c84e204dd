#pragma once

// A boost::asio::thread_pool whose threads carry a name (core/thread_name.hpp). Asio's own pool
// threads inherit their creator's name and the pool offers no hook to rename them, so this pool
// starts with no threads of its own and `threads` named threads attach to it.
//
// join() lets the queued work finish, then the threads exit (thread_pool::join's semantics);
// the destructor stops the pool without draining it and joins. Thread-safe as thread_pool is;
// construct, join and destroy from one thread.

#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/thread_pool.hpp>

namespace livery {

class NamedThreadPool {
 public:
  NamedThreadPool(std::size_t threads, std::string name);
  ~NamedThreadPool();
  NamedThreadPool(const NamedThreadPool&) = delete;
  NamedThreadPool& operator=(const NamedThreadPool&) = delete;

  boost::asio::thread_pool& pool() noexcept { return pool_; }
  void join();

 private:
  boost::asio::thread_pool pool_{0};
  std::vector<std::thread> threads_;
  bool joined_ = false;
};

}  // namespace livery
