#include "crypto/api_key.hpp"

#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "crypto/private_file.hpp"
#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

using livery::testing::readFile;
using livery::testing::TempDir;
using testing::CapturingLogger;
using testing::ControllableRandom;
using testing::unhex;

TEST(ApiKeyTest, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(api_key::crc32("123456789"), 0xCBF43926u);  // CRC-32/ISO-HDLC check value
  EXPECT_EQ(api_key::crc32(""), 0u);
}

TEST(ApiKeyTest, GeneratedTokensHaveTheDocumentedShapeAndParse) {
  OpenSslRandom random;
  const std::regex shape("lvr_(live|test|op|sess)_[0-9A-Za-z]{38}");
  for (TokenKind kind :
       {TokenKind::kLive, TokenKind::kTest, TokenKind::kOperator, TokenKind::kSession}) {
    auto token = api_key::generate(kind, random);
    ASSERT_TRUE(token);
    const std::string text(token->reveal());
    EXPECT_TRUE(std::regex_match(text, shape)) << text;
    EXPECT_TRUE(text.starts_with("lvr_" + std::string(tokenKindTag(kind)) + "_"));
    auto parsed = api_key::parse(text);
    ASSERT_TRUE(parsed) << parsed.error().log_detail;
    EXPECT_EQ(parsed->kind, kind);
    EXPECT_EQ(parsed->text, text);
    EXPECT_EQ(api_key::last4(text), text.substr(text.size() - 4));
  }
  EXPECT_EQ(api_key::generate(TokenKind::kLive, random)->size(), 47u);
}

TEST(ApiKeyTest, TokensAreUniqueAndUseTheWholeAlphabet) {
  OpenSslRandom random;
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 2000; ++i) {
    auto token = api_key::generate(TokenKind::kLive, random);
    ASSERT_TRUE(token);
    std::string text(token->reveal());
    EXPECT_TRUE(seen.insert(text).second);
    for (char c : text.substr(9, kTokenRandomChars)) {
      chars.insert(c);
    }
  }
  EXPECT_EQ(chars.size(), 62u);  // 64,000 draws: every base62 digit shows up
}

TEST(ApiKeyTest, AFailingRandomSourceYieldsAnErrorNotAWeakToken) {
  ControllableRandom random;
  random.failing = true;
  EXPECT_FALSE(api_key::generate(TokenKind::kLive, random));
}

TEST(ApiKeyTest, ParseRejectsMalformedTokensBeforeAnyLookup) {
  OpenSslRandom random;
  const std::string good(api_key::generate(TokenKind::kLive, random)->reveal());
  ASSERT_TRUE(api_key::parse(good));
  std::vector<std::string> bad = {
      "",
      "lvr_",
      "sk-" + good.substr(4),
      "LVR_" + good.substr(4),
      "lvr_prod_" + good.substr(9),
      "lvr_live" + good.substr(8, 30),
      good.substr(0, good.size() - 1),
      good + "0",
      good.substr(0, 20) + "-" + good.substr(21),
      good.substr(0, 20) + " " + good.substr(21),
      std::string(5000, 'a'),
  };
  // Every single-character substitution anywhere after the prefix is caught by the checksum.
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (std::size_t i = 9; i < good.size(); ++i) {
    std::string t = good;
    t[i] = alphabet[(alphabet.find(t[i]) + 17) % 62];
    bad.push_back(t);
  }
  // A valid token with its kind swapped fails too: the checksum covers the prefix.
  bad.push_back("lvr_test_" + good.substr(9));
  for (const auto& t : bad) {
    auto r = api_key::parse(t);
    ASSERT_FALSE(r) << t;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().openai_code, "invalid_api_key");
    if (t.size() > 12) {
      EXPECT_EQ(r.error().client_message.find(t), std::string::npos);
      EXPECT_EQ(r.error().log_detail.find(t.substr(9)), std::string::npos);
    }
  }
}

TEST(ApiKeyTest, Last4IsEmptyForShortInput) {
  EXPECT_EQ(api_key::last4("abc"), "");
}

std::string hexOf(const KeyHasher::Digest& d) {
  return hexEncode(d);
}

