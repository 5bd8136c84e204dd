#include "whitelabel/svg_sanitizer.hpp"

#include <atomic>
#include <regex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "unit/whitelabel/fixtures.hpp"
#include "whitelabel/text.hpp"

namespace livery::whitelabel {
namespace {

using testing::readFixture;

// Substrings that must never survive sanitising, whatever the input (lower-cased check).
const char* const kNeverInOutput[] = {
    "script",  "javascript", "vbscript", "evil.example", "foreignobject", "iframe",  "<image",
    "feimage", "animate",    "<set",     "@import",      "expression",    "binding", "behavior",
    "data:",   "<a ",        "<a>",      "xhtml",        "inkscape",      "<!",      "<?",
};

void expectInert(const std::string& svg) {
  std::string lower = asciiLower(svg);
  for (const char* bad : kNeverInOutput) {
    EXPECT_EQ(lower.find(bad), std::string::npos) << "found '" << bad << "' in:\n" << svg;
  }
  static const std::regex kHandler(R"(\son[a-z]+\s*=)", std::regex::icase);
  EXPECT_FALSE(std::regex_search(svg, kHandler)) << svg;
  // Every url( is a same-document reference.
  static const std::regex kUrl(R"(url\(\s*['"]?([^)'"]*))", std::regex::icase);
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kUrl); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ((*it)[1].str().substr(0, 1), "#") << svg;
  }
}

SanitizedSvg sanitizeFixture(const std::string& name) {
  SvgSanitizer sanitizer;
  auto out = sanitizer.sanitize(readFixture(name));
  EXPECT_TRUE(out) << name << ": " << (out ? "" : out.error().client_message);
  return out ? std::move(*out) : SanitizedSvg{};
}

TEST(SvgSanitizerTest, KeepsABenignLogo) {
  SanitizedSvg out = sanitizeFixture("logo_ok.svg");
  expectInert(out.svg);
  EXPECT_TRUE(out.svg.starts_with(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\""));
  EXPECT_NE(out.svg.find("viewBox=\"0 0 120 40\""), std::string::npos);
  EXPECT_NE(out.svg.find("<linearGradient id=\"grad\""), std::string::npos);
  EXPECT_NE(out.svg.find("fill=\"url(#grad)\""), std::string::npos);
  EXPECT_NE(out.svg.find("<use xlink:href=\"#dot\""), std::string::npos);
  EXPECT_NE(out.svg.find("style=\"stop-color:#0f172a;stop-opacity:1\""), std::string::npos);
  EXPECT_NE(out.svg.find("<style>.mark { fill: url(#grad); }"), std::string::npos);
  EXPECT_NE(out.svg.find("<title>Acme &amp; Co</title>"), std::string::npos);
  EXPECT_NE(out.svg.find(">Acme</text>"), std::string::npos);
  EXPECT_EQ(out.removed_elements, 0U);
  EXPECT_EQ(out.removed_attributes, 1U);  // inkscape:version
}

TEST(SvgSanitizerTest, OutputIsAFixedPoint) {
  SvgSanitizer sanitizer;
  for (const char* name :
       {"logo_ok.svg", "style_injection.svg", "external_image.svg", "onload.svg"}) {
    auto once = sanitizer.sanitize(readFixture(name));
    ASSERT_TRUE(once) << name;
    auto twice = sanitizer.sanitize(once->svg);
    ASSERT_TRUE(twice) << name;
    EXPECT_EQ(twice->svg, once->svg) << name;
    EXPECT_FALSE(twice->changed()) << name;
  }
}

TEST(SvgSanitizerTest, RemovesScriptElements) {
  SanitizedSvg out = sanitizeFixture("script.svg");
  expectInert(out.svg);
  EXPECT_EQ(out.removed_elements, 2U);
  EXPECT_NE(out.svg.find("<rect width=\"10\" height=\"10\" fill=\"#ff0000\"/>"), std::string::npos);
}

TEST(SvgSanitizerTest, RemovesEventHandlers) {
  SanitizedSvg out = sanitizeFixture("onload.svg");
  expectInert(out.svg);
  EXPECT_EQ(out.removed_attributes, 5U);  // onload, onclick, onmouseover, ONLOAD, onbegin
  EXPECT_NE(out.svg.find("fill=\"#00ff00\""), std::string::npos);
  EXPECT_NE(out.svg.find("<circle r=\"3\""), std::string::npos);
}

TEST(SvgSanitizerTest, RemovesJavascriptUrlsInEverySpelling) {
  SanitizedSvg out = sanitizeFixture("xlink_javascript.svg");
  expectInert(out.svg);
  EXPECT_EQ(out.removed_elements, 1U);    // <a>
  EXPECT_EQ(out.removed_attributes, 4U);  // three hrefs and the url() fill
  EXPECT_NE(out.svg.find("<use/>"), std::string::npos);
}

TEST(SvgSanitizerTest, DropsAnyAttributeCarryingAScriptScheme) {
  SvgSanitizer sanitizer;
  auto out = sanitizer.sanitize(
      "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect class=\"javascript:alert(1)\" "
      "id=\"v\" values=\"vbscript:x\" d=\"data:text/html,x\"/></svg>");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->removed_attributes, 3U);
  EXPECT_NE(out->svg.find("<rect id=\"v\"/>"), std::string::npos) << out->svg;
}

