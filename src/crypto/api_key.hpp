#pragma once

// Livery-issued bearer tokens: gateway API keys, operator tokens and session tokens share one
// recognisable format (GitHub/Stripe style, research/security.md §2.1):
//
//   lvr_<kind>_<32 base62 random chars><6 base62 CRC32 chars>
//
//   kind      live | test (tenant API keys), op (operator tokens), sess (session cookies)
//   random    32 characters of [0-9A-Za-z] drawn uniformly from the CSPRNG: 190 bits
//   checksum  CRC-32 (IEEE 802.3) of everything before it, as 6 base62 digits, most
//             significant first, zero-padded ("0" is digit 0)
//
// The fixed "lvr_" prefix lets one secret-scanning regex find every leaked token
// (lvr_(live|test|op|sess)_[0-9A-Za-z]{38}), the logger masks it, and the checksum lets parse()
// reject a mistyped or random string before any lookup. Tokens are stored only as
// KeyHasher::hash() output (HMAC-SHA-256 under a server-side pepper), never in clear.
//
// Pure functions, thread-safe. Error messages never contain the token.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/secret.hpp"
#include "crypto/random.hpp"

namespace livery::crypto {

enum class TokenKind { kLive, kTest, kOperator, kSession };

// "live", "test", "op", "sess".
std::string_view tokenKindTag(TokenKind kind);

inline constexpr std::string_view kTokenPrefix = "lvr_";
inline constexpr std::size_t kTokenRandomChars = 32;
inline constexpr std::size_t kTokenChecksumChars = 6;
// Longest well-formed token ("lvr_sess_" + 38); anything longer is rejected unread.
inline constexpr std::size_t kMaxTokenBytes = 4 + 4 + 1 + kTokenRandomChars + kTokenChecksumChars;

struct ParsedToken {
  TokenKind kind = TokenKind::kLive;
  std::string_view text;  // the whole token, viewing the caller's input
};

namespace api_key {

// A fresh token of `kind`. The result is a secret: show it once, store only its hash.
Result<SecretBytes> generate(TokenKind kind, RandomSource& random);

// Checks prefix, kind, length, alphabet and checksum. kUnauthenticated ("invalid API key",
// OpenAI code invalid_api_key) on any failure; log_detail says which check failed.
Result<ParsedToken> parse(std::string_view text);

// The last four characters, for listings ("…x9Qa"); empty when the input is too short.
std::string last4(std::string_view token);

// CRC-32 of `data` (exposed for the test vectors).
std::uint32_t crc32(std::string_view data);

}  // namespace api_key

// HMAC-SHA-256 of a token under a server-side pepper: the only form in which tokens are
// stored (storage::ApiKey::hash, OperatorToken::hash, Session::token_hash). The two keyed
// SHA-256 states of HMAC (K^ipad, K^opad) are computed once; each hash() copies them into a
// per-thread digest context, so a hash costs two state copies and two SHA-256 blocks (about
// 0.15 µs, bench/crypto_bench.cpp) instead of an EVP_MAC_CTX_dup (about 0.7 µs). Thread-safe:
// hash() is const and may run concurrently. The pepper is kept only inside those states.
class KeyHasher {
 public:
  using Digest = std::array<unsigned char, 32>;
  static constexpr std::size_t kMinPepperBytes = 32;

  static Result<KeyHasher> create(const SecretBytes& pepper);
  KeyHasher(KeyHasher&&) noexcept;
  KeyHasher& operator=(KeyHasher&&) noexcept;
  ~KeyHasher();

  Result<Digest> hash(std::string_view token) const;

 private:
  struct State;
  explicit KeyHasher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Length-independent-time comparison of two digests (CRYPTO_memcmp). Different sizes compare
// unequal (sizes are not secret).
bool constantTimeEqual(std::span<const unsigned char> a, std::span<const unsigned char> b);

// The pepper file (config: security.pepper_file, default <data_dir>/pepper): one line of 64
// lowercase hex characters (32 random bytes), mode 0600. Created on first start with an info
// log line when `create_if_missing`; refused when group/others can access it (the error names
// the file and its mode) or when it holds fewer than 32 bytes. Losing it invalidates every
// stored key hash: back it up with the KEK file.
Result<SecretBytes> loadOrCreatePepper(const std::string& path,
                                       bool create_if_missing,
                                       RandomSource& random,
                                       Logger& logger);

}  // namespace livery::crypto
