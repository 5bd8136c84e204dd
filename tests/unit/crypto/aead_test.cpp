#include "crypto/aead.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crypto/errors.hpp"
#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

namespace json = boost::json;
using testing::fixturePath;
using testing::unhex;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Outcome {
  bool accepted = false;
  std::vector<unsigned char> plaintext;
};

Outcome decrypt(const std::vector<unsigned char>& key,
                const std::vector<unsigned char>& iv,
                const std::vector<unsigned char>& aad,
                const std::vector<unsigned char>& ct,
                const std::vector<unsigned char>& tag) {
  Outcome o;
  o.plaintext.assign(ct.size(), 0xAA);
  o.accepted = static_cast<bool>(aes256GcmOpen(key, iv, aad, ct, tag, o.plaintext));
  return o;
}

// Wycheproof aes_gcm_test.json (subset, see tests/fixtures/crypto/README.md). Our cipher is
// AES-256-GCM with 96-bit IVs and 128-bit tags only: those groups must match the expected
// result exactly (valid: encrypts and decrypts to the vector; invalid: rejected). Every other
// group is GCM the library must refuse, whatever the vector's result.
TEST(AeadTest, WycheproofAesGcmVectors) {
  auto doc = json::parse(readAll(fixturePath("wycheproof_aes_gcm_subset.json")));
  int supported = 0;
  int refused = 0;
  int valid_seen = 0;
  int invalid_seen = 0;
  for (const auto& gv : doc.at("testGroups").as_array()) {
    const auto& g = gv.as_object();
    const bool ours = g.at("keySize").as_int64() == 256 && g.at("ivSize").as_int64() == 96 &&
                      g.at("tagSize").as_int64() == 128;
    for (const auto& tv : g.at("tests").as_array()) {
      const auto& t = tv.as_object();
      SCOPED_TRACE("tcId " + std::to_string(t.at("tcId").as_int64()));
      auto key = unhex(t.at("key").as_string());
      auto iv = unhex(t.at("iv").as_string());
      auto aad = unhex(t.at("aad").as_string());
      auto msg = unhex(t.at("msg").as_string());
      auto ct = unhex(t.at("ct").as_string());
      auto tag = unhex(t.at("tag").as_string());
      const bool valid = t.at("result").as_string() == "valid";
      Outcome o = decrypt(key, iv, aad, ct, tag);
      if (!ours) {
        EXPECT_FALSE(o.accepted) << "unsupported parameters must be refused";
        std::vector<unsigned char> out_ct(msg.size());
        std::vector<unsigned char> out_tag(16);
        EXPECT_FALSE(aes256GcmSeal(key, iv, aad, msg, out_ct, out_tag));
        ++refused;
        continue;
      }
      ++supported;
      if (valid) {
        ++valid_seen;
        EXPECT_TRUE(o.accepted);
        EXPECT_EQ(o.plaintext, msg);
        std::vector<unsigned char> out_ct(msg.size());
        std::vector<unsigned char> out_tag(16);
        ASSERT_TRUE(aes256GcmSeal(key, iv, aad, msg, out_ct, out_tag));
        EXPECT_EQ(out_ct, ct);
        EXPECT_EQ(out_tag, tag);
      } else {
        ++invalid_seen;
        EXPECT_FALSE(o.accepted);
        EXPECT_EQ(o.plaintext, std::vector<unsigned char>(ct.size(), 0))
            << "a failed open must not leave plaintext behind";
      }
    }
  }
  EXPECT_GE(supported, 40);
  EXPECT_GE(refused, 5);
  EXPECT_GT(valid_seen, 0);
  EXPECT_GT(invalid_seen, 20);
}

// NIST CAVP gcmEncryptExtIV256 / gcmDecrypt256 entries (Keylen 256, IVlen 96, Taglen 128).
TEST(AeadTest, NistCavpGcm256Vectors) {
  std::stringstream in(readAll(fixturePath("nist_cavp_gcm256_subset.rsp")));
  std::vector<std::map<std::string, std::string>> records(1);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') {
      continue;
    }
    if (line.empty()) {
      if (!records.back().empty()) {
        records.emplace_back();
      }
      continue;
    }
    if (line == "FAIL") {
      records.back()["FAIL"] = "1";
      continue;
    }
    auto eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    records.back()[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  int enc = 0;
  int dec_ok = 0;
  int dec_fail = 0;
  for (auto& r : records) {
    if (r.empty()) {
      continue;
    }
    SCOPED_TRACE(r["File"] + " key " + r["Key"]);
    auto key = unhex(r["Key"]);
    auto iv = unhex(r["IV"]);
    auto aad = unhex(r["AAD"]);
    auto ct = unhex(r["CT"]);
    auto tag = unhex(r["Tag"]);
    if (r["Mode"] == "encrypt") {
      auto pt = unhex(r["PT"]);
      std::vector<unsigned char> out_ct(pt.size());
      std::vector<unsigned char> out_tag(16);
      ASSERT_TRUE(aes256GcmSeal(key, iv, aad, pt, out_ct, out_tag));
      EXPECT_EQ(out_ct, ct);
      EXPECT_EQ(out_tag, tag);
      ++enc;
    } else {
      Outcome o = decrypt(key, iv, aad, ct, tag);
      if (r.count("FAIL") != 0) {
        EXPECT_FALSE(o.accepted);
        ++dec_fail;
      } else {
        EXPECT_TRUE(o.accepted);
        EXPECT_EQ(o.plaintext, unhex(r["PT"]));
        ++dec_ok;
      }
    }
  }
  EXPECT_EQ(enc, 7);
  EXPECT_EQ(dec_ok, 6);
  EXPECT_EQ(dec_fail, 5);
}

