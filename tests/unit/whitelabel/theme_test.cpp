#include "whitelabel/theme.hpp"

#include <regex>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "unit/whitelabel/fixtures.hpp"
#include "whitelabel/text.hpp"

namespace livery::whitelabel {
namespace {

storage::Branding acme() {
  storage::Branding b;
  b.tenant_id = "tnt_acme";
  b.display_name = "Acme";
  b.primary_color = "#ffd400";
  b.accent_color = "#0047ab";
  b.logo_asset = sha256Hex("logo");
  b.favicon_asset = sha256Hex("favicon");
  b.support_email = "help@acme.example";
  b.footer_text = "© Acme Ltd";
  return b;
}

std::string headerValue(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return v;
    }
  }
  return {};
}

std::size_t count(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string_view::npos;
       p = haystack.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

// The JSON between <script type="application/json" id="livery-branding"> and </script>.
std::string embeddedJson(const std::string& html) {
  std::string open = "<script type=\"application/json\" id=\"livery-branding\">";
  std::size_t a = html.find(open);
  std::size_t b = html.find("</script>", a);
  EXPECT_NE(a, std::string::npos);
  return html.substr(a + open.size(), b - a - open.size());
}

TEST(ThemeTest, ValidBrandingPassesSaveValidation) {
  EXPECT_TRUE(validateBranding(acme()));
  storage::Branding minimal;
  minimal.display_name = "X";
  EXPECT_TRUE(validateBranding(minimal));  // the model's default colours are valid
}

TEST(ThemeTest, HostileColoursAreRejectedAtSaveWithTheFieldNamed) {
  for (const auto& bad : testing::readFixtureLines("hostile_colors.txt")) {
    storage::Branding b = acme();
    b.primary_color = bad;
    auto r = validateBranding(b);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnprocessable);
    EXPECT_EQ(r.error().param, "primary_color");
    EXPECT_EQ(r.error().client_message.find(bad), std::string::npos);
    b = acme();
    b.accent_color = bad;
    ASSERT_FALSE(validateBranding(b)) << bad;
    EXPECT_EQ(validateBranding(b).error().param, "accent_color");
  }
}

TEST(ThemeTest, SaveValidationChecksEveryField) {
  auto param = [](storage::Branding b) {
    auto r = validateBranding(b);
    return r ? std::string() : r.error().param;
  };
  storage::Branding b = acme();
  b.display_name = " \t\x01 ";
  EXPECT_EQ(param(b), "display_name");
  b.display_name = std::string(101, 'x');
  EXPECT_EQ(param(b), "display_name");
  b.display_name = "bad \xFF utf8";
  EXPECT_EQ(param(b), "display_name");
  b = acme();
  for (std::string email : {"no-at",
                            "a@b",
                            "a@@b.com",
                            "a b@c.com",
                            "<x>@c.com",
                            "a@c..com",
                            "a@.c.com",
                            "x\"@c.com",
                            "a@c.com\r\nBcc: z@z.com"}) {
    b.support_email = email;
    EXPECT_EQ(param(b), "support_email") << email;
  }
  b = acme();
  b.footer_text = std::string(501, 'x');
  EXPECT_EQ(param(b), "footer_text");
  b = acme();
  b.logo_asset = "../../etc/passwd";
  EXPECT_EQ(param(b), "logo_asset");
  b = acme();
  b.favicon_asset = "https://evil.example/x.png";
  EXPECT_EQ(param(b), "favicon_asset");
}

TEST(ThemeTest, HostileDisplayNamesRenderAsText) {
  for (const auto& name : testing::readFixtureLines("hostile_display_names.txt")) {
    SCOPED_TRACE(name);
    storage::Branding b = acme();
    b.display_name = name;
    b.footer_text = name;
    ThemeModel m = makeThemeModel(b);
    std::string html = renderHtmlShell(m, {.scripts = {"/assets/app.js"}});
    // Only our own elements: one module script, the JSON block, one title, one img.
    EXPECT_EQ(count(html, "<script"), 2U);
    EXPECT_EQ(count(html, "</script>"), 2U);
    EXPECT_EQ(count(html, "<title>"), 1U);
    EXPECT_EQ(count(html, "</title>"), 1U);
    EXPECT_EQ(count(html, "<img"), 1U);
    EXPECT_EQ(html.find("alert(1)>"), std::string::npos);
    EXPECT_EQ(html.find("<img src=x"), std::string::npos);
    EXPECT_EQ(html.find("\"><script"), std::string::npos);
    EXPECT_EQ(html.find("\xE2\x80\xAE"), std::string::npos) << "bidi override kept";
    // The name still reaches the page, escaped, and the JSON block decodes to it exactly.
    EXPECT_NE(html.find(htmlEscape(m.display_name)), std::string::npos);
    boost::json::value doc = boost::json::parse(embeddedJson(html));
    EXPECT_EQ(doc.at("display_name").as_string(), m.display_name);
    // The theme is unaffected by the name.
    EXPECT_EQ(renderThemeCss(m), renderThemeCss(makeThemeModel(acme())));
  }
}

