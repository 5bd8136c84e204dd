#include "limits/key_touches.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace livery::limits {
namespace {

std::map<std::pair<std::string, std::string>, std::int64_t> asMap(std::vector<KeyUse> uses) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  for (auto& u : uses) {
    auto [it, inserted] = out.emplace(std::make_pair(u.tenant_id, u.key_id), u.at_unix_ms);
    EXPECT_TRUE(inserted) << "a key was drained twice: " << u.key_id;
  }
  return out;
}

TEST(KeyTouchesTest, CoalescesTouchesOfOneKeyKeepingTheLatestTime) {
  KeyTouches touches;
  EXPECT_TRUE(touches.touch("tnt_a", "key_1", 100));
  EXPECT_TRUE(touches.touch("tnt_a", "key_1", 300));
  EXPECT_TRUE(touches.touch("tnt_a", "key_1", 200));  // late arrival: never goes backwards
  EXPECT_TRUE(touches.touch("tnt_a", "key_2", 150));
  EXPECT_EQ(touches.pending(), 2u);
  auto got = asMap(touches.drain());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ((got[{"tnt_a", "key_1"}]), 300);
  EXPECT_EQ((got[{"tnt_a", "key_2"}]), 150);
}

TEST(KeyTouchesTest, DrainStartsAFreshEpoch) {
  KeyTouches touches;
  touches.touch("tnt_a", "key_1", 100);
  EXPECT_EQ(touches.drain().size(), 1u);
  EXPECT_EQ(touches.pending(), 0u);
  EXPECT_TRUE(touches.drain().empty());
  touches.touch("tnt_a", "key_1", 50);  // an older time after a drain is still reported
  auto got = touches.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at_unix_ms, 50);
}

TEST(KeyTouchesTest, SameKeyIdUnderTwoTenantsStaysApart) {
  KeyTouches touches;
  touches.touch("tnt_a", "key_1", 1);
  touches.touch("tnt_b", "key_1", 2);
  auto got = asMap(touches.drain());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ((got[{"tnt_a", "key_1"}]), 1);
  EXPECT_EQ((got[{"tnt_b", "key_1"}]), 2);
}

TEST(KeyTouchesTest, GrowsPastItsInitialTableWithoutLosingKeys) {
  KeyTouches touches(1'000'000, 2);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_TRUE(touches.touch("tnt_" + std::to_string(i % 7), "key_" + std::to_string(i), i));
  }
  for (int i = 0; i < 20'000; i += 2) {  // re-touch half of them later
    ASSERT_TRUE(
        touches.touch("tnt_" + std::to_string(i % 7), "key_" + std::to_string(i), 100'000 + i));
  }
  auto got = asMap(touches.drain());
  ASSERT_EQ(got.size(), 20'000u);
  for (int i = 0; i < 20'000; ++i) {
    const auto at = got.at({"tnt_" + std::to_string(i % 7), "key_" + std::to_string(i)});
    EXPECT_EQ(at, i % 2 == 0 ? 100'000 + i : i) << i;
  }
}

TEST(KeyTouchesTest, BoundsPendingKeysAndCountsDrops) {
  KeyTouches touches(100, 4);  // 25 keys per shard
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    accepted += touches.touch("tnt_a", "key_" + std::to_string(i), i) ? 1 : 0;
  }
  EXPECT_LE(touches.pending(), 100u);
  EXPECT_EQ(static_cast<std::size_t>(accepted), touches.pending());
  EXPECT_EQ(touches.dropped(), static_cast<std::uint64_t>(1000 - accepted));
  auto drained = touches.drain();
  ASSERT_FALSE(drained.empty());
  EXPECT_EQ(drained.size(), static_cast<std::size_t>(accepted));
  EXPECT_TRUE(touches.touch("tnt_a", "key_0", 5));
}

TEST(KeyTouchesTest, AtTheBoundAPendingKeyIsStillUpdated) {
  KeyTouches touches(1, 1);
  ASSERT_TRUE(touches.touch("tnt_a", "key_1", 1));
  EXPECT_FALSE(touches.touch("tnt_a", "key_2", 2));
  EXPECT_TRUE(touches.touch("tnt_a", "key_1", 3));
  auto got = touches.drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key_id, "key_1");
  EXPECT_EQ(got[0].at_unix_ms, 3);
}

// Request threads touch while the flusher drains: every key's latest touch is reported by
// exactly one drain at or after it, and nothing is reported that was never touched.
TEST(KeyTouchesTest, ConcurrentTouchesAndDrainsLoseNothing) {
  KeyTouches touches(1'000'000, 8);
  constexpr int kThreads = 4;
  constexpr int kKeys = 2000;
  constexpr int kRounds = 20;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 1; round <= kRounds; ++round) {
        for (int k = 0; k < kKeys; ++k) {
          touches.touch("tnt_" + std::to_string(t), "key_" + std::to_string(k), round);
        }
      }
      running.fetch_sub(1);
    });
  }
  std::map<std::pair<std::string, std::string>, std::int64_t> latest;
  const auto merge = [&](std::vector<KeyUse> uses) {
    for (auto& u : uses) {
      auto& at = latest[{u.tenant_id, u.key_id}];
      at = std::max(at, u.at_unix_ms);
    }
  };
  while (running.load() > 0) {
    merge(touches.drain());
  }
  for (auto& th : threads) {
    th.join();
  }
  merge(touches.drain());
  ASSERT_EQ(latest.size(), static_cast<std::size_t>(kThreads * kKeys));
  for (const auto& [k, at] : latest) {
    EXPECT_EQ(at, kRounds) << k.first << "/" << k.second;
  }
  EXPECT_EQ(touches.dropped(), 0u);
}

}  // namespace
}  // namespace livery::limits