TEST(SvgSanitizerTest, RemovesExternalReferences) {
  SanitizedSvg out = sanitizeFixture("external_image.svg");
  expectInert(out.svg);
  EXPECT_EQ(out.removed_elements, 3U);    // two <image>, <feImage>
  EXPECT_EQ(out.removed_attributes, 3U);  // external use href, remote fill and stroke
  EXPECT_NE(out.svg.find("<filter id=\"f\"/>"), std::string::npos);
}

TEST(SvgSanitizerTest, RejectsExternalEntities) {
  SvgSanitizer sanitizer;
  for (const char* name : {"xxe.svg", "xxe_utf16.svg", "billion_laughs.svg"}) {
    auto out = sanitizer.sanitize(readFixture(name));
    ASSERT_FALSE(out) << name;
    EXPECT_EQ(out.error().code, ErrorCode::kBadRequest) << name;
    EXPECT_EQ(out.error().client_message.find("passwd"), std::string::npos);
    EXPECT_EQ(out.error().client_message.find("lol"), std::string::npos);
  }
}

TEST(SvgSanitizerTest, RemovesForeignObjectAndForeignNamespaces) {
  SanitizedSvg fo = sanitizeFixture("foreign_object.svg");
  expectInert(fo.svg);
  EXPECT_NE(fo.svg.find("<circle cx=\"50\" cy=\"50\" r=\"40\" fill=\"#123456\"/>"),
            std::string::npos);

  SanitizedSvg ns = sanitizeFixture("html_namespace.svg");
  expectInert(ns.svg);
  EXPECT_EQ(ns.removed_elements, 2U);
  // The prefixed element is in the SVG namespace and is kept, written unprefixed.
  EXPECT_NE(ns.svg.find("<rect width=\"4\" height=\"4\" fill=\"#abcdef\"/>"), std::string::npos);
}

TEST(SvgSanitizerTest, FiltersStyleSheetsAndDeclarations) {
  SanitizedSvg out = sanitizeFixture("style_injection.svg");
  expectInert(out.svg);
  EXPECT_EQ(out.removed_elements, 4U);  // all four <style> sheets
  EXPECT_EQ(out.svg.find("<style>"), std::string::npos);
  EXPECT_NE(out.svg.find("style=\"fill:#00ff00;stroke:blue\""), std::string::npos);
  EXPECT_NE(out.svg.find("style=\"fill:red\""), std::string::npos);
  EXPECT_EQ(out.svg.find("u/**/rl"), std::string::npos);
}

TEST(SvgSanitizerTest, RemovesAnimationThatCouldRewriteLinks) {
  SanitizedSvg out = sanitizeFixture("animate_href.svg");
  expectInert(out.svg);
  EXPECT_NE(out.svg.find("<rect width=\"10\" height=\"10\"/>"), std::string::npos);
}

