#pragma once

// Brand colours: strict `#rrggbb` parsing, WCAG 2.x relative luminance and contrast, and the
// derived palette (readable text on brand surfaces, hover/active shades, brand colour as text or
// border on light and dark pages). Pure functions on values; safe from any thread.
//
// Security: parseHexColor() is the only way a stored colour becomes an Rgb, and every renderer
// emits colours through toHex(Rgb), so no tenant string ever reaches CSS or HTML (see
// docs/design/white-label.md, "CSS injection through colours").

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace livery::whitelabel {

struct Rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
  friend bool operator==(Rgb, Rgb) = default;
};

inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kWhite{255, 255, 255};
// The page backgrounds the palette is computed against (light and dark mode).
inline constexpr Rgb kLightSurface = kWhite;
inline constexpr Rgb kDarkSurface{0x11, 0x11, 0x11};

// WCAG 2.x thresholds.
inline constexpr double kAaNormalText = 4.5;  // 1.4.3 body text
inline constexpr double kAaLargeText = 3.0;   // 1.4.3 large text
inline constexpr double kAaNonText = 3.0;     // 1.4.11 UI component boundaries

// Accepts exactly '#' followed by six hex digits (either case); nothing else: no names, no
// shorthand, no alpha, no white space, no functions. kBadRequest otherwise (the message does not
// echo the input).
[[nodiscard]] Result<Rgb> parseHexColor(std::string_view text);
// "#rrggbb", lower-case.
std::string toHex(Rgb c);

// WCAG 2.x relative luminance in [0, 1] (sRGB channels linearised).
double relativeLuminance(Rgb c);
// WCAG 2.x contrast ratio in [1, 21]; symmetric.
double contrastRatio(Rgb a, Rgb b);

// Linear interpolation in sRGB: t = 0 gives `from`, t = 1 gives `to` (t is clamped to [0, 1]).
Rgb mix(Rgb from, Rgb to, double t);

// Black or white, whichever contrasts more with `surface`. For every sRGB colour the better of
// the two reaches at least 4.58:1, so text in this colour on `surface` always meets AA.
Rgb textColorOn(Rgb surface);

// `fg` itself when it already reaches `min_ratio` against `bg`; otherwise `fg` mixed towards
// black (on light backgrounds) or white (on dark ones) by the smallest amount that reaches the
// ratio. If even pure black/white cannot reach it, returns that end point (the best available).
Rgb ensureContrast(Rgb fg, Rgb bg, double min_ratio);

// Everything the theme needs from the two validated brand colours.
struct BrandPalette {
  Rgb primary;
  Rgb on_primary;         // text on a primary fill (>= 4.5:1)
  Rgb primary_hover;      // fill on hover (darker, or lighter for near-black brands)
  Rgb on_primary_hover;   // text on the hover fill (>= 4.5:1)
  Rgb primary_active;     // fill when pressed
  Rgb on_primary_active;  // text on the pressed fill (>= 4.5:1)
  Rgb primary_border;     // brand outline on the light page (>= 3:1, WCAG 1.4.11)
  Rgb primary_text;       // brand-coloured text/links on the light page (>= 4.5:1)
  Rgb primary_text_dark;  // brand-coloured text/links on the dark page (>= 4.5:1)
  Rgb primary_border_dark;
  Rgb accent;
  Rgb on_accent;
  Rgb accent_text;
  Rgb accent_text_dark;
};

BrandPalette derivePalette(Rgb primary, Rgb accent);

}  // namespace livery::whitelabel
