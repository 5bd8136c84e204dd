#include "whitelabel/color.hpp"

#include <gtest/gtest.h>

#include "unit/whitelabel/fixtures.hpp"

namespace livery::whitelabel {
namespace {

Rgb rgb(std::string_view hex) {
  auto c = parseHexColor(hex);
  EXPECT_TRUE(c) << hex;
  return c ? *c : Rgb{};
}

// Colours a brand might pick, including the mid-tones where a "luminance < 50%" shortcut picks
// the failing text colour.
const char* const kFixtureColours[] = {
    "#777777", "#ff0000", "#ffff00", "#00ff00", "#0000ff", "#00ffff", "#ff00ff", "#808080",
    "#767676", "#ffd400", "#0047ab", "#ff5a5f", "#22c55e", "#2563eb", "#0f172a", "#ffffff",
    "#000000", "#f97316", "#8b5cf6", "#14b8a6", "#e11d48", "#84cc16", "#7f7f7f", "#a0a0a0",
};

TEST(ColorTest, ParsesExactlyHashAndSixHexDigits) {
  EXPECT_EQ(rgb("#aabbcc"), (Rgb{0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(rgb("#AbCdEf"), (Rgb{0xab, 0xcd, 0xef}));
  EXPECT_EQ(toHex(rgb("#AbCdEf")), "#abcdef");
  EXPECT_EQ(toHex(Rgb{0, 1, 255}), "#0001ff");
}

TEST(ColorTest, RejectsEveryHostileOrNonCanonicalValue) {
  auto lines = testing::readFixtureLines("hostile_colors.txt");
  ASSERT_GE(lines.size(), 10U);
  for (const auto& line : lines) {
    auto c = parseHexColor(line);
    ASSERT_FALSE(c) << "accepted: " << line;
    EXPECT_EQ(c.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(c.error().client_message.find(line), std::string::npos) << "echoes input";
  }
  for (std::string_view bad : {"",
                               "#",
                               "123456",
                               "#12345",
                               "#gggggg",
                               "#12 456",
                               "#123456\n",
                               "\xef\xbc\x83"
                               "123456"}) {
    EXPECT_FALSE(parseHexColor(bad)) << bad;
  }
}

TEST(ColorTest, ErrorsNeverEchoACanary) {
  auto c = parseHexColor(std::string("#") + testing::kCanary);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().client_message.find("canary"), std::string::npos);
  EXPECT_EQ(c.error().log_detail.find("canary"), std::string::npos);
}

TEST(ColorTest, LuminanceAndContrastMatchWcagReferenceValues) {
  EXPECT_DOUBLE_EQ(relativeLuminance(kWhite), 1.0);
  EXPECT_DOUBLE_EQ(relativeLuminance(kBlack), 0.0);
  EXPECT_DOUBLE_EQ(contrastRatio(kBlack, kWhite), 21.0);
  EXPECT_DOUBLE_EQ(contrastRatio(kWhite, kBlack), 21.0);
  EXPECT_DOUBLE_EQ(contrastRatio(rgb("#123456"), rgb("#123456")), 1.0);
  // Values measured in docs research (ux.md §4.4) and by WebAIM's checker.
  EXPECT_NEAR(contrastRatio(rgb("#777777"), kBlack), 4.69, 0.01);
  EXPECT_NEAR(contrastRatio(rgb("#777777"), kWhite), 4.48, 0.01);
  EXPECT_NEAR(contrastRatio(rgb("#ffd400"), kBlack), 14.67, 0.01);
  EXPECT_NEAR(contrastRatio(rgb("#0047ab"), kWhite), 8.44, 0.01);
  EXPECT_NEAR(contrastRatio(rgb("#767676"), kWhite), 4.54, 0.01);
  EXPECT_NEAR(contrastRatio(rgb("#ff0000"), kWhite), 4.00, 0.01);
}

TEST(ColorTest, TextOnFixtureBrandColoursMeetsAa) {
  for (const char* hex : kFixtureColours) {
    Rgb surface = rgb(hex);
    Rgb text = textColorOn(surface);
    EXPECT_TRUE(text == kBlack || text == kWhite);
    EXPECT_GE(contrastRatio(text, surface), kAaNormalText) << hex;
  }
  // The mid-tones pick black, where a luminance-threshold shortcut would pick white.
  EXPECT_EQ(textColorOn(rgb("#777777")), kBlack);
  EXPECT_EQ(textColorOn(rgb("#ff0000")), kBlack);
  EXPECT_EQ(textColorOn(rgb("#ffff00")), kBlack);
  EXPECT_EQ(textColorOn(rgb("#0000ff")), kWhite);
}

TEST(ColorTest, BlackOrWhiteReachesAaOnEveryColourOfAGrid) {
  double worst = 21.0;
  for (int r = 0; r < 256; r += 5) {
    for (int g = 0; g < 256; g += 5) {
      for (int b = 0; b < 256; b += 5) {
        Rgb c{static_cast<std::uint8_t>(r),
              static_cast<std::uint8_t>(g),
              static_cast<std::uint8_t>(b)};
        worst = std::min(worst, contrastRatio(textColorOn(c), c));
      }
    }
  }
  EXPECT_GE(worst, 4.58);
}

TEST(ColorTest, EnsureContrastDarkensYellowJustEnoughForLinks) {
  Rgb yellow = rgb("#ffd400");
  Rgb link = ensureContrast(yellow, kWhite, kAaNormalText);
  double ratio = contrastRatio(link, kWhite);
  EXPECT_GE(ratio, 4.5);
  EXPECT_LT(ratio, 4.65) << "darkened more than needed: " << toHex(link);
  // ux.md §4.4 quotes #8c7500 for this case (scaling RGB towards black).
  Rgb expected = rgb("#8c7500");
  EXPECT_NEAR(link.r, expected.r, 2);
  EXPECT_NEAR(link.g, expected.g, 2);
  EXPECT_NEAR(link.b, expected.b, 2);
}

TEST(ColorTest, EnsureContrastKeepsColoursThatAlreadyPass) {
  EXPECT_EQ(ensureContrast(rgb("#0047ab"), kWhite, kAaNormalText), rgb("#0047ab"));
  EXPECT_EQ(ensureContrast(rgb("#ffd400"), kDarkSurface, kAaNormalText), rgb("#ffd400"));
}

TEST(ColorTest, EnsureContrastLightensOnDarkBackgrounds) {
  Rgb navy = rgb("#0f172a");
  Rgb on_dark = ensureContrast(navy, kDarkSurface, kAaNormalText);
  EXPECT_GE(contrastRatio(on_dark, kDarkSurface), 4.5);
  EXPECT_GT(relativeLuminance(on_dark), relativeLuminance(navy));
}

TEST(ColorTest, EnsureContrastReachesTheTargetForEveryColourOfAGrid) {
  for (int r = 0; r < 256; r += 15) {
    for (int g = 0; g < 256; g += 15) {
      for (int b = 0; b < 256; b += 15) {
        Rgb c{static_cast<std::uint8_t>(r),
              static_cast<std::uint8_t>(g),
              static_cast<std::uint8_t>(b)};
        ASSERT_GE(contrastRatio(ensureContrast(c, kLightSurface, 4.5), kLightSurface), 4.5)
            << toHex(c);
        ASSERT_GE(contrastRatio(ensureContrast(c, kDarkSurface, 4.5), kDarkSurface), 4.5)
            << toHex(c);
      }
    }
  }
}

TEST(ColorTest, EnsureContrastReturnsTheBestEndPointWhenTheTargetIsUnreachable) {
  // Nothing reaches 7:1 against mid grey; black is the best available.
  Rgb out = ensureContrast(rgb("#777777"), rgb("#777777"), 7.0);
  EXPECT_EQ(out, kBlack);
}

TEST(ColorTest, MixInterpolatesAndClamps) {
  EXPECT_EQ(mix(kBlack, kWhite, 0.0), kBlack);
  EXPECT_EQ(mix(kBlack, kWhite, 1.0), kWhite);
  EXPECT_EQ(mix(kBlack, kWhite, 0.5), (Rgb{128, 128, 128}));
  EXPECT_EQ(mix(kBlack, kWhite, -3.0), kBlack);
  EXPECT_EQ(mix(kBlack, kWhite, 7.0), kWhite);
}

TEST(ColorTest, PaletteOfFixtureColoursMeetsEveryTarget) {
  for (const char* hex : kFixtureColours) {
    BrandPalette p = derivePalette(rgb(hex), rgb("#0f172a"));
    SCOPED_TRACE(hex);
    EXPECT_EQ(p.primary, rgb(hex));
    EXPECT_GE(contrastRatio(p.on_primary, p.primary), 4.5);
    EXPECT_GE(contrastRatio(p.on_primary_hover, p.primary_hover), 4.5);
    EXPECT_GE(contrastRatio(p.on_primary_active, p.primary_active), 4.5);
    EXPECT_GE(contrastRatio(p.primary_text, kLightSurface), 4.5);
    EXPECT_GE(contrastRatio(p.primary_text_dark, kDarkSurface), 4.5);
    EXPECT_GE(contrastRatio(p.primary_border, kLightSurface), 3.0);
    EXPECT_GE(contrastRatio(p.primary_border_dark, kDarkSurface), 3.0);
    EXPECT_GE(contrastRatio(p.on_accent, p.accent), 4.5);
    EXPECT_GE(contrastRatio(p.accent_text, kLightSurface), 4.5);
    EXPECT_GE(contrastRatio(p.accent_text_dark, kDarkSurface), 4.5);
    EXPECT_NE(p.primary_hover, p.primary);
    EXPECT_NE(p.primary_active, p.primary_hover);
  }
}

}  // namespace
}  // namespace livery::whitelabel
