#include "http/io_threads.hpp"

#include <string>

#include "core/thread_name.hpp"

namespace livery::http {

IoThreads::IoThreads(int count) {
  for (int i = 0; i < count; ++i) {
    // concurrency hint 1: each context is run by one thread, so Asio can skip internal locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

IoThreads::~IoThreads() {
  stop();
  join();
}

void IoThreads::start() {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([c = contexts_[i].get(), i] {
      nameThisThread("lv-io-" + std::to_string(i));
      c->run();
    });
  }
}

void IoThreads::release() {
  for (auto& g : guards_) {
    g.reset();
  }
}

void IoThreads::stop() {
  for (auto& ctx : contexts_) {
    ctx->stop();
  }
}

void IoThreads::join() {
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

std::vector<boost::asio::io_context*> IoThreads::contexts() {
  std::vector<boost::asio::io_context*> out;
  for (auto& c : contexts_) {
    out.push_back(c.get());
  }
  return out;
}

}  // namespace livery::http
