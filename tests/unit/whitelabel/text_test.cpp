#include "whitelabel/text.hpp"

#include <gtest/gtest.h>

namespace livery::whitelabel {
namespace {

TEST(TextTest, HtmlEscapeCoversTextAndQuotedAttributeContexts) {
  EXPECT_EQ(htmlEscape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(htmlEscape("plain ünïcode"), "plain ünïcode");
}

TEST(TextTest, JsonForScriptEscapesEverythingThatCouldCloseTheBlock) {
  std::string json = R"({"n":"</script><script>alert(1)</script>&","s":"a)"
                     "\xE2\x80\xA8"
                     R"(b"})";
  std::string out = escapeJsonForHtmlScript(json);
  EXPECT_EQ(out.find('<'), std::string::npos);
  EXPECT_EQ(out.find('>'), std::string::npos);
  EXPECT_EQ(out.find('&'), std::string::npos);
  EXPECT_EQ(out.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_NE(out.find("\\u003c/script\\u003e"), std::string::npos);
  EXPECT_NE(out.find("\\u2028"), std::string::npos);
}

TEST(TextTest, SanitizeDropsControlBidiAndZeroWidthCharacters) {
  EXPECT_EQ(sanitizeText("  Acme\x01\x7f Co\t\r\n ", {}), "Acme Co");
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 isolate, U+200B zero width space, U+FEFF, C1 U+0085.
  EXPECT_EQ(sanitizeText("a\xE2\x80\xAE"
                         "b\xE2\x81\xA6"
                         "c\xE2\x80\x8B"
                         "d\xEF\xBB\xBF"
                         "e\xC2\x85"
                         "f",
                         {}),
            "abcdef");
  EXPECT_EQ(sanitizeText("line1\nline2", {.max_bytes = 100, .allow_newlines = true}),
            "line1\nline2");
  EXPECT_EQ(sanitizeText("line1\nline2", {.max_bytes = 100, .allow_newlines = false}),
            "line1line2");
}

TEST(TextTest, SanitizeReplacesInvalidUtf8) {
  EXPECT_EQ(sanitizeText("a\xFF"
                         "b",
                         {}),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitizeText("\xC0\xAF", {}), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(sanitizeText("\xED\xA0\x80", {}), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_TRUE(isValidUtf8(sanitizeText("x\xF5\x80\x80\x80y\xE2\x82", {})));
}

TEST(TextTest, SanitizeCutsAtACodePointBoundary) {
  std::string euros;
  for (int i = 0; i < 10; ++i) {
    euros += "\xE2\x82\xAC";  // 3 bytes each
  }
  std::string out = sanitizeText(euros, {.max_bytes = 10});
  EXPECT_EQ(out.size(), 9U);
  EXPECT_TRUE(isValidUtf8(out));
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80 emoji and \xEF\xBF\xBD replacement"));
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("\xC0\x80"));
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace livery::whitelabel
