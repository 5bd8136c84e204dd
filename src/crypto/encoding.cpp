#include "crypto/encoding.hpp"

#include <array>
#include <cstring>

#include <openssl/crypto.h>

namespace livery::crypto {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

constexpr std::array<signed char, 256> makeB64UrlTable() {
  std::array<signed char, 256> table{};
  for (auto& v : table) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kB64Url[i])] = static_cast<signed char>(i);
  }
  return table;
}
constexpr auto kB64UrlTable = makeB64UrlTable();

}  // namespace

std::string hexEncode(std::span<const unsigned char> bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
  }
  return out;
}

bool hexDecodeInto(std::string_view text, std::span<unsigned char> out) {
  if (text.size() % 2 != 0 || out.size() != text.size() / 2) {
    return false;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hexValue(text[2 * i]);
    int lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(out.data(), out.size());
      return false;
    }
    out[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  return true;
}

std::optional<std::vector<unsigned char>> hexDecode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<unsigned char> out(text.size() / 2);
  if (!hexDecodeInto(text, out)) {
    return std::nullopt;
  }
  return out;
}

std::string base64UrlEncode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (unsigned{bytes[i]} << 16) | (unsigned{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned v = unsigned{bytes[i]} << 16;
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (rest == 2) {
    unsigned v = (unsigned{bytes[i]} << 16) | (unsigned{bytes[i + 1]} << 8);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
  return out;
}

std::size_t base64UrlDecodedSize(std::size_t encoded_size) {
  switch (encoded_size % 4) {
    case 0:
      return encoded_size / 4 * 3;
    case 2:
      return encoded_size / 4 * 3 + 1;
    case 3:
      return encoded_size / 4 * 3 + 2;
    default:
      return 0;
  }
}

std::optional<std::vector<unsigned char>> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::vector<unsigned char> out;
  out.reserve(base64UrlDecodedSize(text.size()));
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = kB64UrlTable[static_cast<unsigned char>(c)];
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
    }
  }
  // Canonical form: the bits left over after the last full byte must be zero.
  if (bits > 0 && (acc & ((1U << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace livery::crypto
