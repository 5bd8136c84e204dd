#pragma once

// Tenant theming: save-time validation of branding, the render model built from stored branding
// (validated again, never trusted), and the three renderers the portal needs: the per-host
// `/theme.css` body (CSS custom properties), the JSON branding document, and the HTML shell of
// tenant pages. Plus the response headers for each.
//
// Invariants: no tenant string ever reaches CSS (colours go through parseHexColor/toHex, the font
// comes from a fixed table); every tenant string in HTML is HTML-escaped for its context, and
// JSON embedded in HTML is escaped for <script>. Renderers are pure functions of the model, so a
// response depends only on the tenant it was built for (callers key any cache by tenant id).
// Thread-safety: everything here is a pure function or an immutable value.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"
#include "whitelabel/asset.hpp"
#include "whitelabel/color.hpp"

namespace livery::whitelabel {

// Curated local font stacks (no font URLs: they would leak visitors' IPs and widen the CSS
// surface).
enum class FontChoice { kSystem, kHumanist, kSerif, kRounded, kMonospace };
std::string_view toString(FontChoice font);  // "system", "humanist", "serif", "rounded", "mono"
[[nodiscard]] Result<FontChoice> parseFontChoice(std::string_view name);
std::string_view fontStack(FontChoice font);  // the CSS font-family value

inline constexpr std::size_t kMaxDisplayNameBytes = 100;
inline constexpr std::size_t kMaxFooterBytes = 500;
inline constexpr std::size_t kMaxEmailBytes = 254;

// The platform's own colours, used when a stored value does not validate at render time.
inline constexpr std::string_view kDefaultPrimary = "#2563eb";
inline constexpr std::string_view kDefaultAccent = "#0f172a";

// Save-time validation of everything a tenant can set. kUnprocessable with `param` naming the
// field ("display_name", "primary_color", "accent_color", "support_email", "footer_text",
// "logo_asset", "favicon_asset"); messages never echo the value. The display name must be 1..100
// bytes after sanitizeText(); colours exactly #rrggbb; asset references 64 lower-case hex digits.
[[nodiscard]] Result<void> validateBranding(const storage::Branding& branding);

// Everything the renderers need, already cleaned.
struct ThemeModel {
  std::string tenant_id;     // empty: the platform's own neutral theme (operator host)
  std::string slug;          // the tenant's slug, for the branding document; set by the caller
  std::string display_name;  // sanitizeText(), <= 100 bytes; may be empty
  BrandPalette palette;
  FontChoice font = FontChoice::kSystem;
  std::string logo_url;  // assetPath() or empty
  std::string favicon_url;
  std::string support_email;  // only if it validates, else empty
  std::string footer_text;    // sanitizeText(), <= 500 bytes
};

// Render-time model. Never fails: a colour that does not parse falls back to the default, text is
// cleaned and bounded, an invalid email or asset reference is left out. (A stored row that was
// edited behind the API's back therefore renders inert rather than breaking the page.)
ThemeModel makeThemeModel(const storage::Branding& branding, FontChoice font = FontChoice::kSystem);

// The `/theme.css` body: `:root{--brand:#..;...}` plus dark-mode overrides. Every value is a
// colour from toHex() or a font stack from the fixed table. The portal stylesheet (web/src)
// reads the `--lv-primary`, `--lv-on-primary`, `--lv-accent` and `--lv-on-accent` aliases.
std::string renderThemeCss(const ThemeModel& model);

// The portal's branding document:
// {"tenant_id":..,"tenant":{"slug":..,"display_name":..}|null,"display_name":..,
//  "colors":{"primary":..,"on_primary":..,"text_on_primary":..,..},"font":..,"logo_url":..|null,
//  "favicon_url":..|null,"support_email":..|null,"footer_text":..,"theme_css_url":"/theme.css"}
// `tenant` is null for the platform's own theme (empty tenant_id); `text_on_primary` repeats
// `on_primary` under the name the portal (docs/API.md) reads.
std::string renderBrandingJson(const ThemeModel& model);

struct ShellOptions {
  std::string lang = "en";                   // [A-Za-z-]{1,16}, else "en"
  std::string page_title;                    // optional, shown as "<page> · <display name>"
  std::string fallback_title = "Workspace";  // when the display name is empty
  std::string theme_css_url = "/theme.css";
  // Same-origin paths of the app bundle ("/assets/app.3f2a.js"). Anything that is not a path
  // starting with a single '/' is left out (the CSP allows only 'self' anyway).
  std::vector<std::string> stylesheets;
  std::vector<std::string> scripts;  // emitted as <script type="module" src=..>
  // The portal surface ("workspace", "console", "operator"; [a-z]{1,32}, else ignored). When
  // set, the body is the portal's mount point `<div id="app" data-surface="…"></div>` (the
  // portal draws its own brand bar and footer) plus a <noscript> notice with the name; when
  // empty, the static brand header, `<main id="app">` and footer.
  std::string surface;
};

// The HTML shell of tenant pages: title, theme-color, favicon, theme link, logo (with the display
// name as alt text) or the name as text, footer, and the branding JSON in a
// <script type="application/json" id="livery-branding"> block. No inline script or style.
std::string renderHtmlShell(const ThemeModel& model, const ShellOptions& options);

// The strict CSP of tenant pages (no inline script or style, nothing from other origins).
std::string_view shellContentSecurityPolicy();

enum class ThemeDocument { kHtmlShell, kThemeCss, kBrandingJson };

// Headers for a per-host document: Content-Type, `Vary: Host`, `Cache-Control: no-cache` (always
// revalidated; never shared across hosts), `X-Content-Type-Options: nosniff`, a strong ETag over
// `body`, and for the HTML shell the CSP above plus Referrer-Policy, X-Frame-Options and
// Cross-Origin-Opener-Policy. Hashed assets use assetResponseHeaders() instead.
HeaderList themeResponseHeaders(ThemeDocument document, std::string_view body);

// "\"<first 32 hex digits of SHA-256(body)>\"".
std::string strongEtag(std::string_view body);

}  // namespace livery::whitelabel
