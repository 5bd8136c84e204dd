#include "crypto/password.hpp"

#include <cstring>

#include <sodium.h>

namespace livery::crypto {

Result<PasswordHasher> PasswordHasher::create(PasswordHashParams params) {
  if (sodium_init() < 0) {
    return fail(ErrorCode::kInternal, "password hashing unavailable", "sodium_init failed");
  }
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      params.mem_limit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return fail(ErrorCode::kInternal,
                "invalid password hashing parameters",
                "Argon2id ops/mem limits outside libsodium's range");
  }
  return PasswordHasher(params);
}

Result<std::string> PasswordHasher::hash(const SecretBytes& password) const {
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    return fail(ErrorCode::kBadRequest,
                "password must be 1.." + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out,
                            reinterpret_cast<const char*>(password.data()),  // NOLINT
                            password.size(),
                            params_.ops_limit,
                            params_.mem_limit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(ErrorCode::kUnavailable,
                "password hashing failed",
                "crypto_pwhash_str_alg failed (out of memory?)");
  }
  return std::string(out);
}

Result<PasswordCheck> PasswordHasher::verify(std::string_view encoded,
                                             const SecretBytes& password) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES || encoded.size() > kMaxEncodedHashBytes ||
      !encoded.starts_with(crypto_pwhash_argon2id_STRPREFIX)) {
    return fail(ErrorCode::kInternal,
                "stored password hash is not usable",
                "stored password hash is not an Argon2id string");
  }
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    return PasswordCheck{};  // cannot match anything we would have stored
  }
  char stored[crypto_pwhash_STRBYTES] = {};
  std::memcpy(stored, encoded.data(), encoded.size());
  PasswordCheck out;
  out.match = crypto_pwhash_str_verify(stored,
                                       reinterpret_cast<const char*>(password.data()),  // NOLINT
                                       password.size()) == 0;
  if (out.match) {
    out.needs_rehash = needsRehash(encoded);
  }
  return out;
}

bool PasswordHasher::needsRehash(std::string_view encoded) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES) {
    return true;
  }
  char stored[crypto_pwhash_STRBYTES] = {};
  std::memcpy(stored, encoded.data(), encoded.size());
  // 0: same parameters; 1: different parameters; -1: not an Argon2id string.
  return crypto_pwhash_str_needs_rehash(stored, params_.ops_limit, params_.mem_limit_bytes) != 0;
}

}  // namespace livery::crypto
