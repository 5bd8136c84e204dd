#include "whitelabel/text.hpp"

#include <algorithm>
#include <cstdint>

namespace livery::whitelabel {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at text[i]. Returns the number of bytes consumed (>= 1) and sets `cp`;
// on an invalid or truncated sequence consumes one byte and sets `cp` to U+FFFD.
std::size_t decodeUtf8(std::string_view text, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    cp = kReplacement;
    return 1;
  }
  if (i + len > text.size()) {
    cp = kReplacement;
    return 1;
  }
  for (std::size_t k = 1; k < len; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      cp = kReplacement;
      return 1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = kReplacement;
    return 1;
  }
  return len;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::size_t utf8Length(char32_t cp) {
  if (cp < 0x80) {
    return 1;
  }
  if (cp < 0x800) {
    return 2;
  }
  return cp < 0x10000 ? 3 : 4;
}

bool isDroppedCodePoint(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||  // C0, DEL, C1
         (cp >= 0x200B && cp <= 0x200F) ||                         // zero-width, LRM, RLM
         (cp >= 0x202A && cp <= 0x202E) ||                         // bidi embeddings/overrides
         (cp >= 0x2066 && cp <= 0x2069) ||                         // bidi isolates
         cp == 0xFEFF;                                             // BOM / zero-width no-break
}

bool isTrimmedSpace(char32_t cp) {
  return cp == ' ' || cp == '\n' || cp == 0xA0 || cp == 0x3000;
}

}  // namespace

void appendHtmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  appendHtmlEscaped(out, text);
  return out;
}

std::string escapeJsonForHtmlScript(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 16);
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string sanitizeText(std::string_view text, const TextPolicy& policy) {
  // Pass 1: decode, drop and map code points.
  std::u32string cps;
  cps.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    i += decodeUtf8(text, i, cp);
    if (cp == '\t') {
      cp = ' ';
    }
    if (cp == '\n' && policy.allow_newlines) {
      cps.push_back(cp);
      continue;
    }
    if (isDroppedCodePoint(cp)) {
      continue;
    }
    cps.push_back(cp);
  }
  // Pass 2: trim, then encode within the byte budget (never splitting a code point).
  std::size_t begin = 0;
  std::size_t end = cps.size();
  while (begin < end && isTrimmedSpace(cps[begin])) {
    ++begin;
  }
  while (end > begin && isTrimmedSpace(cps[end - 1])) {
    --end;
  }
  std::string out;
  out.reserve(std::min(text.size(), policy.max_bytes));
  for (std::size_t k = begin; k < end; ++k) {
    if (out.size() + utf8Length(cps[k]) > policy.max_bytes) {
      break;
    }
    appendUtf8(out, cps[k]);
  }
  // Truncation may have left trailing space.
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) {
    out.pop_back();
  }
  return out;
}

bool isValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t n = decodeUtf8(text, i, cp);
    if (cp == kReplacement && !(n == 3 && text.substr(i, 3) == "\xEF\xBF\xBD")) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace livery::whitelabel
