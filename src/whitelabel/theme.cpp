#include "whitelabel/theme.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "core/log.hpp"
#include "whitelabel/text.hpp"

namespace livery::whitelabel {

namespace {

struct FontEntry {
  FontChoice font;
  std::string_view name;
  std::string_view stack;
};

constexpr std::array kFonts = {
    FontEntry{FontChoice::kSystem,
              "system",
              "system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif"},
    FontEntry{
        FontChoice::kHumanist,
        "humanist",
        "Seravek,\"Gill Sans Nova\",Ubuntu,Calibri,\"DejaVu Sans\",source-sans-pro,sans-serif"},
    FontEntry{FontChoice::kSerif,
              "serif",
              "Charter,\"Bitstream Charter\",\"Sitka Text\",Cambria,Georgia,serif"},
    FontEntry{
        FontChoice::kRounded,
        "rounded",
        "ui-rounded,\"Hiragino Maru Gothic ProN\",Quicksand,Comfortaa,Manjari,\"Arial Rounded MT\","
        "Calibri,sans-serif"},
    FontEntry{
        FontChoice::kMonospace,
        "mono",
        "ui-monospace,\"Cascadia Code\",\"Source Code Pro\",Menlo,Consolas,\"DejaVu Sans Mono\","
        "monospace"},
};

constexpr std::string_view kShellCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'";

const TextPolicy kNamePolicy{.max_bytes = kMaxDisplayNameBytes, .allow_newlines = false};
const TextPolicy kFooterPolicy{.max_bytes = kMaxFooterBytes, .allow_newlines = false};

bool isValidEmail(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmailBytes) {
    return false;
  }
  std::size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  if (local.size() > 64 || domain.size() < 3 || domain.find('.') == std::string_view::npos ||
      domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  auto local_ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
  };
  auto domain_ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  };
  return std::all_of(local.begin(), local.end(), local_ok) &&
         std::all_of(domain.begin(), domain.end(), domain_ok);
}

