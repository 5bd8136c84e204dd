#include "whitelabel/color.hpp"

#include <algorithm>
#include <cmath>

namespace livery::whitelabel {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

double linearise(std::uint8_t channel) {
  double c = channel / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

std::uint8_t lerpChannel(std::uint8_t a, std::uint8_t b, double t) {
  double v = a + (static_cast<double>(b) - a) * t;
  return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

// Hover/active shades move away from the page: darker, unless the brand is already so dark that
// darkening would be invisible.
Rgb shade(Rgb c, double amount) {
  return relativeLuminance(c) < 0.03 ? mix(c, kWhite, amount * 1.5) : mix(c, kBlack, amount);
}

}  // namespace

Result<Rgb> parseHexColor(std::string_view text) {
  if (text.size() != 7 || text[0] != '#') {
    return fail(ErrorCode::kBadRequest, "colour must be #rrggbb");
  }
  int v[6];
  for (std::size_t i = 0; i < 6; ++i) {
    v[i] = hexValue(text[i + 1]);
    if (v[i] < 0) {
      return fail(ErrorCode::kBadRequest, "colour must be #rrggbb");
    }
  }
  return Rgb{static_cast<std::uint8_t>(v[0] * 16 + v[1]),
             static_cast<std::uint8_t>(v[2] * 16 + v[3]),
             static_cast<std::uint8_t>(v[4] * 16 + v[5])};
}

std::string toHex(Rgb c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "#000000";
  const std::uint8_t channels[3] = {c.r, c.g, c.b};
  for (std::size_t i = 0; i < 3; ++i) {
    out[1 + 2 * i] = kDigits[channels[i] >> 4];
    out[2 + 2 * i] = kDigits[channels[i] & 0xF];
  }
  return out;
}

double relativeLuminance(Rgb c) {
  return 0.2126 * linearise(c.r) + 0.7152 * linearise(c.g) + 0.0722 * linearise(c.b);
}

double contrastRatio(Rgb a, Rgb b) {
  double la = relativeLuminance(a);
  double lb = relativeLuminance(b);
  if (la < lb) {
    std::swap(la, lb);
  }
  return (la + 0.05) / (lb + 0.05);
}

Rgb mix(Rgb from, Rgb to, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return Rgb{
      lerpChannel(from.r, to.r, t), lerpChannel(from.g, to.g, t), lerpChannel(from.b, to.b, t)};
}

Rgb textColorOn(Rgb surface) {
  return contrastRatio(kBlack, surface) >= contrastRatio(kWhite, surface) ? kBlack : kWhite;
}

Rgb ensureContrast(Rgb fg, Rgb bg, double min_ratio) {
  if (contrastRatio(fg, bg) >= min_ratio) {
    return fg;
  }
  Rgb target = textColorOn(bg);
  if (contrastRatio(target, bg) < min_ratio) {
    return target;
  }
  // Mixing towards black (white) lowers (raises) every channel, so the contrast against `bg`
  // grows monotonically with t: binary-search the smallest t that reaches the ratio, checking the
  // rounded 8-bit colour, which is what gets emitted.
  double lo = 0.0;
  double hi = 1.0;
  for (int i = 0; i < 24; ++i) {
    double t = (lo + hi) / 2;
    if (contrastRatio(mix(fg, target, t), bg) >= min_ratio) {
      hi = t;
    } else {
      lo = t;
    }
  }
  Rgb out = mix(fg, target, hi);
  // Rounding could in principle land a hair below the ratio: step on until it holds.
  for (double t = hi; contrastRatio(out, bg) < min_ratio && t < 1.0;) {
    t = std::min(1.0, t + 1.0 / 512);
    out = mix(fg, target, t);
  }
  return out;
}

BrandPalette derivePalette(Rgb primary, Rgb accent) {
  BrandPalette p;
  p.primary = primary;
  p.on_primary = textColorOn(primary);
  p.primary_hover = shade(primary, 0.12);
  p.on_primary_hover = textColorOn(p.primary_hover);
  p.primary_active = shade(primary, 0.24);
  p.on_primary_active = textColorOn(p.primary_active);
  p.primary_border = ensureContrast(primary, kLightSurface, kAaNonText);
  p.primary_text = ensureContrast(primary, kLightSurface, kAaNormalText);
  p.primary_text_dark = ensureContrast(primary, kDarkSurface, kAaNormalText);
  p.primary_border_dark = ensureContrast(primary, kDarkSurface, kAaNonText);
  p.accent = accent;
  p.on_accent = textColorOn(accent);
  p.accent_text = ensureContrast(accent, kLightSurface, kAaNormalText);
  p.accent_text_dark = ensureContrast(accent, kDarkSurface, kAaNormalText);
  return p;
}

}  // namespace livery::whitelabel
