#include "core/thread_name.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <pthread.h>

#include "core/named_thread_pool.hpp"

namespace livery {
namespace {

std::string currentName() {
  std::array<char, 32> buf{};
  EXPECT_EQ(pthread_getname_np(pthread_self(), buf.data(), buf.size()), 0);
  return buf.data();
}

TEST(ThreadNameTest, NamesTheCallingThreadAndKeepsFifteenBytes) {
  std::string short_name;
  std::string long_name;
  std::thread t([&] {
    nameThisThread("lv-test");
    short_name = currentName();
    nameThisThread("lv-a-name-longer-than-fifteen-bytes");
    long_name = currentName();
  });
  t.join();
  EXPECT_EQ(short_name, "lv-test");
  EXPECT_EQ(long_name, "lv-a-name-longe");
  EXPECT_EQ(long_name.size(), 15u);
}

TEST(NamedThreadPoolTest, RunsWorkOnItsNamedThreadsAndDrainsItOnJoin) {
  NamedThreadPool pool(3, "lv-pool-test");
  std::mutex mu;
  std::set<std::string> names;
  std::set<std::thread::id> ids;
  std::atomic<int> done{0};
  // Work that blocks until three tasks run at once proves there are three threads.
  std::atomic<int> running{0};
  for (int i = 0; i < 3; ++i) {
    boost::asio::post(pool.pool(), [&] {
      ++running;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (running.load() < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      std::lock_guard lock(mu);
      names.insert(currentName());
      ids.insert(std::this_thread::get_id());
      ++done;
    });
  }
  // Queued behind them: join() lets these finish too.
  for (int i = 0; i < 20; ++i) {
    boost::asio::post(pool.pool(), [&] { ++done; });
  }
  pool.join();
  EXPECT_EQ(done.load(), 23);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(names, (std::set<std::string>{"lv-pool-test"}));
  pool.join();  // idempotent
}

TEST(NamedThreadPoolTest, DestroyingAnUnjoinedPoolStopsItsThreads) {
  std::promise<void> started;
  {
    NamedThreadPool pool(2, "lv-pool-test");
    boost::asio::post(pool.pool(), [&] { started.set_value(); });
    EXPECT_EQ(started.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }  // must not hang
  SUCCEED();
}

}  // namespace
}  // namespace livery
