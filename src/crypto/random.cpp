#include "crypto/random.hpp"

#include <algorithm>
#include <climits>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

namespace livery::crypto {

Result<void> OpenSslRandom::fill(std::span<unsigned char> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    // RAND_bytes takes an int length; feed large requests in chunks.
    std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX / 2);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      unsigned long err = ERR_get_error();
      ERR_clear_error();
      OPENSSL_cleanse(out.data(), out.size());
      return fail(ErrorCode::kInternal,
                  "random number generator failure",
                  "RAND_bytes failed, openssl error " + std::to_string(err));
    }
    done += chunk;
  }
  return {};
}

Result<SecretBytes> randomSecret(RandomSource& random, std::size_t n) {
  SecretBytes out(n);
  if (auto r = random.fill({out.data(), out.size()}); !r) {
    return r.error();
  }
  return out;
}

Result<std::vector<unsigned char>> randomBytes(RandomSource& random, std::size_t n) {
  std::vector<unsigned char> out(n);
  if (auto r = random.fill(out); !r) {
    return r.error();
  }
  return out;
}

}  // namespace livery::crypto
