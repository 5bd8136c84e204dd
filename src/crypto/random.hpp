#pragma once

// Cryptographically secure randomness, injected wherever keys, nonces or tokens are made so
// that tests can simulate a failing generator. Every return is checked: a short read is an
// error, never a partially filled buffer reported as success.

#include <cstddef>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::crypto {

// A source of CSPRNG bytes. Implementations are thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills all of `out` or fails (kInternal); on failure `out` is zeroed.
  virtual Result<void> fill(std::span<unsigned char> out) = 0;
};

// OpenSSL's CSPRNG (RAND_bytes: per-thread DRBGs seeded from the OS). Stateless, thread-safe.
class OpenSslRandom final : public RandomSource {
 public:
  Result<void> fill(std::span<unsigned char> out) override;
};

// `n` random bytes held as a secret (keys, peppers).
Result<SecretBytes> randomSecret(RandomSource& random, std::size_t n);
// `n` random bytes that are not secret (nonces, ids).
Result<std::vector<unsigned char>> randomBytes(RandomSource& random, std::size_t n);

}  // namespace livery::crypto