class AeadFixture : public ::testing::Test {
 protected:
  std::vector<unsigned char> key =
      unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  std::vector<unsigned char> nonce = unhex("505152535455565758595a5b");
  std::vector<unsigned char> aad = unhex("a1a2a3");
  std::vector<unsigned char> msg = unhex("202122232425262728292a2b2c2d2e2f30");
};

TEST_F(AeadFixture, RoundTripAndEveryTamperIsDetected) {
  std::vector<unsigned char> ct(msg.size());
  std::vector<unsigned char> tag(kGcmTagBytes);
  ASSERT_TRUE(aes256GcmSeal(key, nonce, aad, msg, ct, tag));
  EXPECT_NE(ct, msg);
  std::vector<unsigned char> pt(ct.size());
  ASSERT_TRUE(aes256GcmOpen(key, nonce, aad, ct, tag, pt));
  EXPECT_EQ(pt, msg);

  auto expectRejected = [&](auto k, auto n, auto a, auto c, auto t) {
    std::vector<unsigned char> out(c.size(), 0x55);
    auto r = aes256GcmOpen(k, n, a, c, t, out);
    ASSERT_FALSE(r);
    EXPECT_TRUE(hasCode(r.error(), kCodeIntegrity));
    EXPECT_EQ(out, std::vector<unsigned char>(c.size(), 0));
  };
  for (std::size_t i = 0; i < ct.size(); ++i) {
    auto c = ct;
    c[i] ^= 0x01;
    expectRejected(key, nonce, aad, c, tag);
  }
  auto t = tag;
  t[15] ^= 0x80;
  expectRejected(key, nonce, aad, ct, t);
  auto a = aad;
  a.push_back(0);
  expectRejected(key, nonce, a, ct, tag);
  auto n = nonce;
  n[0] ^= 1;
  expectRejected(key, n, aad, ct, tag);
  auto k = key;
  k[31] ^= 1;
  expectRejected(k, nonce, aad, ct, tag);
}

TEST_F(AeadFixture, RefusesOtherKeyNonceAndTagSizes) {
  std::vector<unsigned char> ct(msg.size());
  std::vector<unsigned char> tag(kGcmTagBytes);
  std::vector<unsigned char> short_key(16);
  std::vector<unsigned char> empty_nonce;
  std::vector<unsigned char> long_nonce(16);
  std::vector<unsigned char> short_tag(12);
  EXPECT_FALSE(aes256GcmSeal(short_key, nonce, aad, msg, ct, tag));
  EXPECT_FALSE(aes256GcmSeal(key, empty_nonce, aad, msg, ct, tag));  // CVE-2017-7822 class
  EXPECT_FALSE(aes256GcmSeal(key, long_nonce, aad, msg, ct, tag));
  EXPECT_FALSE(aes256GcmSeal(key, nonce, aad, msg, ct, short_tag));
  std::vector<unsigned char> wrong_size(msg.size() + 1);
  EXPECT_FALSE(aes256GcmSeal(key, nonce, aad, msg, wrong_size, tag));
  std::vector<unsigned char> pt(ct.size());
  EXPECT_FALSE(aes256GcmOpen(key, empty_nonce, aad, ct, tag, pt));
  EXPECT_FALSE(aes256GcmOpen(key, nonce, aad, ct, short_tag, pt));
}

TEST_F(AeadFixture, PerThreadContextsAreIndependent) {
  std::vector<unsigned char> ct(msg.size());
  std::vector<unsigned char> tag(kGcmTagBytes);
  ASSERT_TRUE(aes256GcmSeal(key, nonce, aad, msg, ct, tag));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto my_key = key;
      my_key[0] = static_cast<unsigned char>(t);  // a different key per thread
      std::vector<unsigned char> my_ct(msg.size());
      std::vector<unsigned char> my_tag(kGcmTagBytes);
      for (int i = 0; i < 500; ++i) {
        std::vector<unsigned char> pt(ct.size());
        if (!aes256GcmOpen(key, nonce, aad, ct, tag, pt) || pt != msg) {
          ++failures;
        }
        if (!aes256GcmSeal(my_key, nonce, aad, msg, my_ct, my_tag) ||
            !aes256GcmOpen(my_key, nonce, aad, my_ct, my_tag, pt) || pt != msg) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace livery::crypto
