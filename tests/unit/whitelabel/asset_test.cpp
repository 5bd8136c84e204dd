#include "whitelabel/asset.hpp"

#include <gtest/gtest.h>

#include "unit/whitelabel/fixtures.hpp"

namespace livery::whitelabel {
namespace {

using testing::readFixture;

std::string headerValue(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return v;
    }
  }
  return {};
}

TEST(AssetTest, SniffsTypesFromMagicBytesOnly) {
  EXPECT_EQ(sniffImageType(readFixture("python.png")), ImageType::kPng);
  EXPECT_EQ(sniffImageType(readFixture("python.jpg")), ImageType::kJpeg);
  EXPECT_EQ(sniffImageType(readFixture("python.webp")), ImageType::kWebp);
  EXPECT_EQ(sniffImageType(readFixture("png_renamed.svg")), ImageType::kPng);
  EXPECT_EQ(sniffImageType(readFixture("logo_ok.svg")), ImageType::kSvg);
  EXPECT_EQ(sniffImageType("\xEF\xBB\xBF \n<svg/>"), ImageType::kSvg);
  EXPECT_EQ(sniffImageType(readFixture("python.gif")), std::nullopt);
  EXPECT_EQ(sniffImageType(readFixture("polyglot_gif_js.svg")), std::nullopt);
  EXPECT_EQ(sniffImageType("BM...."), std::nullopt);
  EXPECT_EQ(sniffImageType("RIFF\x10\0\0\0WAVEfmt "), std::nullopt);
  EXPECT_EQ(sniffImageType(""), std::nullopt);
}

TEST(AssetTest, AcceptsRasterImagesWithDimensionsAndHash) {
  AssetValidator v;
  for (const char* name : {"python.png", "python.jpg", "python.webp"}) {
    auto a = v.validate(AssetKind::kLogo, readFixture(name));
    ASSERT_TRUE(a) << name << ": " << a.error().client_message;
    EXPECT_EQ(a->width, 16U) << name;
    EXPECT_EQ(a->height, 16U) << name;
    EXPECT_EQ(a->bytes, readFixture(name)) << name;
    EXPECT_EQ(a->sha256_hex, sha256Hex(a->bytes));
  }
  auto png = v.validate(AssetKind::kFavicon, readFixture("python.png"));
  ASSERT_TRUE(png);
  EXPECT_EQ(png->content_type, "image/png");
  // sha256sum tests/fixtures/whitelabel/python.png
  EXPECT_EQ(png->sha256_hex, "480ac039362a15a7738ba76dffe807fd03fa29f7edaa8eb21ca0057c44a1ee8c");
}

