#include "core/ids.hpp"

#include <unordered_set>

#include <gtest/gtest.h>

namespace livery {
namespace {

TEST(IdGeneratorTest, ProducesUniquePrefixedIds) {
  IdGenerator a;
  IdGenerator b;
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 100'000; ++i) {
    auto x = a.next("req");
    auto y = b.next("req");
    ASSERT_TRUE(seen.insert(x).second);
    ASSERT_TRUE(seen.insert(y).second);
  }
  auto id = a.next("req");
  EXPECT_EQ(id.substr(0, 4), "req_");
  EXPECT_EQ(id.size(), 4u + 26u);
}

TEST(IdGeneratorTest, RandomIdsDiffer) {
  EXPECT_NE(randomId("t"), randomId("t"));
}

TEST(IdsTest, ClientIdsAreCheckedBeforeTheyAreLogged) {
  EXPECT_TRUE(isSafeClientId("abc-123_X.y:z"));
  EXPECT_FALSE(isSafeClientId(""));
  EXPECT_FALSE(isSafeClientId("has space"));
  EXPECT_FALSE(isSafeClientId("quote\""));
  EXPECT_FALSE(isSafeClientId(std::string(129, 'a')));
}

}  // namespace
}  // namespace livery
