#pragma once

// Verification of tenant-signed JWTs (compact JWS, RFC 7515/7519) following RFC 8725:
//
// * The algorithm comes from the tenant's key configuration, never from the token: a token is
//   checked only against keys whose configured algorithm equals its "alg". "none" (any case)
//   is rejected, and so is algorithm confusion (an HS256 token against an RSA/EC key: HMAC keys
//   and public keys are different types here, and the header must match the key).
// * "kid" is only a lookup key into the JwtKeySet it is given (the tenant's keys); a token
//   without "kid" is tried against at most kMaxKeysPerSet keys of its algorithm. "jku", "x5u",
//   "x5c" and "jwk" header parameters are never fetched or used; "crit" is refused (no
//   extension is understood, RFC 7515 §4.1.11).
// * Strict base64url (no padding, canonical trailing bits), exactly three segments, bounded
//   sizes, JSON objects of bounded depth.
// * Claims (verifyJwt): "exp" required; "nbf" and "iat" checked when present; "iss" and "aud"
//   (string or array) checked against the key's configured issuer/audience when configured;
//   leeway from JwtPolicy, capped at 60 s; optional maximum lifetime.
// * Supported: HS256 (secret >= 32 bytes, from the vault), RS256 (RSA >= 2048 bits, PKCS#1
//   v1.5), ES256 (P-256, signature as JOSE R||S, 64 bytes).
//
// Keys are immutable after construction and safe to share between threads; verification is
// pure CPU and thread-safe. Errors are kUnauthenticated ("invalid token: <reason>", OpenAI code
// "invalid_jwt"); they never contain the token, a signature or key material.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::crypto {

enum class JwsAlgorithm { kHs256, kRs256, kEs256 };

// Exactly "HS256", "RS256" or "ES256".
std::optional<JwsAlgorithm> parseJwsAlgorithm(std::string_view name);
std::string_view toString(JwsAlgorithm alg);

inline constexpr std::size_t kMaxJwtBytes = 8 * 1024;
inline constexpr std::size_t kMaxKeysPerSet = 32;
inline constexpr std::chrono::seconds kMaxJwtLeeway{60};

// One verification key: algorithm, key material, and the claims it requires.
class JwtKey {
 public:
  // HS256 with a shared secret (at least 32 bytes, RFC 7518 §3.2).
  static Result<JwtKey> hs256(std::string kid, const SecretBytes& secret);
  // RS256 or ES256 from a PEM public key ("BEGIN PUBLIC KEY") or certificate.
  static Result<JwtKey> publicPem(std::string kid, JwsAlgorithm alg, std::string_view pem);
  // RS256 or ES256 from one JWK (RFC 7517) object. Refuses keys for another algorithm, with
  // "use" other than "sig", with "key_ops" lacking "verify", or carrying private members.
  static Result<JwtKey> jwk(std::string_view jwk_json, JwsAlgorithm alg);
  // The usable keys of a JWKS document ({"keys":[...]}) for `alg`; keys for other algorithms
  // or uses are skipped; an empty result, a malformed usable key or a duplicate kid is an
  // error. At most kMaxKeysPerSet keys.
  static Result<std::vector<JwtKey>> jwks(std::string_view jwks_json, JwsAlgorithm alg);

  // Required "iss" / "aud" (empty: not checked).
  JwtKey&& withIssuer(std::string issuer) &&;
  JwtKey&& withAudience(std::string audience) &&;

  const std::string& kid() const noexcept { return kid_; }
  JwsAlgorithm algorithm() const noexcept { return alg_; }
  const std::string& issuer() const noexcept { return issuer_; }
  const std::string& audience() const noexcept { return audience_; }

  struct Material;  // HMAC state or EVP_PKEY (jwt.cpp)
  // True when `signature` is a valid signature of `signing_input` under this key.
  bool verifySignature(std::string_view signing_input,
                       const std::vector<unsigned char>& signature) const;

 private:
  JwtKey(std::string kid, JwsAlgorithm alg, std::shared_ptr<const Material> material);
  std::string kid_;
  JwsAlgorithm alg_;
  std::string issuer_;
  std::string audience_;
  std::shared_ptr<const Material> material_;
};

// A tenant's verification keys. Immutable; share it between threads.
class JwtKeySet {
 public:
  JwtKeySet() = default;
  // Fails on more than kMaxKeysPerSet keys or on two keys with the same non-empty kid.
  static Result<JwtKeySet> create(std::vector<JwtKey> keys);
  const std::vector<JwtKey>& keys() const noexcept { return keys_; }

 private:
  std::vector<JwtKey> keys_;
};

struct JwtPolicy {
  std::chrono::seconds leeway{30};       // clock skew allowance, capped at 60 s
  std::chrono::seconds max_lifetime{0};  // exp - iat (or exp - now) limit; 0: none
  std::size_t max_token_bytes = kMaxJwtBytes;
  std::string required_typ;  // e.g. "JWT" (case-insensitive); empty: any
};

struct JwsResult {
  std::string payload;          // decoded payload bytes
  std::string header_json;      // decoded protected header
  const JwtKey* key = nullptr;  // the key that verified it (points into the set)
};

struct JwtClaims {
  std::string subject;                // "sub" (the end-user id; may be empty)
  std::string issuer;                 // "iss"
  std::vector<std::string> audience;  // "aud"
  std::int64_t expires_at = 0;        // "exp", Unix seconds
  std::int64_t not_before = 0;        // "nbf" (0: absent)
  std::int64_t issued_at = 0;         // "iat" (0: absent)
  std::string kid;                    // the kid of the key that verified the token
  JwsAlgorithm algorithm = JwsAlgorithm::kHs256;
  std::string payload_json;  // raw claims, for extras
};

// Signature check only (no claims): the primitive the Wycheproof JWS vectors exercise.
Result<JwsResult> verifyJws(std::string_view token,
                            const JwtKeySet& keys,
                            std::size_t max_token_bytes = kMaxJwtBytes,
                            std::string_view required_typ = {});

// Signature and claims.
Result<JwtClaims> verifyJwt(std::string_view token,
                            const JwtKeySet& keys,
                            const JwtPolicy& policy,
                            const Clock& clock);

}  // namespace livery::crypto
