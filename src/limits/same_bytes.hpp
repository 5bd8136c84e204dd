#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace livery::limits {

// Equality of short keys (ids of a few dozen bytes), compared inline eight bytes at a time. On
// the benchmark machine glibc's memcmp (the EVEX variant that std::string_view's == calls) took
// about 30 ns per call on such keys, half of a hot admission; this loop takes a few. For the
// per-request lookups of limits/ (the keys are ids, not secrets: no constant-time need).
inline bool sameBytes(const char* a, const char* b, std::size_t n) noexcept {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) {
      return false;
    }
  }
  for (; n > 0; ++a, ++b, --n) {
    if (*a != *b) {
      return false;
    }
  }
  return true;
}

inline bool sameBytes(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && sameBytes(a.data(), b.data(), a.size());
}

}  // namespace livery::limits
