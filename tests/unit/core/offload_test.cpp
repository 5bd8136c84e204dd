#include "core/offload.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "support/co_test.hpp"

namespace livery {
namespace {

TEST(OffloadTest, RunsOnThePoolAndResumesOnTheCallersThread) {
  net::thread_pool pool(1);
  auto caller = std::this_thread::get_id();
  std::thread::id worker;
  auto [value, resumed] =
      testing::runAwaitable([&]() -> net::awaitable<std::pair<int, std::thread::id>> {
        int v = co_await offload(pool, [&] {
          worker = std::this_thread::get_id();
          return 41 + 1;
        });
        co_return std::make_pair(v, std::this_thread::get_id());
      }());
  EXPECT_EQ(value, 42);
  EXPECT_NE(worker, caller);
  EXPECT_EQ(resumed, caller);
  pool.join();
}

TEST(OffloadTest, PropagatesExceptions) {
  net::thread_pool pool(1);
  EXPECT_THROW(testing::runAwaitable([&]() -> net::awaitable<int> {
                 co_return co_await offload(pool, []() -> int { throw std::runtime_error("x"); });
               }()),
               std::runtime_error);
  pool.join();
}

TEST(OffloadTest, SupportsVoidAndMoveOnlyResults) {
  net::thread_pool pool(1);
  int side = 0;
  auto ptr = testing::runAwaitable([&]() -> net::awaitable<std::unique_ptr<int>> {
    co_await offload(pool, [&] { side = 7; });
    co_return co_await offload(pool, [] { return std::make_unique<int>(9); });
  }());
  EXPECT_EQ(side, 7);
  EXPECT_EQ(*ptr, 9);
  pool.join();
}

}  // namespace
}  // namespace livery