// RFC 4231 test cases with keys of at least 32 bytes (TC6, TC7: 131-byte key, hashed first).
TEST(KeyHasherTest, MatchesRfc4231) {
  auto key = SecretBytes::copyOf(std::string(131, '\xaa'));
  auto hasher = KeyHasher::create(key);
  ASSERT_TRUE(hasher);
  EXPECT_EQ(hexOf(hasher->hash("Test Using Larger Than Block-Size Key - Hash Key First").value()),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hexOf(hasher
                      ->hash("This is a test using a larger than block-size key and a larger "
                             "than block-size data. The key needs to be hashed before being "
                             "used by the HMAC algorithm.")
                      .value()),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(KeyHasherTest, AgreesWithOpenSslHmacForEveryKeyLengthClass) {
  OpenSslRandom random;
  for (std::size_t key_len : {32u, 63u, 64u, 65u, 200u}) {
    auto key = randomSecret(random, key_len).value();
    auto hasher = KeyHasher::create(key).value();
    for (std::size_t msg_len : {0u, 1u, 47u, 55u, 56u, 64u, 300u}) {
      std::string msg(msg_len, 'm');
      unsigned char expect[32];
      std::size_t len = 0;
      ASSERT_NE(EVP_Q_mac(nullptr,
                          "HMAC",
                          nullptr,
                          "SHA256",
                          nullptr,
                          key.data(),
                          key.size(),
                          reinterpret_cast<const unsigned char*>(msg.data()),
                          msg.size(),
                          expect,
                          sizeof expect,
                          &len),
                nullptr);
      auto got = hasher.hash(msg);
      ASSERT_TRUE(got);
      EXPECT_EQ(std::vector<unsigned char>(got->begin(), got->end()),
                std::vector<unsigned char>(expect, expect + 32))
          << "key " << key_len << " msg " << msg_len;
    }
  }
}

TEST(KeyHasherTest, DependsOnThePepperAndRefusesShortOnes) {
  auto a = KeyHasher::create(SecretBytes::copyOf(std::string(32, 'a'))).value();
  auto b = KeyHasher::create(SecretBytes::copyOf(std::string(32, 'b'))).value();
  EXPECT_NE(a.hash("lvr_live_x").value(), b.hash("lvr_live_x").value());
  EXPECT_EQ(a.hash("lvr_live_x").value(), a.hash("lvr_live_x").value());
  EXPECT_FALSE(KeyHasher::create(SecretBytes::copyOf(std::string(31, 'a'))));
}

TEST(KeyHasherTest, IsSafeToShareBetweenThreads) {
  auto hasher = KeyHasher::create(SecretBytes::copyOf(std::string(32, 'p'))).value();
  auto other = KeyHasher::create(SecretBytes::copyOf(std::string(40, 'q'))).value();
  const auto expected = hasher.hash("lvr_live_token").value();
  const auto expected_other = other.hash("lvr_live_token").value();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        // Interleave two hashers on one thread: the per-thread context must not leak state.
        if (hasher.hash("lvr_live_token").value() != expected ||
            other.hash("lvr_live_token").value() != expected_other) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

TEST(KeyHasherTest, ConstantTimeEqualCompares) {
  std::vector<unsigned char> a{1, 2, 3};
  std::vector<unsigned char> b{1, 2, 3};
  std::vector<unsigned char> c{1, 2, 4};
  std::vector<unsigned char> d{1, 2};
  EXPECT_TRUE(constantTimeEqual(a, b));
  EXPECT_FALSE(constantTimeEqual(a, c));
  EXPECT_FALSE(constantTimeEqual(a, d));
  EXPECT_TRUE(constantTimeEqual({}, {}));
}

TEST(PepperFileTest, IsCreatedPrivatelyOnceAndReloaded) {
  TempDir dir;
  CapturingLogger log;
  OpenSslRandom random;
  const std::string path = dir.file("pepper");
  auto first = loadOrCreatePepper(path, true, random, log.logger);
  ASSERT_TRUE(first) << first.error().log_detail;
  EXPECT_EQ(first->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(log.text().find("security.pepper_file_created"), std::string::npos);
  EXPECT_EQ(log.text().find(hexEncode(first->bytes())), std::string::npos);
  auto again = loadOrCreatePepper(path, true, random, log.logger);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->reveal(), first->reveal());
  EXPECT_EQ(readFile(path), hexEncode(first->bytes()) + "\n");
}

TEST(PepperFileTest, RefusesAccessibleOrShortFilesAndNeverInventsOne) {
  TempDir dir;
  CapturingLogger log;
  OpenSslRandom random;
  const std::string path = dir.file("pepper");
  auto missing = loadOrCreatePepper(path, false, random, log.logger);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(loadOrCreatePepper(path, true, random, log.logger));
  ::chmod(path.c_str(), 0644);
  auto open_to_all = loadOrCreatePepper(path, true, random, log.logger);
  ASSERT_FALSE(open_to_all);
  EXPECT_NE(open_to_all.error().client_message.find(path), std::string::npos);
  EXPECT_NE(open_to_all.error().client_message.find("0644"), std::string::npos);
  std::filesystem::remove(path);
  livery::testing::writeFile(path, std::string(40, 'a') + "\n");
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(loadOrCreatePepper(path, true, random, log.logger));
}

}  // namespace
}  // namespace livery::crypto
