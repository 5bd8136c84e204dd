#include "crypto/api_key.hpp"

#include <algorithm>
#include <cstring>

#include <boost/crc.hpp>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/encoding.hpp"
#include "crypto/private_file.hpp"

namespace livery::crypto {
namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int base62Value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'Z') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 36;
  }
  return -1;
}

void appendChecksum(std::string& out, std::uint32_t crc) {
  char digits[kTokenChecksumChars];
  std::uint64_t v = crc;
  for (std::size_t i = kTokenChecksumChars; i-- > 0;) {
    digits[i] = kBase62[v % 62];
    v /= 62;
  }
  out.append(digits, kTokenChecksumChars);
}

Error invalid(std::string detail) {
  return fail(ErrorCode::kUnauthenticated, "invalid API key", "api key rejected: " + detail)
      .withCode("invalid_api_key");
}

struct MdDeleter {
  void operator()(EVP_MD* m) const noexcept { EVP_MD_free(m); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

Error macError(std::string_view step) {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  return fail(
      ErrorCode::kInternal,
      "key hashing failure",
      "HMAC-SHA-256 " + std::string(step) + " failed, openssl error " + std::to_string(err));
}

// One reusable digest context per thread: hash() copies the precomputed keyed state into it.
EVP_MD_CTX* threadWorkCtx() {
  thread_local MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

std::string_view tokenKindTag(TokenKind kind) {
  switch (kind) {
    case TokenKind::kLive:
      return "live";
    case TokenKind::kTest:
      return "test";
    case TokenKind::kOperator:
      return "op";
    case TokenKind::kSession:
      return "sess";
  }
  return "live";
}

namespace api_key {

std::uint32_t crc32(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

Result<SecretBytes> generate(TokenKind kind, RandomSource& random) {
  std::string out;
  out.reserve(kMaxTokenBytes);
  out.append(kTokenPrefix);
  out.append(tokenKindTag(kind));
  out.push_back('_');
  // Uniform base62 by rejection: bytes >= 248 (= 4 * 62) are discarded.
  std::array<unsigned char, 64> pool{};
  std::size_t produced = 0;
  while (produced < kTokenRandomChars) {
    if (auto r = random.fill(pool); !r) {
      wipeString(out);
      return r.error();
    }
    for (unsigned char b : pool) {
      if (b < 248 && produced < kTokenRandomChars) {
        out.push_back(kBase62[b % 62]);
        ++produced;
      }
    }
  }
  OPENSSL_cleanse(pool.data(), pool.size());
  appendChecksum(out, crc32(out));
  return SecretBytes::takeFrom(out);
}

Result<ParsedToken> parse(std::string_view text) {
  if (text.size() > kMaxTokenBytes) {
    return invalid("too long");
  }
  if (!text.starts_with(kTokenPrefix)) {
    return invalid("missing lvr_ prefix");
  }
  std::string_view rest = text.substr(kTokenPrefix.size());
  auto sep = rest.find('_');
  if (sep == std::string_view::npos) {
    return invalid("missing kind");
  }
  std::string_view tag = rest.substr(0, sep);
  ParsedToken out;
  out.text = text;
  if (tag == "live") {
    out.kind = TokenKind::kLive;
  } else if (tag == "test") {
    out.kind = TokenKind::kTest;
  } else if (tag == "op") {
    out.kind = TokenKind::kOperator;
  } else if (tag == "sess") {
    out.kind = TokenKind::kSession;
  } else {
    return invalid("unknown kind");
  }
  std::string_view body = rest.substr(sep + 1);
  if (body.size() != kTokenRandomChars + kTokenChecksumChars) {
    return invalid("wrong length");
  }
  if (!std::all_of(body.begin(), body.end(), [](char c) { return base62Value(c) >= 0; })) {
    return invalid("character outside [0-9A-Za-z]");
  }
  std::uint64_t claimed = 0;
  for (char c : body.substr(kTokenRandomChars)) {
    claimed = claimed * 62 + static_cast<std::uint64_t>(base62Value(c));
  }
  if (claimed != crc32(text.substr(0, text.size() - kTokenChecksumChars))) {
    return invalid("checksum mismatch");
  }
  return out;
}

std::string last4(std::string_view token) {
  if (token.size() < 8) {
    return {};
  }
  return std::string(token.substr(token.size() - 4));
}

}  // namespace api_key

// ---- KeyHasher -----------------------------------------------------------------------------

// HMAC (RFC 2104) with the two keyed SHA-256 states precomputed: inner = H(K ^ ipad || m),
// outer = H(K ^ opad || inner). Copying a state costs far less than EVP_MAC_CTX_dup.
struct KeyHasher::State {
  MdCtxPtr inner;  // SHA-256 after absorbing K ^ ipad; read-only after create()
  MdCtxPtr outer;  // SHA-256 after absorbing K ^ opad; read-only after create()
};

KeyHasher::KeyHasher(std::unique_ptr<State> state) : state_(std::move(state)) {}
KeyHasher::KeyHasher(KeyHasher&&) noexcept = default;
KeyHasher& KeyHasher::operator=(KeyHasher&&) noexcept = default;
KeyHasher::~KeyHasher() = default;

Result<KeyHasher> KeyHasher::create(const SecretBytes& pepper) {
  constexpr std::size_t kBlock = 64;
  if (pepper.size() < kMinPepperBytes) {
    return fail(
        ErrorCode::kInternal, "pepper too short", "the API-key pepper must be at least 32 bytes");
  }
  std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) {
    return macError("fetch");
  }
  // K0: the key, hashed if longer than the block, zero-padded to the block.
  SecretBytes k0(kBlock);
  if (pepper.size() > kBlock) {
    unsigned int len = 0;
    if (EVP_Digest(pepper.data(), pepper.size(), k0.data(), &len, md.get(), nullptr) != 1) {
      return macError("key digest");
    }
  } else {
    std::memcpy(k0.data(), pepper.data(), pepper.size());
  }
  SecretBytes pad(kBlock);
  auto keyed = [&](unsigned char x) -> Result<MdCtxPtr> {
    for (std::size_t i = 0; i < kBlock; ++i) {
      pad.data()[i] = k0.data()[i] ^ x;
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), pad.data(), pad.size()) != 1) {
      return macError("init");
    }
    return ctx;
  };
  auto inner = keyed(0x36);
  if (!inner) {
    return inner.error();
  }
  auto outer = keyed(0x5c);
  if (!outer) {
    return outer.error();
  }
  auto state = std::make_unique<State>();
  state->inner = std::move(*inner);
  state->outer = std::move(*outer);
  return KeyHasher(std::move(state));
}

Result<KeyHasher::Digest> KeyHasher::hash(std::string_view token) const {
  EVP_MD_CTX* w = threadWorkCtx();
  if (w == nullptr) {
    return macError("context");
  }
  Digest out{};
  unsigned int len = 0;
  if (EVP_MD_CTX_copy_ex(w, state_->inner.get()) != 1 ||
      EVP_DigestUpdate(w, token.data(), token.size()) != 1 ||
      EVP_DigestFinal_ex(w, out.data(), &len) != 1 || len != out.size()) {
    return macError("inner");
  }
  if (EVP_MD_CTX_copy_ex(w, state_->outer.get()) != 1 ||
      EVP_DigestUpdate(w, out.data(), out.size()) != 1 ||
      EVP_DigestFinal_ex(w, out.data(), &len) != 1 || len != out.size()) {
    return macError("outer");
  }
  return out;
}

bool constantTimeEqual(std::span<const unsigned char> a, std::span<const unsigned char> b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---- pepper file ---------------------------------------------------------------------------

Result<SecretBytes> loadOrCreatePepper(const std::string& path,
                                       bool create_if_missing,
                                       RandomSource& random,
                                       Logger& logger) {
  constexpr std::size_t kMaxPepperFileBytes = 1024;
  auto content = readPrivateFile(path, kMaxPepperFileBytes);
  if (!content && content.error().code == ErrorCode::kNotFound && create_if_missing) {
    auto pepper = randomSecret(random, KeyHasher::kMinPepperBytes);
    if (!pepper) {
      return pepper.error();
    }
    std::string text = hexEncode(pepper->bytes());
    text.push_back('\n');
    SecretBytes file = SecretBytes::takeFrom(text);
    auto written = writePrivateFile(path, file, WriteMode::kCreateNew);
    if (written) {
      LIVERY_LOG(logger,
                 Info,
                 "security.pepper_file_created",
                 {"path", path},
                 {"mode", "0600"},
                 {"note", "back this file up: without it no stored API-key hash matches"});
    } else if (written.error().code != ErrorCode::kConflict) {
      return written.error();
    }
    content = readPrivateFile(path, kMaxPepperFileBytes);
  }
  if (!content) {
    return content.error();
  }
  std::string_view text = content->reveal();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.size() % 2 != 0 || text.size() / 2 < KeyHasher::kMinPepperBytes) {
    std::string msg = "pepper file " + path + " must hold at least 64 hex characters";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  SecretBytes pepper(text.size() / 2);
  if (!hexDecodeInto(text, {pepper.data(), pepper.size()})) {
    std::string msg = "pepper file " + path + " is not hex";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  return pepper;
}

}  // namespace livery::crypto
