#include "core/ids.hpp"

#include <stdexcept>

#include <openssl/rand.h>

namespace livery {

namespace {

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

std::uint64_t mix(std::uint64_t x) {
  // splitmix64 finaliser: a bijection, so distinct inputs give distinct outputs.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::string encode(std::string_view prefix, std::uint64_t hi, std::uint64_t lo) {
  std::string out;
  out.reserve(prefix.size() + 27);
  out.append(prefix);
  out.push_back('_');
  // 128 bits -> 26 base32 chars (130 bits, top 2 zero).
  for (int i = 25; i >= 0; --i) {
    int bit = i * 5;
    std::uint64_t v;
    if (bit >= 64) {
      v = hi >> (bit - 64);
    } else if (bit + 5 > 64) {
      v = (lo >> bit) | (hi << (64 - bit));
    } else {
      v = lo >> bit;
    }
    out.push_back(kBase32[v & 31]);
  }
  return out;
}

}  // namespace

IdGenerator::IdGenerator() : key_{0, 0}, counter_(0) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key_), sizeof(key_)) != 1 ||           // NOLINT
      RAND_bytes(reinterpret_cast<unsigned char*>(&counter_), sizeof(counter_)) != 1) {  // NOLINT
    throw std::runtime_error("CSPRNG unavailable");
  }
}

std::string IdGenerator::next(std::string_view prefix) {
  std::uint64_t c = ++counter_;
  // lo is a keyed bijection of the counter (distinct within a generator); hi mixes lo with the
  // second key word so every character of the id varies.
  std::uint64_t lo = mix(c ^ key_[0]);
  std::uint64_t hi = mix(lo ^ key_[1]);
  return encode(prefix, hi, lo);
}

std::string IdGenerator::nextTimed(std::string_view prefix, std::int64_t unix_ms) {
  std::uint64_t c = ++counter_;
  std::uint64_t lo = mix(c ^ key_[0]);  // distinct within this generator
  // hi: 48 bits of time, then 16 bits of the keyed counter mix (distinct generators differ in
  // lo's key; time-ordering only needs the top bits).
  std::uint64_t hi = (static_cast<std::uint64_t>(unix_ms) << 16) | (mix(lo ^ key_[1]) & 0xffff);
  return encode(prefix, hi, lo);
}

std::string randomId(std::string_view prefix) {
  std::uint64_t words[2];
  if (RAND_bytes(reinterpret_cast<unsigned char*>(words), sizeof(words)) != 1) {  // NOLINT
    throw std::runtime_error("CSPRNG unavailable");
  }
  return encode(prefix, words[0], words[1]);
}

bool isSafeClientId(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace livery
