#pragma once

// Password hashing for console and workspace accounts: Argon2id (RFC 9106) through libsodium's
// crypto_pwhash_str, which stores algorithm, version, parameters and a random salt in the
// encoded string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>").
//
// Default parameters follow the OWASP Password Storage Cheat Sheet's first Argon2id option:
// m = 19 MiB, t = 2, p = 1 (libsodium always uses one lane). That is ~20-40 ms of one core per
// hash here: hash and verify are blocking and belong on an offload pool, never on an I/O
// thread. API keys are NOT hashed with this (they are 190-bit random: HMAC, see api_key.hpp).
//
// needsRehash() tells the login path to re-hash with the current parameters after a successful
// verify (parameters raised, or an old algorithm). Thread-safe: the hasher is immutable.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::crypto {

struct PasswordHashParams {
  std::uint64_t ops_limit = 2;                      // Argon2 t (passes)
  std::size_t mem_limit_bytes = 19U * 1024 * 1024;  // Argon2 m
};

inline constexpr std::size_t kMaxPasswordBytes = 1024;  // bounds the work an attacker can ask for
inline constexpr std::size_t kMaxEncodedHashBytes = 128;

struct PasswordCheck {
  bool match = false;
  bool needs_rehash = false;  // only meaningful when match
};

class PasswordHasher {
 public:
  // Initialises libsodium (idempotent) and checks the parameters against its limits.
  static Result<PasswordHasher> create(PasswordHashParams params = {});

  // A new encoded hash with a fresh random salt. kBadRequest for an empty or oversized password.
  Result<std::string> hash(const SecretBytes& password) const;

  // Constant-time verify. A malformed or non-Argon2id stored hash is an error (kInternal), not
  // a mismatch; a wrong password is {match=false}.
  Result<PasswordCheck> verify(std::string_view encoded, const SecretBytes& password) const;

  // True when `encoded` was made with other parameters or another algorithm.
  bool needsRehash(std::string_view encoded) const;

  const PasswordHashParams& params() const noexcept { return params_; }

 private:
  explicit PasswordHasher(PasswordHashParams params) : params_(params) {}
  PasswordHashParams params_;
};

}  // namespace livery::crypto
