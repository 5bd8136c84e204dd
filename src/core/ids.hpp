#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace livery {

// Generates unique, unguessable identifiers ("req_2f9c…", "tnt_…"). Each generator is seeded
// from the OpenSSL CSPRNG and then advances a 128-bit counter through a keyed permutation, so ids
// are unique across threads (one generator per thread), nodes and restarts with overwhelming
// probability. Not thread-safe: give each thread its own generator.
class IdGenerator {
 public:
  IdGenerator();
  // prefix + '_' + 26 lowercase base32 characters (128 bits).
  std::string next(std::string_view prefix);
  // Like next(), but the first 10 characters encode `unix_ms` (48 bits), so ids sort by time
  // (ULID-like). Request ids are the primary key of the usage ledger: time-ordered keys append
  // to the index instead of splitting random pages.
  std::string nextTimed(std::string_view prefix, std::int64_t unix_ms);

 private:
  std::uint64_t key_[2];
  std::uint64_t counter_;
};

// Random identifier using the CSPRNG directly (for rarely-created entities).
std::string randomId(std::string_view prefix);

// True for a client-supplied id that may be logged and echoed: 1..128 of [A-Za-z0-9._:-].
bool isSafeClientId(std::string_view id);

}  // namespace livery