TEST(ThemeTest, ScriptInANameIsEscapedInTitleAltAndJson) {
  storage::Branding b = acme();
  b.display_name = "Acme <script>alert(1)</script>";
  std::string html = renderHtmlShell(makeThemeModel(b), {});
  EXPECT_NE(html.find("<title>Acme &lt;script&gt;alert(1)&lt;/script&gt;</title>"),
            std::string::npos);
  EXPECT_NE(html.find("alt=\"Acme &lt;script&gt;alert(1)&lt;/script&gt;\""), std::string::npos);
  EXPECT_NE(
      html.find("\"display_name\":\"Acme \\u003cscript\\u003ealert(1)\\u003c/script\\u003e\""),
      std::string::npos);
}

TEST(ThemeTest, StoredHostileColoursRenderAsTheDefaultAndCssHasOnlyFixedTokens) {
  static const std::regex kDeclaration(R"(--([a-z-]+):([^;{}]*);)");
  for (const auto& bad : testing::readFixtureLines("hostile_colors.txt")) {
    SCOPED_TRACE(bad);
    storage::Branding b = acme();
    b.primary_color = bad;  // a row edited behind the API's back
    b.accent_color = bad;
    ThemeModel m = makeThemeModel(b);
    EXPECT_EQ(toHex(m.palette.primary), kDefaultPrimary);
    EXPECT_EQ(toHex(m.palette.accent), kDefaultAccent);
    std::string css = renderThemeCss(m);
    EXPECT_EQ(css.find("url("), std::string::npos);
    EXPECT_EQ(css.find("evil"), std::string::npos);
    EXPECT_EQ(css.find('<'), std::string::npos);
    std::size_t declarations = 0;
    for (auto it = std::sregex_iterator(css.begin(), css.end(), kDeclaration);
         it != std::sregex_iterator();
         ++it) {
      ++declarations;
      std::string name = (*it)[1];
      std::string value = (*it)[2];
      if (name == "font-body") {
        EXPECT_EQ(value, fontStack(FontChoice::kSystem));
      } else {
        EXPECT_TRUE(std::regex_match(value, std::regex("#[0-9a-f]{6}"))) << name << "=" << value;
      }
    }
    EXPECT_EQ(declarations, 12U + 4U + 3U + 3U);  // palette, portal aliases, two dark blocks
    // Braces balance: three blocks plus the media query.
    EXPECT_EQ(count(css, "{"), 4U);
    EXPECT_EQ(count(css, "}"), 4U);
  }
}

TEST(ThemeTest, ThemeCssCarriesThePaletteAndDarkModeOverrides) {
  ThemeModel m = makeThemeModel(acme(), FontChoice::kSerif);
  std::string css = renderThemeCss(m);
  EXPECT_NE(css.find("--brand:#ffd400;"), std::string::npos);
  EXPECT_NE(css.find("--on-brand:#000000;"), std::string::npos);
  EXPECT_NE(css.find("--brand-text:" + toHex(m.palette.primary_text) + ";"), std::string::npos);
  EXPECT_NE(css.find("@media (prefers-color-scheme:dark)"), std::string::npos);
  EXPECT_NE(css.find(":root[data-theme=dark]{--brand-text:#ffd400;"), std::string::npos);
  EXPECT_NE(css.find(std::string("--font-body:") + std::string(fontStack(FontChoice::kSerif))),
            std::string::npos);
  EXPECT_GE(contrastRatio(m.palette.primary_text, kLightSurface), 4.5);
}

TEST(ThemeTest, ThemeCssCarriesThePortalAliases) {
  ThemeModel m = makeThemeModel(acme());
  std::string css = renderThemeCss(m);
  EXPECT_NE(css.find("--lv-primary:#ffd400;"), std::string::npos);
  EXPECT_NE(css.find("--lv-on-primary:#000000;"), std::string::npos);
  EXPECT_NE(css.find("--lv-accent:" + toHex(m.palette.accent) + ";"), std::string::npos);
  EXPECT_NE(css.find("--lv-on-accent:" + toHex(m.palette.on_accent) + ";"), std::string::npos);
}