TEST(AssetTest, Sha256MatchesFipsVectors) {
  // FIPS 180-2, appendix B.1 and the empty string.
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AssetTest, IgnoresTheNameAPngWasUploadedUnder) {
  AssetValidator v;
  auto a = v.validate(AssetKind::kLogo, readFixture("png_renamed.svg"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, ImageType::kPng);
  EXPECT_EQ(a->content_type, "image/png");
}

TEST(AssetTest, RejectsPolyglotsAndUnsupportedTypes) {
  AssetValidator v;
  for (const char* name : {"polyglot_png_html.png",
                           "polyglot_jpeg_trailing.jpg",
                           "polyglot_gif_js.svg",
                           "python.gif",
                           "not_svg_root.svg",
                           "xxe.svg"}) {
    auto a = v.validate(AssetKind::kLogo, readFixture(name));
    ASSERT_FALSE(a) << name;
    EXPECT_TRUE(a.error().code == ErrorCode::kUnprocessable ||
                a.error().code == ErrorCode::kBadRequest)
        << name;
  }
}

TEST(AssetTest, AJpegCarryingHtmlInAMetadataSegmentIsServedInert) {
  AssetValidator v;
  auto a = v.validate(AssetKind::kLogo, readFixture("jpeg_comment_html.jpg"));
  ASSERT_TRUE(a) << "structurally valid JPEG";
  HeaderList h = assetResponseHeaders(a->type);
  EXPECT_EQ(headerValue(h, "Content-Type"), "image/jpeg");
  EXPECT_EQ(headerValue(h, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(headerValue(h, "Content-Security-Policy"),
            "default-src 'none'; style-src 'unsafe-inline'; sandbox");
}

TEST(AssetTest, RejectsTruncatedAndCorruptRasterImages) {
  AssetValidator v;
  std::string png = readFixture("python.png");
  std::string jpg = readFixture("python.jpg");
  std::string webp = readFixture("python.webp");
  EXPECT_FALSE(v.validate(AssetKind::kLogo, png.substr(0, png.size() / 2)));
  EXPECT_FALSE(v.validate(AssetKind::kLogo, png.substr(0, 8)));
  EXPECT_FALSE(v.validate(AssetKind::kLogo, jpg.substr(0, jpg.size() - 2)));
  EXPECT_FALSE(v.validate(AssetKind::kLogo, jpg.substr(0, 3)));
  EXPECT_FALSE(v.validate(AssetKind::kLogo, webp.substr(0, webp.size() - 1)));
  EXPECT_FALSE(v.validate(AssetKind::kLogo, webp + "xx"));
  std::string bad_ihdr = png;
  bad_ihdr[12] = 'X';  // first chunk is no longer IHDR
  EXPECT_FALSE(v.validate(AssetKind::kLogo, bad_ihdr));
  std::string huge_len = png;
  huge_len[8] = '\x7f';  // IHDR length points past the end
  EXPECT_FALSE(v.validate(AssetKind::kLogo, huge_len));
}

TEST(AssetTest, EnforcesDimensionLimit) {
  std::string png = readFixture("python.png");
  // IHDR width/height are big-endian at offsets 16 and 20.
  std::string wide = png;
  wide[16] = '\0';
  wide[17] = '\0';
  wide[18] = '\x13';
  wide[19] = '\x88';  // 5000
  AssetValidator v;
  auto a = v.validate(AssetKind::kLogo, wide);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kUnprocessable);
  AssetValidator tiny({.max_dimension = 8});
  EXPECT_FALSE(tiny.validate(AssetKind::kLogo, png));
  std::string zero = png;
  zero[23] = '\0';  // height 0
  EXPECT_FALSE(v.validate(AssetKind::kLogo, zero));
}

TEST(AssetTest, EnforcesConfigurableSizeLimitsPerKind) {
  AssetValidator v;
  std::string big_png = readFixture("python.png");
  std::string padding(70 * 1024, ' ');
  auto fav = v.validate(AssetKind::kFavicon,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\">" + padding + "</svg>");
  ASSERT_FALSE(fav);
  EXPECT_EQ(fav.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(v.validate(AssetKind::kLogo,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\">" + padding + "</svg>"));

  AssetValidator strict({.logo_max_bytes = 1000, .favicon_max_bytes = 100});
  auto logo = strict.validate(AssetKind::kLogo, big_png);  // 1020 bytes
  ASSERT_FALSE(logo);
  EXPECT_EQ(logo.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(logo.error().client_message.find("logo"), std::string::npos);
  EXPECT_FALSE(v.validate(AssetKind::kLogo, ""));
}

TEST(AssetTest, SanitisesSvgAndHashesTheSanitisedBytes) {
  AssetValidator v;
  auto a = v.validate(AssetKind::kLogo, readFixture("script.svg"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, ImageType::kSvg);
  EXPECT_EQ(a->content_type, "image/svg+xml");
  EXPECT_TRUE(a->svg_modified);
  EXPECT_EQ(a->bytes.find("script"), std::string::npos);
  EXPECT_EQ(a->sha256_hex, sha256Hex(a->bytes));
  EXPECT_NE(a->sha256_hex, sha256Hex(readFixture("script.svg")));
  auto clean = v.validate(AssetKind::kLogo, a->bytes);
  ASSERT_TRUE(clean);
  EXPECT_FALSE(clean->svg_modified);
  EXPECT_EQ(clean->sha256_hex, a->sha256_hex);
}

TEST(AssetTest, ResponseHeadersAreImmutableSandboxedAndExact) {
  for (ImageType t : {ImageType::kPng, ImageType::kJpeg, ImageType::kWebp, ImageType::kSvg}) {
    HeaderList h = assetResponseHeaders(t);
    EXPECT_EQ(headerValue(h, "Content-Type"), contentType(t));
    EXPECT_EQ(headerValue(h, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(headerValue(h, "Content-Security-Policy"),
              "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    EXPECT_EQ(headerValue(h, "Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(imageTypeFromContentType(contentType(t)), t);
  }
  EXPECT_EQ(imageTypeFromContentType("text/html"), std::nullopt);
  EXPECT_EQ(imageTypeFromContentType("image/svg+xml; charset=utf-8"), std::nullopt);
}

TEST(AssetTest, AssetPathsAreTenantScopedAndContentAddressed) {
  std::string hash = sha256Hex("logo");
  auto p = assetPath("tnt_abc123", hash);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "/t/tnt_abc123/assets/" + hash);
  auto ref = parseAssetPath(*p);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->tenant_id, "tnt_abc123");
  EXPECT_EQ(ref->sha256_hex, hash);

  EXPECT_FALSE(assetPath("", hash));
  EXPECT_FALSE(assetPath("../x", hash));
  EXPECT_FALSE(assetPath("tnt_a/b", hash));
  EXPECT_FALSE(assetPath("tnt_a", "ABC"));
  EXPECT_FALSE(assetPath("tnt_a", std::string(64, 'G')));
  for (std::string_view bad : {"/t/tnt_a/assets/" + std::string(63, 'a'),
                               "/t/tnt_a/assets/" + std::string(64, 'A'),
                               "/t/../assets/" + hash,
                               "/t/tnt_a/assets/" + hash + "/x",
                               "/t/tnt_a/logo/" + hash,
                               "/t//assets/" + hash,
                               "/x/tnt_a/assets/" + hash}) {
    EXPECT_FALSE(parseAssetPath(bad)) << bad;
  }
}

}  // namespace
}  // namespace livery::whitelabel
