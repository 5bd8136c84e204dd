// The embedded web bundle: the generator (portal/embed_assets.cmake) run on a fixture dist and
// on a missing dist, and the table compiled into the binary from web/dist.
#include "portal/assets.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace livery::portal {
namespace detail {
const AssetTable& fixtureTable() noexcept;  // tests/unit/portal/fixture_dist
const AssetTable& missingTable() noexcept;  // a dist directory that does not exist
}  // namespace detail

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

const std::string kFixtureDir = LIVERY_SOURCE_DIR "/tests/unit/portal/fixture_dist/static/";

TEST(EmbeddedAssetsTest, FixtureFilesAreEmbeddedByteForByteWithTypesAndEtags) {
  const auto& table = detail::fixtureTable();
  ASSERT_EQ(table.assets().size(), 4u);
  struct Want {
    std::string name;
    std::string type;
  };
  for (const auto& w : {Want{"app.0a1b2c.js", "text/javascript; charset=utf-8"},
                        Want{"app.9f8e7d.css", "text/css; charset=utf-8"},
                        Want{"bin.123456.png", "image/png"},
                        Want{"empty.000000.txt", "text/plain; charset=utf-8"}}) {
    const auto* a = table.find("/static/" + w.name);
    ASSERT_NE(a, nullptr) << w.name;
    auto expected = readFile(kFixtureDir + w.name);
    EXPECT_EQ(a->bytes(), expected) << w.name;
    EXPECT_EQ(a->size, expected.size()) << w.name;
    EXPECT_EQ(a->content_type, w.type) << w.name;
    EXPECT_EQ(a->etag, "\"" + sha256Hex(expected) + "\"") << w.name;
  }
}

TEST(EmbeddedAssetsTest, LookupIsExactAndTableIsSorted) {
  const auto& table = detail::fixtureTable();
  EXPECT_EQ(table.find("/static/app.0a1b2"), nullptr);
  EXPECT_EQ(table.find("/static/app.0a1b2c.js/"), nullptr);
  EXPECT_EQ(table.find("static/app.0a1b2c.js"), nullptr);
  EXPECT_EQ(table.find("/static/../static/app.0a1b2c.js"), nullptr);
  EXPECT_EQ(table.find(""), nullptr);
  EXPECT_TRUE(std::is_sorted(table.assets().begin(),
                             table.assets().end(),
                             [](const auto& a, const auto& b) { return a.path < b.path; }));
}

TEST(EmbeddedAssetsTest, EntryNamesMapToHashedUrlsFromTheManifest) {
  const auto& table = detail::fixtureTable();
  EXPECT_EQ(table.entryUrl("app.js"), std::optional<std::string_view>("/static/app.0a1b2c.js"));
  EXPECT_EQ(table.entryUrl("app.css"), std::optional<std::string_view>("/static/app.9f8e7d.css"));
  EXPECT_EQ(table.entryUrl("console.js"), std::nullopt);
  for (const auto& e : table.entries()) {
    EXPECT_NE(table.find(e.url), nullptr) << e.name;
  }
}

TEST(EmbeddedAssetsTest, MissingDistGivesAnEmptyTable) {
  const auto& table = detail::missingTable();
  EXPECT_TRUE(table.empty());
  EXPECT_TRUE(table.entries().empty());
  EXPECT_EQ(table.find("/static/app.0a1b2c.js"), nullptr);
  EXPECT_EQ(table.entryUrl("console.js"), std::nullopt);
}

TEST(EmbeddedAssetsTest, EtagMatchingFollowsIfNoneMatchRules) {
  const auto* a = detail::fixtureTable().find("/static/app.0a1b2c.js");
  ASSERT_NE(a, nullptr);
  std::string etag(a->etag);
  EXPECT_TRUE(etagMatches(etag, *a));
  EXPECT_TRUE(etagMatches("W/" + etag, *a));
  EXPECT_TRUE(etagMatches("\"x\", " + etag, *a));
  EXPECT_TRUE(etagMatches("*", *a));
  EXPECT_FALSE(etagMatches("\"x\"", *a));
  EXPECT_FALSE(etagMatches("", *a));
  EXPECT_FALSE(etagMatches(etag.substr(1), *a));
  // The same rules for any validator (per-host documents, brand assets).
  EXPECT_TRUE(etagMatches("W/\"abc\"", std::string_view("\"abc\"")));
  EXPECT_TRUE(etagMatches(" \"x\" ,\"abc\" ", std::string_view("\"abc\"")));
  EXPECT_FALSE(etagMatches("\"abcd\"", std::string_view("\"abc\"")));
  EXPECT_FALSE(etagMatches("", std::string_view("")));
}

// The real bundle. Without web/dist (a C++-only build) this is skipped, except under make test
// (LIVERY_REQUIRE_SERVICES=1), which always builds the web first.
TEST(EmbeddedAssetsTest, BinaryEmbedsTheThreeSurfacesAndTheStylesheet) {
  const auto& table = embeddedAssets();
  if (table.empty()) {
    const char* require = std::getenv("LIVERY_REQUIRE_SERVICES");  // NOLINT(concurrency-mt-unsafe)
    if (require != nullptr && std::string(require) == "1") {
      FAIL() << "web/dist was not embedded; run tools/build_web.sh before the C++ build";
    }
    GTEST_SKIP() << "web/dist not built; run tools/build_web.sh and rebuild";
  }
  for (const char* name : {"console.js", "workspace.js", "operator.js", "app.css"}) {
    auto url = entryUrl(name);
    ASSERT_TRUE(url.has_value()) << name;
    EXPECT_TRUE(url->starts_with(kStaticPrefix)) << *url;
    const auto* a = findAsset(*url);
    ASSERT_NE(a, nullptr) << *url;
    EXPECT_GT(a->size, 0u);
  }
  for (const auto& a : table.assets()) {
    EXPECT_TRUE(a.path.starts_with(kStaticPrefix)) << a.path;
    EXPECT_EQ(a.etag, "\"" + sha256Hex(a.bytes()) + "\"") << a.path;
  }
}

}  // namespace
}  // namespace livery::portal
