#pragma once

// AES-256-GCM (NIST SP 800-38D) through OpenSSL EVP, restricted to the one parameter set the
// vault uses: 256-bit keys, 96-bit nonces, 128-bit tags. Other IV or tag sizes are rejected,
// never silently accepted (Wycheproof's odd-IV groups must come out "unsupported").
//
// Callers supply every buffer; nothing here allocates on success, so a plaintext can be written
// straight into a SecretBytes. On any failure the output buffers are wiped (no partial
// plaintext ever escapes a failed tag check).
//
// Thread-safety: safe to call from any thread. Each thread keeps one EVP_CIPHER_CTX and one
// fetched cipher (created on first use, freed at thread exit) because creating them costs more
// than the encryption of a provider key. The context is re-keyed with zeros after every call,
// so no expanded key schedule of a real key outlives the call.

#include <cstddef>
#include <span>

#include "core/error.hpp"

namespace livery::crypto {

inline constexpr std::size_t kAes256KeyBytes = 32;
inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;
// Upper bound for one message (plaintext or AAD). Provider keys are well under 1 KiB; the bound
// keeps EVP's int lengths far from overflow and rejects absurd inputs early.
inline constexpr std::size_t kMaxAeadInputBytes = 16 * 1024 * 1024;

// Encrypts `plaintext` into `ciphertext_out` (same size) and writes the tag into `tag_out`
// (kGcmTagBytes). The nonce must never repeat under one key: callers draw it from the CSPRNG.
Result<void> aes256GcmSeal(std::span<const unsigned char> key,
                           std::span<const unsigned char> nonce,
                           std::span<const unsigned char> aad,
                           std::span<const unsigned char> plaintext,
                           std::span<unsigned char> ciphertext_out,
                           std::span<unsigned char> tag_out);

// Verifies and decrypts. A tag mismatch fails with crypto::kCodeIntegrity and leaves
// `plaintext_out` (same size as `ciphertext`) zeroed.
Result<void> aes256GcmOpen(std::span<const unsigned char> key,
                           std::span<const unsigned char> nonce,
                           std::span<const unsigned char> aad,
                           std::span<const unsigned char> ciphertext,
                           std::span<const unsigned char> tag,
                           std::span<unsigned char> plaintext_out);

}  // namespace livery::crypto
