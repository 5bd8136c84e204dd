// The public pages and documents of the white-label layer on a real Gateway (issue 8 items 1, 2
// and 4, the serving side of issue 9): host → tenant, the portal shells with the embedded
// bundle, /theme.css and /branding.json, brand assets, caching headers, the neutral 404 and the
// custom-domain challenge path. Set-up goes through the control plane and the stores exactly as
// the tenant API does (validate, then store, then refresh this node's indexes).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "control/control_plane.hpp"
#include "portal/assets.hpp"
#include "storage/stores.hpp"
#include "support/gateway_harness.hpp"
#include "support/services.hpp"
#include "unit/whitelabel/fixtures.hpp"
#include "whitelabel/asset.hpp"
#include "whitelabel/color.hpp"
#include "whitelabel/domain_verification.hpp"
#include "whitelabel/text.hpp"
#include "whitelabel/theme.hpp"

namespace livery {
namespace {

using testing::GatewayHarness;
using testing::HeaderList;
using testing::HttpResult;
using whitelabel::testing::kCanary;
using whitelabel::testing::readFixture;
using whitelabel::testing::readFixtureLines;

std::size_t count(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string between(std::string_view text, std::string_view open, std::string_view close) {
  auto a = text.find(open);
  if (a == std::string_view::npos) {
    return {};
  }
  a += open.size();
  auto b = text.find(close, a);
  return b == std::string_view::npos ? std::string() : std::string(text.substr(a, b - a));
}

std::string titleOf(std::string_view html) {
  return between(html, "<title>", "</title>");
}

// The JSON of <script type="application/json" id="livery-branding">, as the browser reads it.
boost::json::value embeddedBranding(std::string_view html) {
  return boost::json::parse(
      between(html, "<script type=\"application/json\" id=\"livery-branding\">", "</script>"));
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// ---- WCAG 2.x contrast, written out here independently of whitelabel/color.cpp ----------------

struct Colour {
  int r = 0;
  int g = 0;
  int b = 0;
};

Colour parseColour(std::string_view hex) {
  EXPECT_TRUE(std::regex_match(std::string(hex), std::regex("#[0-9a-f]{6}"))) << hex;
  auto channel = [&](std::size_t at) {
    return std::stoi(std::string(hex.substr(at, 2)), nullptr, 16);
  };
  return {channel(1), channel(3), channel(5)};
}

double luminance(Colour c) {
  auto lin = [](int v) {
    double s = v / 255.0;
    return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

double contrast(std::string_view a, std::string_view b) {
  double la = luminance(parseColour(a));
  double lb = luminance(parseColour(b));
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// name → value of every `--name:#rrggbb;` declaration in one CSS block.
std::map<std::string, std::string> colourVariables(const std::string& block) {
  static const std::regex kVar(R"(--([a-z-]+):(#[0-9a-f]{6});)");
  std::map<std::string, std::string> out;
  for (auto it = std::sregex_iterator(block.begin(), block.end(), kVar);
       it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

// ---- the fixture -----------------------------------------------------------------------------

struct TenantBrand {
  storage::Tenant tenant;
  storage::Branding branding;
  std::string logo_hash;
  std::string favicon_hash;
  std::string host() const { return tenant.slug + ".localhost"; }
};

class PagesTest : public ::testing::Test {
 protected:
  HttpResult get(const std::string& host, const std::string& path, HeaderList extra = {}) {
    extra.emplace_back("Host", host);
    return client_.get(path, extra);
  }

  storage::Tenant createTenant(const std::string& slug, const std::string& display_name) {
    auto t = h_.gateway().control().createTenant(control::Actor::cli(), {slug, display_name, ""});
    EXPECT_TRUE(t) << slug;
    h_.refresh();
    return *t;
  }

  // Saves branding as the tenant API does: validate, store, refresh this node.
  Result<void> saveBranding(const storage::Branding& b) {
    if (auto valid = whitelabel::validateBranding(b); !valid) {
      return valid.error();
    }
    auto saved = h_.gateway().stores().branding.upsert(b);
    if (!saved) {
      return saved.error();
    }
    h_.refresh();
    return {};
  }

  // Uploads an image as the tenant API does: validate (type from the bytes, SVG sanitised),
  // then store the validated bytes. Returns the content hash.
  Result<std::string> upload(const std::string& tenant_id,
                             whitelabel::AssetKind kind,
                             std::string_view bytes) {
    auto valid = validator_.validate(kind, bytes);
    if (!valid) {
      return valid.error();
    }
    auto stored = h_.gateway().stores().assets.put(tenant_id, valid->content_type, valid->bytes);
    if (!stored) {
      return stored.error();
    }
    return stored->hash;
  }

  TenantBrand brandedTenant(const std::string& slug,
                            const std::string& name,
                            const std::string& primary,
                            const std::string& logo_fixture,
                            const std::string& favicon_fixture) {
    TenantBrand t;
    t.tenant = createTenant(slug, slug);
    auto logo = upload(t.tenant.id, whitelabel::AssetKind::kLogo, readFixture(logo_fixture));
    EXPECT_TRUE(logo);
    auto favicon =
        upload(t.tenant.id, whitelabel::AssetKind::kFavicon, readFixture(favicon_fixture));
    EXPECT_TRUE(favicon);
    t.logo_hash = logo ? *logo : "";
    t.favicon_hash = favicon ? *favicon : "";
    t.branding.tenant_id = t.tenant.id;
    t.branding.display_name = name;
    t.branding.primary_color = primary;
    t.branding.accent_color = "#111827";
    t.branding.logo_asset = t.logo_hash;
    t.branding.favicon_asset = t.favicon_hash;
    t.branding.support_email = "help@" + slug + ".test";
    t.branding.footer_text = "(c) " + name;
    EXPECT_TRUE(saveBranding(t.branding));
    return t;
  }

  TenantBrand northwind() {
    return brandedTenant("northwind", "Northwind Writer", "#b91c1c", "python.png", "python.jpg");
  }
  TenantBrand contoso() {
    // Distinct files from northwind's, so no content hash is shared between the two.
    return brandedTenant("contoso", "Contoso Assistant", "#1d4ed8", "python.webp", "python.webp");
  }

  GatewayHarness h_;
  testing::TestHttpClient client_ = h_.client();
  whitelabel::AssetValidator validator_;
};

void expectShellHeaders(const HttpResult& r) {
  EXPECT_EQ(r.headers.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.headers.get("content-security-policy"), whitelabel::shellContentSecurityPolicy());
  EXPECT_EQ(r.headers.get("vary"), "Host");
  EXPECT_EQ(r.headers.get("cache-control"), "no-cache");
  EXPECT_EQ(r.headers.get("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.headers.get("x-frame-options"), "DENY");
  EXPECT_FALSE(r.headers.get("etag").empty());
}

// ---- two tenants -----------------------------------------------------------------------------

TEST_F(PagesTest, TwoTenantsPagesCarryTheirOwnBrandAndNothingOfTheOther) {
  TenantBrand a = northwind();
  TenantBrand b = contoso();
  // A provider key canary: it must never reach a page, a document or the log.
  h_.addCredential(a.tenant.id, "openai", kCanary);
  h_.addCredential(b.tenant.id, "openai", kCanary);

  for (const auto& [me, other] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    SCOPED_TRACE(me->tenant.slug);
    std::string logo_url = "/t/" + me->tenant.id + "/assets/" + me->logo_hash;
    std::string favicon_url = "/t/" + me->tenant.id + "/assets/" + me->favicon_hash;

    auto ws = get(me->host(), "/");
    ASSERT_EQ(ws.status, 200) << ws.body;
    expectShellHeaders(ws);
    EXPECT_EQ(titleOf(ws.body), me->branding.display_name);
    EXPECT_TRUE(contains(ws.body, "<div id=\"app\" data-surface=\"workspace\"></div>"));
    EXPECT_TRUE(contains(ws.body, "<link rel=\"icon\" href=\"" + favicon_url + "\">"));
    EXPECT_TRUE(contains(
        ws.body, "<meta name=\"theme-color\" content=\"" + me->branding.primary_color + "\">"));
    EXPECT_TRUE(contains(ws.body, "<link rel=\"stylesheet\" href=\"/theme.css\">"));
    auto brand = embeddedBranding(ws.body);
    EXPECT_EQ(brand.at("logo_url").as_string(), logo_url);
    EXPECT_EQ(brand.at("tenant").at("slug").as_string(), me->tenant.slug);

    auto console = get(me->host(), "/console");
    ASSERT_EQ(console.status, 200) << console.body;
    expectShellHeaders(console);
    EXPECT_EQ(titleOf(console.body), "Console \xC2\xB7 " + me->branding.display_name);
    EXPECT_TRUE(contains(console.body, "data-surface=\"console\""));

    auto css = get(me->host(), "/theme.css");
    ASSERT_EQ(css.status, 200);
    EXPECT_EQ(css.headers.get("content-type"), "text/css; charset=utf-8");
    EXPECT_TRUE(contains(css.body, "--lv-primary:" + me->branding.primary_color + ";"));
    EXPECT_TRUE(contains(css.body, "--brand:" + me->branding.primary_color + ";"));

    auto json = get(me->host(), "/branding.json");
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(json.headers.get("content-type"), "application/json");
    auto doc = boost::json::parse(json.body);
    EXPECT_EQ(doc.at("tenant").at("display_name").as_string(), me->branding.display_name);
    EXPECT_EQ(doc.at("tenant").at("slug").as_string(), me->tenant.slug);
    EXPECT_EQ(doc.at("tenant_id").as_string(), me->tenant.id);
    EXPECT_EQ(doc.at("colors").at("primary").as_string(), me->branding.primary_color);
    EXPECT_EQ(doc.at("colors").at("text_on_primary").as_string(), "#ffffff");
    EXPECT_EQ(doc.at("logo_url").as_string(), logo_url);
    EXPECT_EQ(doc.at("favicon_url").as_string(), favicon_url);
    EXPECT_EQ(doc.at("support_email").as_string(), me->branding.support_email);

    // The linked logo is served on the tenant's own host, byte for byte.
    auto logo = get(me->host(), logo_url);
    ASSERT_EQ(logo.status, 200);
    auto stored = h_.gateway().stores().assets.get(me->tenant.id, me->logo_hash);
    ASSERT_TRUE(stored);
    EXPECT_EQ(logo.body, stored->bytes);
    EXPECT_EQ(logo.headers.get("content-type"), stored->content_type);

    // Nothing of the other tenant anywhere, and never the canary.
    for (const auto* r : {&ws, &console, &css, &json}) {
      for (const std::string& leak : {other->branding.display_name,
                                      other->branding.primary_color,
                                      other->tenant.id,
                                      other->tenant.slug,
                                      other->logo_hash,
                                      other->favicon_hash,
                                      other->branding.support_email,
                                      std::string(kCanary)}) {
        EXPECT_FALSE(contains(r->body, leak)) << leak;
      }
    }
  }
  EXPECT_FALSE(contains(h_.logs(), kCanary));
}

TEST_F(PagesTest, ShellsLoadTheRealEmbeddedBundle) {
  if (portal::embeddedAssets().empty()) {
    // As in unit/portal: a C++-only build skips; make test (which builds the web first) fails.
    if (testing::servicesRequired()) {
      FAIL() << "web/dist was not embedded; run tools/build_web.sh before the C++ build";
    }
    GTEST_SKIP() << "web/dist not built; run tools/build_web.sh and rebuild";
  }
  TenantBrand a = northwind();
  struct Case {
    std::string host;
    std::string path;
    std::string entry;
  };
  std::set<std::string> fetched;
  for (const Case& c : {Case{a.host(), "/", "workspace.js"},
                        Case{a.host(), "/console", "console.js"},
                        Case{"localhost", "/operator", "operator.js"}}) {
    SCOPED_TRACE(c.path);
    auto shell = get(c.host, c.path);
    ASSERT_EQ(shell.status, 200);
    auto script = portal::entryUrl(c.entry);
    auto style = portal::entryUrl("app.css");
    ASSERT_TRUE(script && style);
    EXPECT_TRUE(contains(shell.body,
                         "<script type=\"module\" src=\"" + std::string(*script) + "\"></script>"));
    EXPECT_TRUE(
        contains(shell.body, "<link rel=\"stylesheet\" href=\"" + std::string(*style) + "\">"));
    // Only our two scripts: the entry module and the branding JSON; no inline style.
    EXPECT_EQ(count(shell.body, "<script"), 2U);
    EXPECT_FALSE(contains(shell.body, "style="));

    // Every /static/ file the shell links, and every module those import, is served.
    std::vector<std::string> queue;
    static const std::regex kLinked(R"re((?:src|href)="(/static/[^"]+)")re");
    for (auto it = std::sregex_iterator(shell.body.begin(), shell.body.end(), kLinked);
         it != std::sregex_iterator();
         ++it) {
      queue.push_back((*it)[1]);
    }
    EXPECT_EQ(queue.size(), 2U);
    while (!queue.empty()) {
      std::string path = queue.back();
      queue.pop_back();
      if (!fetched.insert(path).second) {
        continue;
      }
      SCOPED_TRACE(path);
      const portal::EmbeddedAsset* asset = portal::findAsset(path);
      ASSERT_NE(asset, nullptr);
      auto r = get(c.host, path);
      ASSERT_EQ(r.status, 200);
      EXPECT_EQ(r.body, asset->bytes());
      EXPECT_EQ(r.headers.get("content-type"), asset->content_type);
      EXPECT_EQ(r.headers.get("cache-control"), "public, max-age=31536000, immutable");
      EXPECT_EQ(r.headers.get("x-content-type-options"), "nosniff");
      EXPECT_EQ(r.headers.get("etag"), asset->etag);
      if (path.ends_with(".js")) {
        EXPECT_EQ(r.headers.get("content-type"), "text/javascript; charset=utf-8");
        static const std::regex kImport(R"re("\./([A-Za-z0-9._-]+\.js)")re");
        for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), kImport);
             it != std::sregex_iterator();
             ++it) {
          queue.push_back("/static/" + std::string((*it)[1]));
        }
      } else {
        EXPECT_EQ(r.headers.get("content-type"), "text/css; charset=utf-8");
      }
      // Revalidation: 304 without a body, weak or listed validators included.
      for (const std::string& inm : {std::string(asset->etag),
                                     "W/" + std::string(asset->etag),
                                     "\"x\", " + std::string(asset->etag)}) {
        auto again = get(c.host, path, {{"If-None-Match", inm}});
        EXPECT_EQ(again.status, 304) << inm;
        EXPECT_TRUE(again.body.empty());
        EXPECT_EQ(again.headers.get("etag"), asset->etag);
      }
      EXPECT_EQ(get(c.host, path, {{"If-None-Match", "\"other\""}}).status, 200);
    }
  }
  EXPECT_GT(fetched.size(), 4U) << "the entries import shared chunks";

  // Static files are the same on every host; unknown or crafted paths are 404.
  auto any = *portal::entryUrl("app.css");
  EXPECT_EQ(get("nobody.localhost", std::string(any)).status, 200);
  for (std::string_view bad : {"/static/",
                               "/static/nope.js",
                               "/static/../manifest.json",
                               "/static/%61pp.css",
                               "/static/app.css"}) {
    auto r = get(a.host(), std::string(bad));
    EXPECT_EQ(r.status, 404) << bad;
    EXPECT_EQ(r.headers.get("cache-control"), "no-store") << bad;
  }
  auto head = client_.request("HEAD", std::string(any), {}, {{"Host", a.host()}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.get("content-length"),
            std::to_string(portal::findAsset(any)->bytes().size()));
}

TEST_F(PagesTest, ClientRoutesServeTheSameShell) {
  TenantBrand a = northwind();
  auto console = get(a.host(), "/console");
  ASSERT_EQ(console.status, 200);
  for (std::string_view path : {"/console/", "/console/keys", "/console/a/b?x=1"}) {
    auto r = get(a.host(), std::string(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, console.body) << path;
  }
  auto op = get("localhost", "/operator");
  ASSERT_EQ(op.status, 200);
  for (std::string_view path : {"/operator/", "/operator/tenants"}) {
    auto r = get("127.0.0.1", std::string(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, op.body) << path;
  }
  // Pages are GET (and HEAD) only.
  auto post = client_.post("/", "x", {{"Host", a.host()}});
  EXPECT_EQ(post.status, 405);
}

// ---- hostile fixtures ------------------------------------------------------------------------

// The checks every page and document must pass for a tenant whose name is `name`.
void expectInert(const std::string& name,
                 const HttpResult& ws,
                 const HttpResult& console,
                 const HttpResult& css,
                 const HttpResult& json) {
  std::string shown = whitelabel::sanitizeText(name, {.max_bytes = 100});
  for (const auto* shell : {&ws, &console}) {
    ASSERT_EQ(shell->status, 200);
    EXPECT_EQ(count(shell->body, "<script"), 2U) << "only the bundle and the JSON block";
    EXPECT_EQ(count(shell->body, "</script>"), 2U);
    EXPECT_EQ(count(shell->body, "<title>"), 1U);
    EXPECT_EQ(count(shell->body, "<img"), 0U);
    EXPECT_FALSE(contains(shell->body, "<img src=x"));
    if (contains(name, "<")) {
      EXPECT_FALSE(contains(shell->body, name)) << "raw markup reached the page";
    }
    EXPECT_FALSE(contains(shell->body, "\xE2\x80\xAE")) << "bidi override kept";
    EXPECT_TRUE(contains(titleOf(shell->body), whitelabel::htmlEscape(shown)));
    EXPECT_EQ(embeddedBranding(shell->body).at("display_name").as_string(), shown);
  }
  ASSERT_EQ(json.status, 200);
  auto doc = boost::json::parse(json.body);
  EXPECT_EQ(doc.at("display_name").as_string(), shown);
  EXPECT_EQ(doc.at("tenant").at("display_name").as_string(), shown);
  ASSERT_EQ(css.status, 200);
  EXPECT_FALSE(contains(css.body, "<"));
  EXPECT_FALSE(contains(css.body, "script"));
  EXPECT_FALSE(contains(css.body, "alert"));
}

TEST_F(PagesTest, HostileDisplayNamesRenderAsTextInEveryPageAndDocument) {
  auto names = readFixtureLines("hostile_display_names.txt");
  ASSERT_GE(names.size(), 4U);
  storage::Tenant t = createTenant("hostile", "placeholder");
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    storage::Branding b;
    b.tenant_id = t.id;
    b.display_name = name;
    b.footer_text = name;
    // Markup in a name is text: accepted at save, escaped on output.
    ASSERT_TRUE(saveBranding(b));
    expectInert(name,
                get("hostile.localhost", "/"),
                get("hostile.localhost", "/console"),
                get("hostile.localhost", "/theme.css"),
                get("hostile.localhost", "/branding.json"));
  }
  // The tenant's own display name (no branding row) takes the same path.
  storage::Tenant bare = createTenant("bare", names.front());
  expectInert(names.front(),
              get("bare.localhost", "/"),
              get("bare.localhost", "/console"),
              get("bare.localhost", "/theme.css"),
              get("bare.localhost", "/branding.json"));
  EXPECT_FALSE(bare.id.empty());
}

TEST_F(PagesTest, HostileColoursAreRefusedAtSaveAndNeverReachTheTheme) {
  TenantBrand a = northwind();
  auto before = get(a.host(), "/theme.css");
  ASSERT_EQ(before.status, 200);
  for (const std::string& colour : readFixtureLines("hostile_colors.txt")) {
    SCOPED_TRACE(colour);
    for (bool primary : {true, false}) {
      storage::Branding b = a.branding;
      (primary ? b.primary_color : b.accent_color) = colour;
      auto saved = saveBranding(b);
      ASSERT_FALSE(saved);
      EXPECT_EQ(saved.error().param, primary ? "primary_color" : "accent_color");
      EXPECT_FALSE(contains(saved.error().client_message, colour));
      // A write that skips validation is refused by the store too.
      EXPECT_FALSE(h_.gateway().stores().branding.upsert(b));
    }
  }
  h_.refresh();
  auto after = get(a.host(), "/theme.css");
  EXPECT_EQ(after.body, before.body);
  for (std::string_view bad : {"url(", "evil", "<", "expression", "}*", "attacker"}) {
    EXPECT_FALSE(contains(after.body, bad)) << bad;
  }
}

TEST_F(PagesTest, HostileSvgLogosAreSanitisedOrRefusedAndServedInert) {
  storage::Tenant t = createTenant("svg", "SVG Co");
  for (std::string_view fixture : {"script.svg",
                                   "onload.svg",
                                   "foreign_object.svg",
                                   "xlink_javascript.svg",
                                   "animate_href.svg",
                                   "external_image.svg",
                                   "html_namespace.svg",
                                   "style_injection.svg"}) {
    SCOPED_TRACE(fixture);
    auto hash = upload(t.id, whitelabel::AssetKind::kLogo, readFixture(std::string(fixture)));
    ASSERT_TRUE(hash);
    storage::Branding b;
    b.tenant_id = t.id;
    b.display_name = "SVG Co";
    b.logo_asset = *hash;
    ASSERT_TRUE(saveBranding(b));
    auto doc = boost::json::parse(get("svg.localhost", "/branding.json").body);
    std::string url(doc.at("logo_url").as_string());
    auto logo = get("svg.localhost", url);
    ASSERT_EQ(logo.status, 200);
    EXPECT_EQ(logo.headers.get("content-type"), "image/svg+xml");
    EXPECT_EQ(logo.headers.get("x-content-type-options"), "nosniff");
    EXPECT_EQ(logo.headers.get("content-security-policy"),
              "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    EXPECT_EQ(logo.headers.get("cache-control"), "public, max-age=31536000, immutable");
    std::string lower = whitelabel::asciiLower(logo.body);
    for (std::string_view bad : {"<script",
                                 "onload",
                                 "onclick",
                                 "onbegin",
                                 "javascript:",
                                 "foreignobject",
                                 "<iframe",
                                 "evil.example",
                                 "@import",
                                 "expression("}) {
      EXPECT_FALSE(contains(lower, bad)) << bad;
    }
  }
  // Documents that cannot be made safe are refused at upload and never stored.
  for (std::string_view fixture : {"xxe.svg",
                                   "xxe_utf16.svg",
                                   "billion_laughs.svg",
                                   "not_svg_root.svg",
                                   "polyglot_png_html.png",
                                   "polyglot_gif_js.svg",
                                   "python.gif"}) {
    EXPECT_FALSE(upload(t.id, whitelabel::AssetKind::kLogo, readFixture(std::string(fixture))))
        << fixture;
  }

  // A script-carrying SVG written behind the API's back is still inert when opened directly
  // (opaque origin, nothing loads); a row whose type is not an image is never served.
  auto& assets = h_.gateway().stores().assets;
  auto raw = assets.put(t.id, "image/svg+xml", readFixture("script.svg"));
  ASSERT_TRUE(raw);
  auto served = get("svg.localhost", "/t/" + t.id + "/assets/" + raw->hash);
  ASSERT_EQ(served.status, 200);
  EXPECT_TRUE(contains(served.headers.get("content-security-policy"), "sandbox"));
  EXPECT_EQ(served.headers.get("x-content-type-options"), "nosniff");
  auto html = assets.put(t.id, "text/html", "<script>alert(1)</script>");
  ASSERT_TRUE(html);
  EXPECT_EQ(get("svg.localhost", "/t/" + t.id + "/assets/" + html->hash).status, 404);
  EXPECT_EQ(get("svg.localhost", "/assets/" + t.id + "/" + html->hash).status, 404);
}

TEST_F(PagesTest, FixtureColoursGiveAaTextContrastInThemeCss) {
  // Brand colours from the research notes (ux.md §4.4) and the edge cases of the black/white
  // choice (mid greys, pure primaries, black and white themselves).
  auto colours =
      readLines(std::string(LIVERY_SOURCE_DIR) + "/tests/integration/pages/brand_colors.txt");
  ASSERT_GE(colours.size(), 10U);
  storage::Tenant t = createTenant("colours", "Colours");
  for (std::size_t i = 0; i < colours.size(); ++i) {
    storage::Branding b;
    b.tenant_id = t.id;
    b.display_name = "Colours";
    b.primary_color = colours[i];
    b.accent_color = colours[colours.size() - 1 - i];
    SCOPED_TRACE(b.primary_color + " / " + b.accent_color);
    ASSERT_TRUE(saveBranding(b));
    auto css = get("colours.localhost", "/theme.css");
    ASSERT_EQ(css.status, 200);
    auto root = colourVariables(between(css.body, ":root{", "}"));
    auto dark = colourVariables(between(css.body, ":root[data-theme=dark]{", "}"));
    EXPECT_EQ(root.at("brand"), b.primary_color);
    EXPECT_EQ(root.at("lv-primary"), b.primary_color);
    EXPECT_EQ(root.at("accent"), b.accent_color);
    // Text on brand fills (every state) and on the accent fill: AA for body text.
    for (const auto& [fg, bg] : {std::pair{"on-brand", "brand"},
                                 std::pair{"on-brand-hover", "brand-hover"},
                                 std::pair{"on-brand-active", "brand-active"},
                                 std::pair{"lv-on-primary", "lv-primary"},
                                 std::pair{"on-accent", "accent"},
                                 std::pair{"lv-on-accent", "lv-accent"}}) {
      EXPECT_GE(contrast(root.at(fg), root.at(bg)), 4.5) << fg << " on " << bg;
    }
    // Brand colour used as text on the light page and on the dark page.
    EXPECT_GE(contrast(root.at("brand-text"), "#ffffff"), 4.5);
    EXPECT_GE(contrast(root.at("accent-text"), "#ffffff"), 4.5);
    EXPECT_GE(contrast(dark.at("brand-text"), "#111111"), 4.5);
    EXPECT_GE(contrast(dark.at("accent-text"), "#111111"), 4.5);
    // Outlines: 3:1 (WCAG 1.4.11).
    EXPECT_GE(contrast(root.at("brand-border"), "#ffffff"), 3.0);
    // The branding document agrees with the stylesheet.
    auto doc = boost::json::parse(get("colours.localhost", "/branding.json").body);
    EXPECT_EQ(doc.at("colors").at("text_on_primary").as_string(), root.at("lv-on-primary"));
  }
}

// ---- caching ---------------------------------------------------------------------------------

TEST_F(PagesTest, PerHostDocumentsVaryByHostAndRevalidate) {
  TenantBrand a = northwind();
  TenantBrand b = contoso();
  for (std::string_view path : {"/", "/console", "/theme.css", "/branding.json"}) {
    SCOPED_TRACE(path);
    auto ra = get(a.host(), std::string(path));
    auto rb = get(b.host(), std::string(path));
    ASSERT_EQ(ra.status, 200);
    ASSERT_EQ(rb.status, 200);
    EXPECT_EQ(ra.headers.get("vary"), "Host");
    EXPECT_EQ(ra.headers.get("cache-control"), "no-cache");
    EXPECT_EQ(ra.headers.get("x-content-type-options"), "nosniff");
    std::string etag(ra.headers.get("etag"));
    ASSERT_TRUE(std::regex_match(etag, std::regex("\"[0-9a-f]{32}\""))) << etag;
    EXPECT_NE(etag, rb.headers.get("etag")) << "same path, other tenant, other validator";
    EXPECT_EQ(get(a.host(), std::string(path)).headers.get("etag"), etag) << "stable";

    for (const std::string& inm : {etag, "W/" + etag, "\"nope\", " + etag}) {
      auto nm = get(a.host(), std::string(path), {{"If-None-Match", inm}});
      EXPECT_EQ(nm.status, 304) << inm;
      EXPECT_TRUE(nm.body.empty());
      EXPECT_EQ(nm.headers.get("etag"), etag);
      EXPECT_EQ(nm.headers.get("vary"), "Host");
      EXPECT_EQ(nm.headers.get("cache-control"), "no-cache");
    }
    // One tenant's validator never earns a 304 on the other's host.
    auto cross = get(b.host(), std::string(path), {{"If-None-Match", etag}});
    EXPECT_EQ(cross.status, 200);
    EXPECT_EQ(cross.body, rb.body);
  }

  // A branding change gives new validators; the old ones get the new body.
  std::map<std::string, std::string> old_etags;
  for (std::string path : {"/", "/theme.css", "/branding.json"}) {
    old_etags[path] = std::string(get(a.host(), path).headers.get("etag"));
  }
  a.branding.primary_color = "#047857";
  a.branding.display_name = "Northwind Renamed";
  ASSERT_TRUE(saveBranding(a.branding));
  for (const auto& [path, old] : old_etags) {
    auto r = get(a.host(), path, {{"If-None-Match", old}});
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_NE(r.headers.get("etag"), old) << path;
    EXPECT_TRUE(contains(r.body, path == "/theme.css" ? "#047857" : "Northwind Renamed")) << path;
  }
}

TEST_F(PagesTest, BrandAssetsAreImmutableAndRevalidate) {
  TenantBrand a = northwind();
  std::string url = "/t/" + a.tenant.id + "/assets/" + a.logo_hash;
  auto r = get(a.host(), url);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("etag"), "\"" + a.logo_hash + "\"");
  EXPECT_EQ(r.headers.get("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r.headers.get("content-type"), "image/png");
  EXPECT_EQ(r.headers.get("cross-origin-resource-policy"), "same-site");
  auto nm = get(a.host(), url, {{"If-None-Match", "\"" + a.logo_hash + "\""}});
  EXPECT_EQ(nm.status, 304);
  EXPECT_TRUE(nm.headers.get("content-type").empty());
  // No 304 for an asset this tenant does not have, whatever validator the client sends.
  std::string missing = "/t/" + a.tenant.id + "/assets/" + std::string(64, 'a');
  EXPECT_EQ(get(a.host(), missing, {{"If-None-Match", "*"}}).status, 404);
  EXPECT_TRUE(nm.body.empty());
  EXPECT_EQ(nm.headers.get("cache-control"), "public, max-age=31536000, immutable");
  auto head = client_.request("HEAD", url, {}, {{"Host", a.host()}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.get("content-length"), std::to_string(r.body.size()));
  EXPECT_TRUE(head.body.empty());
}

// ---- host mapping ----------------------------------------------------------------------------

TEST_F(PagesTest, UnknownHostsGetTheSameNeutral404) {
  TenantBrand a = northwind();
  TenantBrand b = contoso();
  storage::Domain pending;
  pending.host = "pending.northwind.test";
  pending.tenant_id = a.tenant.id;
  pending.verification_token = *whitelabel::newVerificationToken();
  ASSERT_TRUE(h_.gateway().stores().domains.insert(pending));
  h_.refresh();

  std::string page_body;
  std::string doc_body;
  auto leaks = [&](const std::string& body) {
    for (const TenantBrand* t : {&a, &b}) {
      for (const std::string& s : {t->branding.display_name,
                                   t->tenant.id,
                                   t->tenant.slug,
                                   t->branding.primary_color,
                                   t->logo_hash}) {
        EXPECT_FALSE(contains(body, s)) << s;
      }
    }
  };
  for (std::string_view host : {"nobody.localhost",
                                "evil.example",
                                "pending.northwind.test",
                                "console.localhost",
                                "a.northwind.localhost",
                                "NOBODY.localhost:8080"}) {
    SCOPED_TRACE(host);
    for (std::string_view path : {"/", "/console", "/console/keys"}) {
      auto r = get(std::string(host), std::string(path));
      EXPECT_EQ(r.status, 404) << path;
      EXPECT_EQ(r.headers.get("content-type"), "text/html; charset=utf-8");
      EXPECT_EQ(r.headers.get("cache-control"), "no-store");
      EXPECT_EQ(r.headers.get("vary"), "Host");
      if (page_body.empty()) {
        page_body = r.body;
      }
      EXPECT_EQ(r.body, page_body) << "the same page for every unknown host";
      leaks(r.body);
    }
    for (const std::string& path : {std::string("/theme.css"),
                                    std::string("/branding.json"),
                                    "/t/" + a.tenant.id + "/assets/" + a.logo_hash,
                                    "/assets/" + a.tenant.id + "/" + a.logo_hash + ".png"}) {
      auto r = get(std::string(host), path);
      EXPECT_EQ(r.status, 404) << path;
      EXPECT_EQ(r.headers.get("cache-control"), "no-store");
      if (doc_body.empty()) {
        doc_body = r.body;
      }
      EXPECT_EQ(r.body, doc_body);
      leaks(r.body);
    }
  }
  // The operator console is not on tenant hosts, tenant pages are not on the operator host.
  EXPECT_EQ(get(a.host(), "/operator").body, page_body);
  EXPECT_EQ(get(a.host(), "/operator").status, 404);
  EXPECT_EQ(get("localhost", "/console").status, 404);
  EXPECT_EQ(get("localhost", "/console").body, page_body);
  // A Host that is not a host name at all is a bad request.
  for (std::string_view bad : {"bad host", "a_b.localhost", "evil.example@northwind.localhost"}) {
    EXPECT_EQ(get(std::string(bad), "/").status, 400) << bad;
  }
}

TEST_F(PagesTest, CustomDomainsServeTheirTenantOnlyWhileActive) {
  TenantBrand a = northwind();
  auto& domains = h_.gateway().stores().domains;
  storage::Domain d;
  d.host = "app.northwind.test";
  d.tenant_id = a.tenant.id;
  d.verification_token = *whitelabel::newVerificationToken();
  ASSERT_TRUE(domains.insert(d));
  h_.refresh();
  EXPECT_EQ(get(d.host, "/").status, 404) << "pending";
  ASSERT_TRUE(domains.setStatus(a.tenant.id, d.host, storage::DomainStatus::kVerified));
  h_.refresh();
  EXPECT_EQ(get(d.host, "/").status, 404) << "verified, not yet active";
  ASSERT_TRUE(domains.setStatus(a.tenant.id, d.host, storage::DomainStatus::kActive));
  h_.refresh();
  auto page = get("App.Northwind.Test.:443", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(titleOf(page.body), a.branding.display_name);
  EXPECT_TRUE(contains(get(d.host, "/theme.css").body, a.branding.primary_color));
  EXPECT_EQ(get(d.host, "/t/" + a.tenant.id + "/assets/" + a.logo_hash).status, 200);
  // The same documents as on the tenant's slug host.
  EXPECT_EQ(get(d.host, "/branding.json").body, get(a.host(), "/branding.json").body);
  ASSERT_TRUE(domains.remove(a.tenant.id, d.host));
  h_.refresh();
  EXPECT_EQ(get(d.host, "/").status, 404) << "removed";
  EXPECT_EQ(get(d.host, "/theme.css").status, 404) << "removed";
}

TEST_F(PagesTest, OperatorHostServesTheOperatorConsoleWithTheNeutralTheme) {
  TenantBrand a = northwind();
  for (std::string_view host : {"localhost", "127.0.0.1", "localhost:8080"}) {
    SCOPED_TRACE(host);
    auto op = get(std::string(host), "/operator");
    ASSERT_EQ(op.status, 200);
    expectShellHeaders(op);
    EXPECT_EQ(titleOf(op.body), "Operator \xC2\xB7 Livery");
    EXPECT_TRUE(contains(op.body, "<div id=\"app\" data-surface=\"operator\"></div>"));
    EXPECT_TRUE(embeddedBranding(op.body).at("tenant").is_null());
    auto root = get(std::string(host), "/");
    EXPECT_EQ(root.status, 302);
    EXPECT_EQ(root.headers.get("location"), "/operator");
    auto doc = boost::json::parse(get(std::string(host), "/branding.json").body);
    EXPECT_TRUE(doc.at("tenant").is_null());
    EXPECT_EQ(doc.at("display_name").as_string(), "Livery");
    EXPECT_TRUE(doc.at("logo_url").is_null());
    auto css = get(std::string(host), "/theme.css");
    EXPECT_TRUE(contains(
        css.body, std::string("--lv-primary:") + std::string(whitelabel::kDefaultPrimary) + ";"));
    for (const auto* r : {&op, &css}) {
      EXPECT_FALSE(contains(r->body, a.branding.display_name));
      EXPECT_FALSE(contains(r->body, a.tenant.id));
      EXPECT_FALSE(contains(r->body, a.branding.primary_color));
    }
  }
}

TEST(PagesConfigTest, AConfiguredOperatorHostIsTheOnlyOperatorHost) {
  GatewayHarness h([](config::Config& c) { c.http.operator_host = "Ops.Example.Test:8443"; });
  auto client = h.client();
  auto get = [&](const std::string& host, const std::string& path) {
    return client.get(path, {{"Host", host}});
  };
  EXPECT_EQ(get("ops.example.test", "/operator").status, 200);
  EXPECT_EQ(get("ops.example.test", "/").status, 302);
  for (std::string_view other : {"localhost", "127.0.0.1", "ops.example.test.evil"}) {
    EXPECT_EQ(get(std::string(other), "/operator").status, 404) << other;
    EXPECT_EQ(get(std::string(other), "/").status, 404) << other;
  }
}

TEST(PagesConfigTest, ForwardedHostIsBelievedOnlyFromATrustedProxy) {
  auto setUp = [](GatewayHarness& h) {
    for (std::string slug : {"northwind", "contoso"}) {
      ASSERT_TRUE(h.gateway().control().createTenant(control::Actor::cli(), {slug, slug, ""}));
    }
    h.refresh();
  };
  {
    GatewayHarness direct;  // no trusted proxies: X-Forwarded-Host is ignored
    setUp(direct);
    auto r = direct.client().get(
        "/branding.json",
        {{"Host", "contoso.localhost"}, {"X-Forwarded-Host", "northwind.localhost"}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(boost::json::parse(r.body).at("tenant").at("slug").as_string(), "contoso");
    EXPECT_EQ(r.headers.get("vary"), "Host");
    auto spoof = direct.client().get(
        "/", {{"Host", "nobody.localhost"}, {"X-Forwarded-Host", "northwind.localhost"}});
    EXPECT_EQ(spoof.status, 404);
  }
  {
    GatewayHarness proxied([](config::Config& c) { c.http.trusted_proxies = {"127.0.0.1/32"}; });
    setUp(proxied);
    auto r = proxied.client().get(
        "/branding.json", {{"Host", "internal-lb"}, {"X-Forwarded-Host", "northwind.localhost"}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(boost::json::parse(r.body).at("tenant").at("slug").as_string(), "northwind");
    EXPECT_EQ(r.headers.get("vary"), "Host, X-Forwarded-Host");
    // The right-most element is the one the proxy wrote.
    auto chain = proxied.client().get(
        "/",
        {{"Host", "internal-lb"}, {"X-Forwarded-Host", "northwind.localhost, contoso.localhost"}});
    ASSERT_EQ(chain.status, 200);
    EXPECT_EQ(titleOf(chain.body), "contoso");
  }
}

// ---- assets across tenants -------------------------------------------------------------------

TEST_F(PagesTest, AssetsAreNeverServedAcrossTenants) {
  TenantBrand a = northwind();
  TenantBrand b = contoso();
  const std::string& na = a.tenant.id;
  const std::string& nb = b.tenant.id;
  // Both URL forms on the owner's host.
  EXPECT_EQ(get(a.host(), "/t/" + na + "/assets/" + a.logo_hash).status, 200);
  EXPECT_EQ(get(a.host(), "/assets/" + na + "/" + a.logo_hash).status, 200);
  EXPECT_EQ(get(a.host(), "/assets/" + na + "/" + a.logo_hash + ".png").status, 200);
  EXPECT_EQ(get(b.host(), "/assets/" + nb + "/" + b.logo_hash + ".webp").status, 200);
  // The extension must name the stored type.
  EXPECT_EQ(get(a.host(), "/assets/" + na + "/" + a.logo_hash + ".svg").status, 404);
  EXPECT_EQ(get(a.host(), "/assets/" + na + "/" + a.logo_hash + ".html").status, 404);
  // Another tenant's host: 404 whatever the path says, validators included.
  for (const std::string& path : {"/t/" + na + "/assets/" + a.logo_hash,
                                  "/assets/" + na + "/" + a.logo_hash + ".png",
                                  "/t/" + nb + "/assets/" + a.logo_hash,
                                  "/assets/" + nb + "/" + a.logo_hash}) {
    SCOPED_TRACE(path);
    auto r = get(b.host(), path);
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(r.body.find("PNG") == std::string::npos);
    EXPECT_EQ(get(b.host(), path, {{"If-None-Match", "\"" + a.logo_hash + "\""}}).status, 404);
    EXPECT_EQ(get("localhost", path).status, 404) << "not on the operator host either";
  }
  // Identical bytes uploaded by both tenants are two assets, each served only on its own host.
  auto shared_a = upload(na, whitelabel::AssetKind::kLogo, readFixture("python.jpg"));
  auto shared_b = upload(nb, whitelabel::AssetKind::kLogo, readFixture("python.jpg"));
  ASSERT_TRUE(shared_a && shared_b);
  ASSERT_EQ(*shared_a, *shared_b);
  EXPECT_EQ(get(a.host(), "/t/" + na + "/assets/" + *shared_a).status, 200);
  EXPECT_EQ(get(b.host(), "/t/" + nb + "/assets/" + *shared_b).status, 200);
  EXPECT_EQ(get(b.host(), "/t/" + na + "/assets/" + *shared_a).status, 404);
  // Malformed references.
  for (const std::string& path : {"/t/" + na + "/assets/" + a.logo_hash.substr(1),
                                  "/t/" + na + "/assets/../assets/" + a.logo_hash,
                                  "/t/" + na + "/assets/" + whitelabel::asciiLower("ABC"),
                                  "/assets/" + na + "/" + std::string(64, 'f')}) {
    EXPECT_EQ(get(a.host(), path).status, 404) << path;
  }
}

// ---- custom-domain challenge -----------------------------------------------------------------

TEST_F(PagesTest, TheDomainChallengeIsNeverAnsweredByLivery) {
  TenantBrand a = northwind();
  auto& domains = h_.gateway().stores().domains;
  storage::Domain d;
  d.host = "claim.northwind.test";
  d.tenant_id = a.tenant.id;
  d.verification_token = *whitelabel::newVerificationToken();
  ASSERT_TRUE(domains.insert(d));
  h_.refresh();
  std::string token = d.verification_token;
  std::string unrouted = get("localhost", "/no/such/route").body;
  auto check = [&](const std::string& why) {
    for (std::string_view host :
         {"claim.northwind.test", "northwind.localhost", "localhost", "evil.example", "bad host"}) {
      for (const std::string& path : {whitelabel::challengePath(token),
                                      whitelabel::challengePath(token) + "/",
                                      whitelabel::challengePath(token) + ".txt",
                                      std::string(whitelabel::kChallengePathPrefix)}) {
        SCOPED_TRACE(why + " " + std::string(host) + path);
        auto r = get(std::string(host), path);
        EXPECT_EQ(r.status, 404);
        EXPECT_FALSE(contains(r.body, token));
        EXPECT_EQ(r.body, unrouted) << "indistinguishable from a path Livery does not serve";
        EXPECT_EQ(r.headers.get("cache-control"), "no-store");
      }
    }
  };
  check("pending");
  ASSERT_TRUE(domains.setStatus(a.tenant.id, d.host, storage::DomainStatus::kVerified));
  ASSERT_TRUE(domains.setStatus(a.tenant.id, d.host, storage::DomainStatus::kActive));
  h_.refresh();
  check("active");
}

}  // namespace
}  // namespace livery
