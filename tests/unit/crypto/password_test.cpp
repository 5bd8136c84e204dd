#include "crypto/password.hpp"

#include <gtest/gtest.h>

namespace livery::crypto {
namespace {

// Small parameters keep the unit tests fast; the defaults are checked separately.
PasswordHasher fastHasher() {
  return PasswordHasher::create({.ops_limit = 1, .mem_limit_bytes = 64 * 1024}).value();
}

TEST(PasswordTest, DefaultsAreTheOwaspArgon2idParameters) {
  auto h = PasswordHasher::create();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->params().ops_limit, 2u);
  EXPECT_EQ(h->params().mem_limit_bytes, 19u * 1024 * 1024);
  auto encoded = h->hash(SecretBytes::copyOf(std::string_view("correct horse battery staple")));
  ASSERT_TRUE(encoded);
  EXPECT_TRUE(encoded->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *encoded;
}

TEST(PasswordTest, HashesVerifyAndAreSalted) {
  auto h = fastHasher();
  const auto pw = SecretBytes::copyOf(std::string_view("s3cret-Pa55word"));
  auto a = h.hash(pw);
  auto b = h.hash(pw);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // random salt
  EXPECT_EQ(a->find("s3cret"), std::string::npos);
  auto ok = h.verify(*a, pw);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->match);
  EXPECT_FALSE(ok->needs_rehash);
  auto wrong = h.verify(*a, SecretBytes::copyOf(std::string_view("s3cret-Pa55wore")));
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(wrong->match);
  auto empty = h.verify(*a, SecretBytes());
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->match);
}

TEST(PasswordTest, MalformedStoredHashesAreErrorsNotMismatches) {
  auto h = fastHasher();
  const auto pw = SecretBytes::copyOf(std::string_view("pw"));
  EXPECT_FALSE(h.verify("", pw));
  EXPECT_FALSE(h.verify("$2b$12$abcdefghijklmnopqrstuv", pw));  // bcrypt
  EXPECT_FALSE(h.verify("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", pw));
  EXPECT_FALSE(h.verify(std::string(200, 'x'), pw));
  auto garbled = h.verify("$argon2id$v=19$m=64,t=1,p=1$not-base64!$xx", pw);
  if (garbled) {
    EXPECT_FALSE(garbled->match);
  }
}

TEST(PasswordTest, ChangedParametersAskForARehash) {
  auto weak = PasswordHasher::create({.ops_limit = 1, .mem_limit_bytes = 64 * 1024}).value();
  auto strong = PasswordHasher::create({.ops_limit = 2, .mem_limit_bytes = 128 * 1024}).value();
  const auto pw = SecretBytes::copyOf(std::string_view("pw-123456"));
  auto old = weak.hash(pw).value();
  auto check = strong.verify(old, pw);
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->match);
  EXPECT_TRUE(check->needs_rehash);
  EXPECT_FALSE(weak.needsRehash(old));
  EXPECT_TRUE(strong.needsRehash("not a hash"));
}

TEST(PasswordTest, RejectsEmptyOversizedPasswordsAndBadParameters) {
  auto h = fastHasher();
  EXPECT_FALSE(h.hash(SecretBytes()));
  EXPECT_FALSE(h.hash(SecretBytes(kMaxPasswordBytes + 1)));
  EXPECT_FALSE(PasswordHasher::create({.ops_limit = 0, .mem_limit_bytes = 19u << 20}));
  EXPECT_FALSE(PasswordHasher::create({.ops_limit = 2, .mem_limit_bytes = 1}));
}

}  // namespace
}  // namespace livery::crypto