TEST(SvgSanitizerTest, RejectsDocumentsThatAreNotSvg) {
  SvgSanitizer sanitizer;
  auto html = sanitizer.sanitize(readFixture("not_svg_root.svg"));
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().code, ErrorCode::kBadRequest);
  for (std::string_view bad : {"",
                               "<svg",
                               "<svg><rect></svg>",
                               "not xml at all",
                               "<svg/><svg/>",
                               "<svg xmlns=\"http://www.w3.org/1999/xhtml\"/>"}) {
    EXPECT_FALSE(sanitizer.sanitize(bad)) << bad;
  }
}

TEST(SvgSanitizerTest, EnforcesSizeDepthAndElementLimits) {
  SvgSanitizer small({.max_bytes = 64, .max_elements = 10, .max_depth = 8});
  auto big = small.sanitize(std::string("<svg xmlns=\"http://www.w3.org/2000/svg\">") +
                            std::string(100, ' ') + "</svg>");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kPayloadTooLarge);

  SvgSanitizer limited({.max_bytes = 1 << 20, .max_elements = 50, .max_depth = 16});
  std::string deep = "<svg xmlns=\"http://www.w3.org/2000/svg\">";
  for (int i = 0; i < 20; ++i) {
    deep += "<g>";
  }
  for (int i = 0; i < 20; ++i) {
    deep += "</g>";
  }
  deep += "</svg>";
  auto d = limited.sanitize(deep);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kPayloadTooLarge);

  std::string wide = "<svg xmlns=\"http://www.w3.org/2000/svg\">";
  for (int i = 0; i < 60; ++i) {
    wide += "<rect/>";
  }
  wide += "</svg>";
  auto w = limited.sanitize(wide);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(SvgSanitizerTest, EscapesTextAndAttributeValues) {
  SvgSanitizer sanitizer;
  auto out = sanitizer.sanitize(
      "<svg xmlns=\"http://www.w3.org/2000/svg\"><text id=\"a&quot;b&amp;c\">1 &lt; 2 &amp;&amp; "
      "&lt;b&gt;</text></svg>");
  ASSERT_TRUE(out);
  EXPECT_EQ(
      out->svg,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">"
      "<text id=\"a&quot;b&amp;c\">1 &lt; 2 &amp;&amp; &lt;b&gt;</text></svg>");
}

TEST(SvgSanitizerTest, AcceptsSvgWithoutNamespaceDeclaration) {
  SvgSanitizer sanitizer;
  auto out =
      sanitizer.sanitize("<svg width=\"1\" height=\"1\"><rect width=\"1\" height=\"1\"/></svg>");
  ASSERT_TRUE(out);
  EXPECT_NE(out->svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
}

// One sanitiser shared by several threads (as the upload handler shares it): results are
// identical to the single-threaded ones (run under the tsan preset by CI).
TEST(SvgSanitizerTest, IsSafeToShareAcrossThreads) {
  SvgSanitizer sanitizer;
  const std::vector<std::string> inputs = {readFixture("logo_ok.svg"),
                                           readFixture("script.svg"),
                                           readFixture("style_injection.svg"),
                                           readFixture("xxe.svg")};
  std::vector<std::string> expected;
  for (const auto& in : inputs) {
    auto out = sanitizer.sanitize(in);
    expected.push_back(out ? out->svg : "<error>");
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::size_t k = static_cast<std::size_t>(t + i) % inputs.size();
        auto out = sanitizer.sanitize(inputs[k]);
        if ((out ? out->svg : "<error>") != expected[k]) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SvgSanitizerTest, ErrorsNeverEchoACanary) {
  SvgSanitizer sanitizer;
  std::string doc = std::string("<!DOCTYPE x [<!ENTITY c \"") + testing::kCanary + "\">]><svg/>";
  auto out = sanitizer.sanitize(doc);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().client_message.find("canary"), std::string::npos);
  EXPECT_EQ(out.error().log_detail.find("canary"), std::string::npos);
  auto broken = sanitizer.sanitize(std::string("<svg><") + testing::kCanary);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().client_message.find("canary"), std::string::npos);
  EXPECT_EQ(broken.error().log_detail.find("canary"), std::string::npos);
}

}  // namespace
}  // namespace livery::whitelabel
