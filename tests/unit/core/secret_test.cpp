#include "core/secret.hpp"

#include <type_traits>

#include <gtest/gtest.h>

namespace livery {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>, "secrets are not implicitly copyable");
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(SecretBytesTest, HoldsBytesAndClonesExplicitly) {
  auto s = SecretBytes::copyOf(std::string_view("sk-test-123"));
  EXPECT_EQ(s.reveal(), "sk-test-123");
  auto c = s.clone();
  EXPECT_EQ(c.reveal(), "sk-test-123");
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  auto s = SecretBytes::copyOf(std::string_view("abc"));
  SecretBytes t = std::move(s);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(t.reveal(), "abc");
}

TEST(SecretBytesTest, WipeZeroesAndReleases) {
  auto s = SecretBytes::copyOf(std::string_view("abc"));
  s.wipe();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.data(), nullptr);
}

TEST(SecretBytesTest, TakeFromWipesTheSourceString) {
  std::string src = "sk-secret-value";
  auto s = SecretBytes::takeFrom(src);
  EXPECT_TRUE(src.empty());
  EXPECT_EQ(s.reveal(), "sk-secret-value");
}

TEST(SecretBytesTest, FingerprintShowsOnlyPrefixAndLastFour) {
  EXPECT_EQ(fingerprintOf("sk-proj-abcdefghijklmnop1234"),
            "sk-proj-\u2026"
            "1234");
  EXPECT_EQ(fingerprintOf("sk-ant-api03-zzzzzzzzzzzzWXYZ"),
            "sk-ant-\u2026"
            "WXYZ");
  EXPECT_EQ(fingerprintOf("short"), "\u2026****");
}

}  // namespace
}  // namespace livery