TEST(ThemeTest, FontsComeFromTheCuratedList) {
  for (std::string_view name : {"system", "humanist", "serif", "rounded", "mono"}) {
    auto f = parseFontChoice(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(toString(*f), name);
    std::string_view stack = fontStack(*f);
    EXPECT_EQ(stack.find_first_of(";{}<>\\()"), std::string_view::npos) << stack;
  }
  for (std::string_view bad : {"", "Comic Sans", "url(https://evil.example/f.woff)", "system;x"}) {
    auto f = parseFontChoice(bad);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().param, "font");
  }
}

TEST(ThemeTest, BrandingJsonIsValidAndComplete) {
  ThemeModel m = makeThemeModel(acme());
  boost::json::value doc = boost::json::parse(renderBrandingJson(m));
  EXPECT_EQ(doc.at("tenant_id").as_string(), "tnt_acme");
  EXPECT_EQ(doc.at("display_name").as_string(), "Acme");
  EXPECT_EQ(doc.at("colors").at("primary").as_string(), "#ffd400");
  EXPECT_EQ(doc.at("colors").at("on_primary").as_string(), "#000000");
  EXPECT_EQ(doc.at("colors").at("primary_text").as_string(), toHex(m.palette.primary_text));
  EXPECT_EQ(doc.at("logo_url").as_string(), "/t/tnt_acme/assets/" + sha256Hex("logo"));
  EXPECT_EQ(doc.at("favicon_url").as_string(), "/t/tnt_acme/assets/" + sha256Hex("favicon"));
  EXPECT_EQ(doc.at("support_email").as_string(), "help@acme.example");
  EXPECT_EQ(doc.at("footer_text").as_string(), "© Acme Ltd");
  EXPECT_EQ(doc.at("font").as_string(), "system");
  // The portal's names (docs/API.md): tenant object and text_on_primary.
  EXPECT_EQ(doc.at("colors").at("text_on_primary").as_string(), "#000000");
  EXPECT_TRUE(doc.at("tenant").is_object());
  EXPECT_EQ(doc.at("tenant").at("slug").as_string(), "");
  EXPECT_EQ(doc.at("tenant").at("display_name").as_string(), "Acme");
  m.slug = "acme";
  EXPECT_EQ(boost::json::parse(renderBrandingJson(m)).at("tenant").at("slug").as_string(), "acme");
  // The platform's own theme names no tenant.
  storage::Branding platform;
  platform.display_name = "Livery";
  EXPECT_TRUE(
      boost::json::parse(renderBrandingJson(makeThemeModel(platform))).at("tenant").is_null());

  storage::Branding bare;
  bare.tenant_id = "tnt_bare";
  bare.support_email = "not an email";
  bare.logo_asset = "<script>";
  boost::json::value d2 = boost::json::parse(renderBrandingJson(makeThemeModel(bare)));
  EXPECT_TRUE(d2.at("logo_url").is_null());
  EXPECT_TRUE(d2.at("favicon_url").is_null());
  EXPECT_TRUE(d2.at("support_email").is_null());
}

