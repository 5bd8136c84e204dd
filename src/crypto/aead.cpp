#include "crypto/aead.hpp"

#include <array>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/errors.hpp"

namespace livery::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
struct CipherDeleter {
  void operator()(EVP_CIPHER* c) const noexcept { EVP_CIPHER_free(c); }
};

// The per-thread EVP state (see the header comment for why it exists).
struct ThreadGcm {
  std::unique_ptr<EVP_CIPHER, CipherDeleter> cipher{
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)};
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx{EVP_CIPHER_CTX_new()};
  bool primed = false;  // ctx already initialised with `cipher` (later inits pass nullptr)
};

ThreadGcm& threadGcm() {
  thread_local ThreadGcm state;
  return state;
}

Error evpError(std::string_view step) {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  return fail(ErrorCode::kInternal,
              "encryption failure",
              std::string("AES-256-GCM ") + std::string(step) + " failed, openssl error " +
                  std::to_string(err));
}

Result<void> checkParams(std::span<const unsigned char> key,
                         std::span<const unsigned char> nonce,
                         std::span<const unsigned char> aad,
                         std::size_t text_size,
                         std::size_t tag_size) {
  if (key.size() != kAes256KeyBytes) {
    return fail(ErrorCode::kInternal,
                "encryption failure",
                "AES-256-GCM needs a 32-byte key, got " + std::to_string(key.size()));
  }
  if (nonce.size() != kGcmNonceBytes) {
    return fail(ErrorCode::kInternal,
                "encryption failure",
                "AES-256-GCM accepts only 96-bit nonces, got " + std::to_string(nonce.size() * 8) +
                    " bits");
  }
  if (tag_size != kGcmTagBytes) {
    return fail(
        ErrorCode::kInternal,
        "encryption failure",
        "AES-256-GCM accepts only 128-bit tags, got " + std::to_string(tag_size * 8) + " bits");
  }
  if (text_size > kMaxAeadInputBytes || aad.size() > kMaxAeadInputBytes) {
    return fail(ErrorCode::kInternal, "encryption failure", "AES-256-GCM input too large");
  }
  return {};
}

// Drops the key schedule of the last real key from the thread's context.
void scrub(ThreadGcm& g) {
  static constexpr std::array<unsigned char, kAes256KeyBytes> kZeroKey{};
  if (EVP_CipherInit_ex2(g.ctx.get(), nullptr, kZeroKey.data(), nullptr, -1, nullptr) != 1) {
    // Could not re-key: reset the context instead (it is re-primed on next use).
    EVP_CIPHER_CTX_reset(g.ctx.get());
    g.primed = false;
    ERR_clear_error();
  }
}

Result<ThreadGcm*> begin(int enc,
                         std::span<const unsigned char> key,
                         std::span<const unsigned char> nonce) {
  ThreadGcm& g = threadGcm();
  if (!g.cipher || !g.ctx) {
    return evpError("context creation");
  }
  // After the first init the context already knows the cipher and the (default, 12-byte) IV
  // length; passing nullptr skips the provider re-initialisation.
  const EVP_CIPHER* cipher = g.primed ? nullptr : g.cipher.get();
  if (EVP_CipherInit_ex2(g.ctx.get(), cipher, key.data(), nonce.data(), enc, nullptr) != 1) {
    EVP_CIPHER_CTX_reset(g.ctx.get());
    g.primed = false;
    return evpError("init");
  }
  g.primed = true;
  return &g;
}

}  // namespace

Result<void> aes256GcmSeal(std::span<const unsigned char> key,
                           std::span<const unsigned char> nonce,
                           std::span<const unsigned char> aad,
                           std::span<const unsigned char> plaintext,
                           std::span<unsigned char> ciphertext_out,
                           std::span<unsigned char> tag_out) {
  if (auto r = checkParams(key, nonce, aad, plaintext.size(), tag_out.size()); !r) {
    return r.error();
  }
  if (ciphertext_out.size() != plaintext.size()) {
    return fail(ErrorCode::kInternal, "encryption failure", "AES-256-GCM output size mismatch");
  }
  auto started = begin(1, key, nonce);
  if (!started) {
    return started.error();
  }
  ThreadGcm& g = **started;
  EVP_CIPHER_CTX* ctx = g.ctx.get();
  auto failed = [&](std::string_view step) {
    OPENSSL_cleanse(ciphertext_out.data(), ciphertext_out.size());
    OPENSSL_cleanse(tag_out.data(), tag_out.size());
    Error e = evpError(step);
    scrub(g);
    return e;
  };
  int len = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return failed("aad");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx,
                          ciphertext_out.data(),
                          &len,
                          plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1) {
      return failed("update");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx, ciphertext_out.data() + written, &len) != 1) {
    return failed("final");
  }
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size()) {
    return failed("length check");
  }
  if (EVP_CIPHER_CTX_ctrl(
          ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes), tag_out.data()) != 1) {
    return failed("get tag");
  }
  scrub(g);
  return {};
}

Result<void> aes256GcmOpen(std::span<const unsigned char> key,
                           std::span<const unsigned char> nonce,
                           std::span<const unsigned char> aad,
                           std::span<const unsigned char> ciphertext,
                           std::span<const unsigned char> tag,
                           std::span<unsigned char> plaintext_out) {
  if (auto r = checkParams(key, nonce, aad, ciphertext.size(), tag.size()); !r) {
    return r.error();
  }
  if (plaintext_out.size() != ciphertext.size()) {
    return fail(ErrorCode::kInternal, "decryption failure", "AES-256-GCM output size mismatch");
  }
  auto started = begin(0, key, nonce);
  if (!started) {
    return started.error();
  }
  ThreadGcm& g = **started;
  EVP_CIPHER_CTX* ctx = g.ctx.get();
  auto failed = [&](std::string_view step) {
    OPENSSL_cleanse(plaintext_out.data(), plaintext_out.size());
    Error e = evpError(step);
    scrub(g);
    return e;
  };
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return failed("aad");
  }
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx,
                          plaintext_out.data(),
                          &len,
                          ciphertext.data(),
                          static_cast<int>(ciphertext.size())) != 1) {
      return failed("update");
    }
    written = len;
  }
  // EVP takes a non-const tag pointer for SET_TAG; it only reads it.
  std::array<unsigned char, kGcmTagBytes> tag_copy{};
  std::copy(tag.begin(), tag.end(), tag_copy.begin());
  if (EVP_CIPHER_CTX_ctrl(
          ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tag_copy.data()) != 1) {
    return failed("set tag");
  }
  if (EVP_DecryptFinal_ex(ctx, plaintext_out.data() + written, &len) != 1) {
    // The tag did not verify. Not an OpenSSL malfunction: report it as an integrity failure.
    ERR_clear_error();
    OPENSSL_cleanse(plaintext_out.data(), plaintext_out.size());
    scrub(g);
    return Error(ErrorCode::kInternal,
                 "decryption failure: authentication tag mismatch",
                 "AES-256-GCM tag verification failed")
        .withCode(std::string(kCodeIntegrity));
  }
  scrub(g);
  return {};
}

}  // namespace livery::crypto
