#include "core/thread_name.hpp"

#include <array>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <pthread.h>

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

}  // namespace
}  // namespace livery