TEST(ThemeTest, ShellLinksOnlySameOriginPathsAndTheTenantsOwnAssets) {
  ThemeModel m = makeThemeModel(acme());
  ShellOptions o;
  o.lang = "de\"><script>";
  o.page_title = "Chat";
  o.scripts = {"/assets/app.1234.js",
               "https://evil.example/x.js",
               "//evil.example/y.js",
               "javascript:alert(1)",
               "/ok\" onload=\"x"};
  o.stylesheets = {"/assets/app.css", "data:text/css,*{}"};
  std::string html = renderHtmlShell(m, o);
  EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(html.find("<title>Chat \xC2\xB7 Acme</title>"), std::string::npos);
  EXPECT_NE(html.find("<script type=\"module\" src=\"/assets/app.1234.js\"></script>"),
            std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/theme.css\">"), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/assets/app.css\">"), std::string::npos);
  EXPECT_NE(
      html.find("<link rel=\"icon\" href=\"/t/tnt_acme/assets/" + sha256Hex("favicon") + "\">"),
      std::string::npos);
  EXPECT_NE(html.find("<meta name=\"theme-color\" content=\"#ffd400\">"), std::string::npos);
  EXPECT_EQ(html.find("evil"), std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  EXPECT_EQ(html.find("data:"), std::string::npos);
  EXPECT_EQ(html.find("onload"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos) << "no inline style under style-src 'self'";
}

TEST(ThemeTest, ShellWithASurfaceIsThePortalMountPoint) {
  storage::Branding b = acme();
  b.display_name = "Acme <script>alert(1)</script>";
  ShellOptions o;
  o.surface = "workspace";
  o.scripts = {"/static/workspace.1.js"};
  std::string html = renderHtmlShell(makeThemeModel(b), o);
  EXPECT_NE(html.find("<div id=\"app\" data-surface=\"workspace\"></div>"), std::string::npos);
  EXPECT_EQ(html.find("brand-bar"), std::string::npos) << "the portal draws its own";
  EXPECT_EQ(html.find("<main"), std::string::npos);
  EXPECT_NE(html.find("<noscript><p class=\"noscript\">Acme &lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_EQ(count(html, "<script"), 2U);  // the module and the JSON block
  for (std::string_view bad : {"work space", "Workspace", "x\"onload=\"y", ""}) {
    o.surface = std::string(bad);
    std::string legacy = renderHtmlShell(makeThemeModel(acme()), o);
    EXPECT_EQ(legacy.find("data-surface"), std::string::npos) << bad;
    EXPECT_NE(legacy.find("<main id=\"app\"></main>"), std::string::npos) << bad;
  }
}

TEST(ThemeTest, ShellFallsBackToTheNeutralTitleWithoutAName) {
  storage::Branding b;
  b.tenant_id = "tnt_x";
  b.display_name = "\x01\x02";
  std::string html = renderHtmlShell(makeThemeModel(b), {});
  EXPECT_NE(html.find("<title>Workspace</title>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"brand-name\">Workspace</span>"), std::string::npos);
}

TEST(ThemeTest, TwoTenantsNeverShareRenderedOutput) {
  storage::Branding a = acme();
  storage::Branding b;
  b.tenant_id = "tnt_globex";
  b.display_name = "Globex";
  b.primary_color = "#e11d48";
  b.logo_asset = sha256Hex("globex-logo");
  std::string ha = renderHtmlShell(makeThemeModel(a), {});
  std::string hb = renderHtmlShell(makeThemeModel(b), {});
  EXPECT_EQ(hb.find("Acme"), std::string::npos);
  EXPECT_EQ(hb.find("tnt_acme"), std::string::npos);
  EXPECT_EQ(ha.find("Globex"), std::string::npos);
  EXPECT_EQ(ha.find("tnt_globex"), std::string::npos);
  EXPECT_NE(renderThemeCss(makeThemeModel(a)), renderThemeCss(makeThemeModel(b)));
}

TEST(ThemeTest, PerHostDocumentsVaryByHostAndAreRevalidated) {
  ThemeModel m = makeThemeModel(acme());
  std::string css = renderThemeCss(m);
  for (ThemeDocument d :
       {ThemeDocument::kHtmlShell, ThemeDocument::kThemeCss, ThemeDocument::kBrandingJson}) {
    HeaderList h = themeResponseHeaders(d, css);
    EXPECT_EQ(headerValue(h, "Vary"), "Host");
    EXPECT_EQ(headerValue(h, "Cache-Control"), "no-cache");
    EXPECT_EQ(headerValue(h, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(headerValue(h, "ETag"), strongEtag(css));
  }
  EXPECT_EQ(headerValue(themeResponseHeaders(ThemeDocument::kThemeCss, css), "Content-Type"),
            "text/css; charset=utf-8");
  HeaderList shell = themeResponseHeaders(ThemeDocument::kHtmlShell, "x");
  EXPECT_EQ(headerValue(shell, "Content-Type"), "text/html; charset=utf-8");
  std::string csp = headerValue(shell, "Content-Security-Policy");
  EXPECT_EQ(csp, shellContentSecurityPolicy());
  for (std::string_view directive : {"default-src 'self'",
                                     "script-src 'self'",
                                     "style-src 'self'",
                                     "object-src 'none'",
                                     "frame-ancestors 'none'",
                                     "base-uri 'none'"}) {
    EXPECT_NE(csp.find(directive), std::string::npos) << directive;
  }
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_NE(strongEtag("a"), strongEtag("b"));
  EXPECT_EQ(strongEtag("a").size(), 34U);
}

}  // namespace
}  // namespace livery::whitelabel