bool isAssetHash(std::string_view h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Error fieldError(std::string_view field, std::string message) {
  return fail(ErrorCode::kUnprocessable, std::move(message)).withParam(std::string(field));
}

Rgb colourOr(std::string_view text, std::string_view fallback) {
  auto c = parseHexColor(text);
  if (c) {
    return *c;
  }
  auto d = parseHexColor(fallback);  // the defaults are constants that parse
  return d ? *d : Rgb{};
}

std::string assetUrlOrEmpty(std::string_view tenant_id, std::string_view hash) {
  if (hash.empty()) {
    return {};
  }
  auto p = assetPath(tenant_id, hash);
  return p ? std::move(*p) : std::string();
}

bool isSameOriginPath(std::string_view url) {
  return url.size() >= 2 && url[0] == '/' && url[1] != '/' &&
         url.find_first_of("\\\"'<> \t\r\n") == std::string_view::npos;
}

bool isValidSurface(std::string_view surface) {
  return !surface.empty() && surface.size() <= 32 &&
         std::all_of(surface.begin(), surface.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

bool isValidLang(std::string_view lang) {
  return !lang.empty() && lang.size() <= 16 && std::all_of(lang.begin(), lang.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

void cssVar(std::string& out, std::string_view name, Rgb c) {
  out += "--";
  out += name;
  out.push_back(':');
  out += toHex(c);
  out.push_back(';');
}

void darkOverrides(std::string& out, const BrandPalette& p) {
  cssVar(out, "brand-text", p.primary_text_dark);
  cssVar(out, "brand-border", p.primary_border_dark);
  cssVar(out, "accent-text", p.accent_text_dark);
}

void jsonColour(std::string& out, std::string_view key, Rgb c, bool first = false) {
  if (!first) {
    out.push_back(',');
  }
  appendJsonString(out, key);
  out.push_back(':');
  appendJsonString(out, toHex(c));
}

void jsonStringOrNull(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  appendJsonString(out, key);
  out.push_back(':');
  if (value.empty()) {
    out += "null";
  } else {
    appendJsonString(out, value);
  }
}

}  // namespace

std::string_view toString(FontChoice font) {
  for (const auto& f : kFonts) {
    if (f.font == font) {
      return f.name;
    }
  }
  return "system";
}

Result<FontChoice> parseFontChoice(std::string_view name) {
  for (const auto& f : kFonts) {
    if (f.name == name) {
      return f.font;
    }
  }
  return fail(ErrorCode::kUnprocessable,
              "unknown font; choose system, humanist, serif, rounded or mono")
      .withParam("font");
}

std::string_view fontStack(FontChoice font) {
  for (const auto& f : kFonts) {
    if (f.font == font) {
      return f.stack;
    }
  }
  return kFonts[0].stack;
}

Result<void> validateBranding(const storage::Branding& branding) {
  std::string name =
      sanitizeText(branding.display_name, {.max_bytes = 4096, .allow_newlines = false});
  if (name.empty()) {
    return fieldError("display_name", "display name must not be empty");
  }
  if (name.size() > kMaxDisplayNameBytes || !isValidUtf8(branding.display_name)) {
    return fieldError("display_name", "display name must be valid text of at most 100 bytes");
  }
  if (!parseHexColor(branding.primary_color)) {
    return fieldError("primary_color", "colour must be #rrggbb");
  }
  if (!parseHexColor(branding.accent_color)) {
    return fieldError("accent_color", "colour must be #rrggbb");
  }
  if (!branding.support_email.empty() && !isValidEmail(branding.support_email)) {
    return fieldError("support_email", "support email is not a valid address");
  }
  if (branding.footer_text.size() > kMaxFooterBytes || !isValidUtf8(branding.footer_text)) {
    return fieldError("footer_text", "footer text must be valid text of at most 500 bytes");
  }
  if (!branding.logo_asset.empty() && !isAssetHash(branding.logo_asset)) {
    return fieldError("logo_asset", "invalid asset reference");
  }
  if (!branding.favicon_asset.empty() && !isAssetHash(branding.favicon_asset)) {
    return fieldError("favicon_asset", "invalid asset reference");
  }
  return {};
}

ThemeModel makeThemeModel(const storage::Branding& branding, FontChoice font) {
  ThemeModel m;
  m.tenant_id = branding.tenant_id;
  m.display_name = sanitizeText(branding.display_name, kNamePolicy);
  m.palette = derivePalette(colourOr(branding.primary_color, kDefaultPrimary),
                            colourOr(branding.accent_color, kDefaultAccent));
  m.font = font;
  m.logo_url = assetUrlOrEmpty(branding.tenant_id, branding.logo_asset);
  m.favicon_url = assetUrlOrEmpty(branding.tenant_id, branding.favicon_asset);
  if (isValidEmail(branding.support_email)) {
    m.support_email = branding.support_email;
  }
  m.footer_text = sanitizeText(branding.footer_text, kFooterPolicy);
  return m;
}

std::string renderThemeCss(const ThemeModel& model) {
  const BrandPalette& p = model.palette;
  std::string out;
  out.reserve(1024);
  out += "/* Livery tenant theme (generated) */\n:root{";
  cssVar(out, "brand", p.primary);
  cssVar(out, "on-brand", p.on_primary);
  cssVar(out, "brand-hover", p.primary_hover);
  cssVar(out, "on-brand-hover", p.on_primary_hover);
  cssVar(out, "brand-active", p.primary_active);
  cssVar(out, "on-brand-active", p.on_primary_active);
  cssVar(out, "brand-border", p.primary_border);
  cssVar(out, "brand-text", p.primary_text);
  cssVar(out, "accent", p.accent);
  cssVar(out, "on-accent", p.on_accent);
  cssVar(out, "accent-text", p.accent_text);
  // Aliases under the names the portal stylesheet reads (web/src/styles/app.css).
  cssVar(out, "lv-primary", p.primary);
  cssVar(out, "lv-on-primary", p.on_primary);
  cssVar(out, "lv-accent", p.accent);
  cssVar(out, "lv-on-accent", p.on_accent);
  out += "--font-body:";
  out += fontStack(model.font);
  out += ";}\n@media (prefers-color-scheme:dark){:root:not([data-theme=light]){";
  darkOverrides(out, p);
  out += "}}\n:root[data-theme=dark]{";
  darkOverrides(out, p);
  out += "}\n";
  return out;
}

std::string renderBrandingJson(const ThemeModel& model) {
  const BrandPalette& p = model.palette;
  std::string out;
  out.reserve(1024);
  out += "{\"tenant_id\":";
  appendJsonString(out, model.tenant_id);
  if (model.tenant_id.empty()) {
    out += ",\"tenant\":null";
  } else {
    out += ",\"tenant\":{\"slug\":";
    appendJsonString(out, model.slug);
    out += ",\"display_name\":";
    appendJsonString(out, model.display_name);
    out.push_back('}');
  }
  out += ",\"display_name\":";
  appendJsonString(out, model.display_name);
  out += ",\"colors\":{";
  jsonColour(out, "primary", p.primary, true);
  jsonColour(out, "on_primary", p.on_primary);
  jsonColour(out, "text_on_primary", p.on_primary);
  jsonColour(out, "primary_hover", p.primary_hover);
  jsonColour(out, "on_primary_hover", p.on_primary_hover);
  jsonColour(out, "primary_active", p.primary_active);
  jsonColour(out, "on_primary_active", p.on_primary_active);
  jsonColour(out, "primary_border", p.primary_border);
  jsonColour(out, "primary_text", p.primary_text);
  jsonColour(out, "primary_text_dark", p.primary_text_dark);
  jsonColour(out, "accent", p.accent);
  jsonColour(out, "on_accent", p.on_accent);
  jsonColour(out, "accent_text", p.accent_text);
  jsonColour(out, "accent_text_dark", p.accent_text_dark);
  out += "},\"font\":";
  appendJsonString(out, toString(model.font));
  jsonStringOrNull(out, "logo_url", model.logo_url);
  jsonStringOrNull(out, "favicon_url", model.favicon_url);
  jsonStringOrNull(out, "support_email", model.support_email);
  out += ",\"footer_text\":";
  appendJsonString(out, model.footer_text);
  out += ",\"theme_css_url\":\"/theme.css\"}";
  return out;
}

std::string renderHtmlShell(const ThemeModel& model, const ShellOptions& options) {
  std::string name = model.display_name.empty() ? sanitizeText(options.fallback_title, kNamePolicy)
                                                : model.display_name;
  std::string page = sanitizeText(options.page_title, kNamePolicy);
  std::string out;
  out.reserve(2048);
  out += "<!doctype html>\n<html lang=\"";
  out += isValidLang(options.lang) ? options.lang : std::string("en");
  out +=
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  if (!page.empty()) {
    appendHtmlEscaped(out, page);
    out += " \xC2\xB7 ";
  }
  appendHtmlEscaped(out, name);
  out += "</title>\n<meta name=\"theme-color\" content=\"";
  out += toHex(model.palette.primary);
  out += "\">\n";
  if (!model.favicon_url.empty()) {
    out += "<link rel=\"icon\" href=\"";
    appendHtmlEscaped(out, model.favicon_url);
    out += "\">\n";
  }
  auto stylesheet = [&out](std::string_view url) {
    if (isSameOriginPath(url)) {
      out += "<link rel=\"stylesheet\" href=\"";
      appendHtmlEscaped(out, url);
      out += "\">\n";
    }
  };
  stylesheet(options.theme_css_url);
  for (const auto& s : options.stylesheets) {
    stylesheet(s);
  }
  for (const auto& s : options.scripts) {
    if (isSameOriginPath(s)) {
      out += "<script type=\"module\" src=\"";
      appendHtmlEscaped(out, s);
      out += "\"></script>\n";
    }
  }
  out += "</head>\n<body>\n";
  if (isValidSurface(options.surface)) {
    // The portal's mount point; the portal draws the brand bar and footer itself.
    out += "<div id=\"app\" data-surface=\"";
    out += options.surface;
    out += "\"></div>\n<noscript><p class=\"noscript\">";
    appendHtmlEscaped(out, name);
    out += " needs JavaScript to run in this browser.</p></noscript>\n";
  } else {
    out += "<header class=\"brand-bar\">";
    if (!model.logo_url.empty()) {
      out += "<img class=\"brand-logo\" src=\"";
      appendHtmlEscaped(out, model.logo_url);
      out += "\" alt=\"";
      appendHtmlEscaped(out, name);
      out += "\">";
    } else {
      out += "<span class=\"brand-name\">";
      appendHtmlEscaped(out, name);
      out += "</span>";
    }
    out += "</header>\n<main id=\"app\"></main>\n<footer class=\"brand-footer\">";
    appendHtmlEscaped(out, model.footer_text);
    if (!model.support_email.empty()) {
      out += " <a href=\"mailto:";
      appendHtmlEscaped(out, model.support_email);
      out += "\">";
      appendHtmlEscaped(out, model.support_email);
      out += "</a>";
    }
    out += "</footer>\n";
  }
  out += "<script type=\"application/json\" id=\"livery-branding\">";
  out += escapeJsonForHtmlScript(renderBrandingJson(model));
  out += "</script>\n</body>\n</html>\n";
  return out;
}

std::string_view shellContentSecurityPolicy() {
  return kShellCsp;
}

std::string strongEtag(std::string_view body) {
  std::string hex = sha256Hex(body);
  return "\"" + hex.substr(0, 32) + "\"";
}

HeaderList themeResponseHeaders(ThemeDocument document, std::string_view body) {
  HeaderList h;
  switch (document) {
    case ThemeDocument::kHtmlShell:
      h.emplace_back("Content-Type", "text/html; charset=utf-8");
      break;
    case ThemeDocument::kThemeCss:
      h.emplace_back("Content-Type", "text/css; charset=utf-8");
      break;
    case ThemeDocument::kBrandingJson:
      h.emplace_back("Content-Type", "application/json");
      break;
  }
  h.emplace_back("Cache-Control", "no-cache");
  h.emplace_back("Vary", "Host");
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("ETag", strongEtag(body));
  if (document == ThemeDocument::kHtmlShell) {
    h.emplace_back("Content-Security-Policy", std::string(kShellCsp));
    h.emplace_back("Referrer-Policy", "strict-origin-when-cross-origin");
    h.emplace_back("X-Frame-Options", "DENY");
    h.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  }
  return h;
}

}  // namespace livery::whitelabel
