#include "core/named_thread_pool.hpp"

#include "core/thread_name.hpp"

namespace livery {

NamedThreadPool::NamedThreadPool(std::size_t threads, std::string name) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this, name] {
      nameThisThread(name);
      pool_.attach();  // runs the pool's work until it is stopped or, after join(), runs out
    });
  }
}

NamedThreadPool::~NamedThreadPool() {
  if (!joined_) {
    pool_.stop();
    join();
  }
}

void NamedThreadPool::join() {
  if (joined_) {
    return;
  }
  joined_ = true;
  pool_.wait();  // releases the pool's own work count: run() returns once the queue is empty
  for (auto& t : threads_) {
    t.join();
  }
}

}  // namespace livery
