#include "crypto/envelope.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/aead.hpp"
#include "crypto/kms/local_file_kms.hpp"
#include "crypto/vault.hpp"
#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

using livery::testing::TempDir;
using livery::testing::writeFile;
using testing::CapturingLogger;
using testing::unhex;

// The worked example of docs/design/envelope-encryption.md ("Known-answer example"). The
// expected values were computed independently with Python `cryptography`; another
// implementation that reproduces them reads and writes Livery rows.
struct Kat {
  std::vector<unsigned char> kek =
      unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  std::vector<unsigned char> dek =
      unhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
  std::vector<unsigned char> payload_nonce = unhex("404142434445464748494a4b");
  CredentialBinding who{"tnt_example", "cred_example", "openai"};
  std::string plaintext = "sk-example-provider-key-0123456789";
  std::string payload_aad =
      "000000196c69766572792f63726564656e7469616c2f7061796c6f6164000000010000000b746e745f6578616d"
      "706c650000000c637265645f6578616d706c65000000066f70656e6169";
  std::string dek_aad =
      "000000156c69766572792f63726564656e7469616c2f64656b000000010000000b746e745f6578616d706c6500"
      "00000c637265645f6578616d706c65000000066f70656e6169000000056c6f63616c00000001";
  std::string ciphertext = "b13f90e42817a87b3e577d58f725271b77ebefae9e25def35ecfa63354dff935f22a";
  std::string tag = "a77ab5c8c669509b187000833620e163";
  std::string wrapped_dek =
      "505152535455565758595a5bb2061457c0759fc1749f174ee1ccadfad31ecfd81644ac151cb0dae0cc7dab4bd1f1"
      "e6"
      "56a93aee7b2250d193431d998f";

  storage::Envelope envelope() const {
    storage::Envelope e;
    e.ciphertext = unhex(ciphertext);
    e.nonce = payload_nonce;
    e.tag = unhex(tag);
    e.wrapped_dek = unhex(wrapped_dek);
    e.kek_id = "local";
    e.kek_version = 1;
    e.format_version = 1;
    return e;
  }
};

TEST(EnvelopeFormatTest, AadEncodingsMatchTheDocumentedExample) {
  Kat k;
  EXPECT_EQ(hexEncode(payloadAad(kEnvelopeFormatV1, k.who)), k.payload_aad);
  EXPECT_EQ(hexEncode(dekAad(kEnvelopeFormatV1, k.who, "local", 1)), k.dek_aad);
}

TEST(EnvelopeFormatTest, PayloadAndWrappedDekMatchTheDocumentedExample) {
  Kat k;
  std::vector<unsigned char> ct(k.plaintext.size());
  std::vector<unsigned char> tag(16);
  ASSERT_TRUE(aes256GcmSeal(
      k.dek, k.payload_nonce, payloadAad(1, k.who), testing::bytesOf(k.plaintext), ct, tag));
  EXPECT_EQ(hexEncode(ct), k.ciphertext);
  EXPECT_EQ(hexEncode(tag), k.tag);
  auto wrapped = unhex(k.wrapped_dek);
  std::vector<unsigned char> dek(32);
  ASSERT_TRUE(aes256GcmOpen(k.kek,
                            std::span(wrapped).first(12),
                            dekAad(1, k.who, "local", 1),
                            std::span(wrapped).subspan(12, 32),
                            std::span(wrapped).subspan(44, 16),
                            dek));
  EXPECT_EQ(dek, k.dek);
}

TEST(EnvelopeFormatTest, TheVaultOpensARowWrittenByAnotherImplementation) {
  Kat k;
  TempDir dir;
  CapturingLogger log;
  OpenSslRandom random;
  const std::string path = dir.file("kek.json");
  writeFile(
      path,
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":1,"created_at_ms":0,"key":")" +
          hexEncode(k.kek) + R"("}]})");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto kms =
      LocalFileKms::open({.path = path, .create_if_missing = false}, random, log.clock, log.logger);
  ASSERT_TRUE(kms) << kms.error().log_detail;
  DekCache cache({}, log.clock);
  Vault vault(**kms, cache, random);
  auto opened = vault.open(k.who, k.envelope());
  ASSERT_TRUE(opened) << opened.error().log_detail;
  EXPECT_EQ(opened->reveal(), k.plaintext);
  auto moved = vault.open({"tnt_other", "cred_example", "openai"}, k.envelope());
  ASSERT_FALSE(moved);
}

TEST(EnvelopeFormatTest, BindingsAreValidated) {
  EXPECT_TRUE(validateBinding({"t", "c", "p"}));
  EXPECT_FALSE(validateBinding({"", "c", "p"}));
  EXPECT_FALSE(validateBinding({"t", "", "p"}));
  EXPECT_FALSE(validateBinding({"t", "c", ""}));
  const std::string big(256, 'x');
  EXPECT_FALSE(validateBinding({big, "c", "p"}));
}

TEST(EnvelopeFormatTest, ShapeChecksBoundEveryField) {
  Kat k;
  EXPECT_TRUE(validateEnvelopeShape(k.envelope()));
  auto e = k.envelope();
  e.ciphertext.resize(kMaxCredentialPlaintextBytes + 1);
  EXPECT_FALSE(validateEnvelopeShape(e));
  e = k.envelope();
  e.wrapped_dek.resize(kMaxWrappedDekBytes + 1);
  EXPECT_FALSE(validateEnvelopeShape(e));
  e = k.envelope();
  e.kek_id.clear();
  EXPECT_FALSE(validateEnvelopeShape(e));
  e = k.envelope();
  e.kek_id = std::string(256, 'k');
  EXPECT_FALSE(validateEnvelopeShape(e));
  e = k.envelope();
  e.ciphertext.clear();  // an empty payload is well-formed (the tag still authenticates)
  EXPECT_TRUE(validateEnvelopeShape(e));
}

}  // namespace
}  // namespace livery::crypto
