#include "providers/json_text.hpp"

#include <bit>
#include <cstring>

namespace livery::providers {

namespace {

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i] (lead byte >= 0x80), or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid, RFC 3629).
std::size_t validUtf8Length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned char>(s[k]);
  };
  auto cont = [&](std::size_t k) {
    return k < s.size() && (byte(k) & 0xC0) == 0x80;
  };
  unsigned char c = byte(i);
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(i + 1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) {
      return 0;
    }
    unsigned char c1 = byte(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) {
      return 0;
    }
    unsigned char c1 = byte(i + 1);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) {
      return 0;  // overlong, or above U+10FFFF
    }
    return 4;
  }
  return 0;
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

void appendJsonEscaped(std::string& out, std::string_view s) {
  std::size_t run = 0;  // start of the pending run of bytes copied verbatim
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t len = validUtf8Length(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.append(kReplacement);  // an invalid UTF-8 byte
        }
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, s.size() - run);
}

void appendJsonQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  appendJsonEscaped(out, s);
  out.push_back('"');
}

std::string jsonQuoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  appendJsonQuoted(out, s);
  return out;
}

void TextMeasure::add(std::string_view utf8) {
  // Eight bytes at a time: a byte with bit 7 set is non-ASCII; a lead byte (11xxxxxx) starts one
  // code point. (w << 1) moves each byte's bit 6 into its bit 7 position.
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = utf8.data();
  std::size_t n = utf8.size();
  std::uint64_t non_ascii_bytes = 0;
  std::uint64_t leads = 0;
  while (n >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    std::uint64_t high = w & kHigh;
    if (high != 0) {
      non_ascii_bytes += static_cast<std::uint64_t>(std::popcount(high));
      leads += static_cast<std::uint64_t>(std::popcount(high & (w << 1)));
    }
    p += 8;
    n -= 8;
  }
  for (; n > 0; --n, ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      ++non_ascii_bytes;
      if (c >= 0xC0) {
        ++leads;
      }
    }
  }
  ascii_bytes += utf8.size() - non_ascii_bytes;
  non_ascii_chars += leads;
}

bool checkJsonStringInner(std::string_view inner, TextMeasure* measure) {
  const char* p = inner.data();
  const char* end = p + inner.size();
  while (p < end) {
    const void* bs = std::memchr(p, '\\', static_cast<std::size_t>(end - p));
    if (bs == nullptr) {
      break;
    }
    p = static_cast<const char*>(bs);
    if (end - p < 2) {
      return false;
    }
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p += 2;
        break;
      case 'u':
        if (end - p < 6 || !isHex(p[2]) || !isHex(p[3]) || !isHex(p[4]) || !isHex(p[5])) {
          return false;
        }
        p += 6;
        break;
      default:
        return false;
    }
  }
  if (measure != nullptr) {
    measure->add(inner);
  }
  return true;
}

std::uint64_t estimateTokens(const TextMeasure& m) {
  return (m.ascii_bytes + 2) / 3 + m.non_ascii_chars;
}

}  // namespace livery::providers
