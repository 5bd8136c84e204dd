#include "crypto/encoding.hpp"

#include <gtest/gtest.h>

#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

using testing::bytesOf;

TEST(EncodingTest, HexRoundTripsAndRejectsGarbage) {
  std::vector<unsigned char> bytes{0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(hexEncode(bytes), "007f80ff");
  EXPECT_EQ(hexDecode("007F80ff"), bytes);
  EXPECT_FALSE(hexDecode("0"));
  EXPECT_FALSE(hexDecode("0g"));
  EXPECT_FALSE(hexDecode(" 00"));
}

TEST(EncodingTest, Base64UrlMatchesRfc4648Vectors) {
  // RFC 4648 §10 test vectors, in the URL-safe alphabet without padding.
  EXPECT_EQ(base64UrlEncode(bytesOf("")), "");
  EXPECT_EQ(base64UrlEncode(bytesOf("f")), "Zg");
  EXPECT_EQ(base64UrlEncode(bytesOf("fo")), "Zm8");
  EXPECT_EQ(base64UrlEncode(bytesOf("foo")), "Zm9v");
  EXPECT_EQ(base64UrlEncode(bytesOf("foob")), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode(bytesOf("fooba")), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode(bytesOf("foobar")), "Zm9vYmFy");
  std::vector<unsigned char> high{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64UrlEncode(high), "-_-_");
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = base64UrlDecode(base64UrlEncode(bytesOf(s)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), s);
  }
}

TEST(EncodingTest, Base64UrlDecoderIsStrict) {
  EXPECT_FALSE(base64UrlDecode("Zg=="));   // padding
  EXPECT_FALSE(base64UrlDecode("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(base64UrlDecode("Zm9v/"));
  EXPECT_FALSE(base64UrlDecode("Zm 9v"));  // whitespace
  EXPECT_FALSE(base64UrlDecode("Z"));      // impossible length
  EXPECT_FALSE(base64UrlDecode("Zh"));     // non-zero unused bits ("Zg" is canonical for "f")
  EXPECT_FALSE(base64UrlDecode("Zm9"));    // "Zm8" is canonical for "fo"
  EXPECT_TRUE(base64UrlDecode("Zg"));
}

}  // namespace
}  // namespace livery::crypto
