#pragma once

// The key-encryption-key (KEK) service behind the vault. A Kms holds one named KEK ("kek id")
// as a keyring of numbered versions; it wraps data keys (DEKs) under the newest version and
// unwraps them under any version it still holds. The KEK bytes never leave the backend
// (a local file, an HSM via PKCS#11, later AWS KMS); only wrapped DEKs do.
//
// Every wrap/unwrap is bound to the credential it belongs to: backends authenticate
// crypto::dekAad(format_version, binding, kek_id, kek_version) (AES-GCM AAD, or an encryption
// context), so a wrapped DEK copied to another row does not unwrap.
//
// Lifecycle of versions (Vault transit style): rotate() adds version N+1 and makes it current;
// older versions stay usable for unwrap until retire(version) removes them, which the caller
// does only after no stored row references that version (Vault::retireKekVersion checks the
// count the storage layer provides). The current version can never be retired.
//
// Thread-safety: every method is safe to call concurrently. Blocking: wrap/unwrap may block
// (HSM round trip, file read on refresh); call them from an offload pool, not an I/O thread.
// Ownership: the caller owns the Kms; it must outlive every Vault that uses it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/secret.hpp"
#include "crypto/envelope.hpp"

namespace livery::crypto {

enum class KekState {
  kCurrent,      // wraps new DEKs and unwraps
  kDecryptOnly,  // unwraps only; rows still on it should be rewrapped, then it can be retired
};

struct KekVersionInfo {
  std::uint32_t version = 0;
  KekState state = KekState::kDecryptOnly;
  std::int64_t created_at_ms = 0;  // 0 when the backend does not know
};

struct WrappedDek {
  std::vector<unsigned char> blob;
  std::string kek_id;
  std::uint32_t kek_version = 0;
};

// A wrapped DEK as read from a row.
struct WrappedDekRef {
  std::span<const unsigned char> blob;
  std::string_view kek_id;
  std::uint32_t kek_version = 0;
};

class Kms {
 public:
  virtual ~Kms() = default;

  // The KEK's name, stored in every envelope (envelope.kek_id).
  virtual std::string_view kekId() const noexcept = 0;
  // "local", "pkcs11", ...
  virtual std::string_view backendName() const noexcept = 0;

  virtual Result<std::uint32_t> currentVersion() = 0;

  // Wraps a 32-byte DEK under the current version for `binding`.
  virtual Result<WrappedDek> wrap(const SecretBytes& dek,
                                  const CredentialBinding& binding,
                                  std::uint32_t format_version) = 0;

  // Unwraps under `wrapped.kek_version`. Errors: kCodeIntegrity when the blob or its binding
  // does not authenticate; kCodeKekUnavailable when the version (or kek id) is not held;
  // kCodeKmsFailure (ErrorCode::kUnavailable) when the backend itself fails.
  virtual Result<SecretBytes> unwrap(const WrappedDekRef& wrapped,
                                     const CredentialBinding& binding,
                                     std::uint32_t format_version) = 0;

  // Adds a new version and makes it current; returns its number. Durable before it returns.
  virtual Result<std::uint32_t> rotate() = 0;

  // Destroys a non-current version. kNotFound if unknown, kConflict if it is current.
  virtual Result<void> retire(std::uint32_t version) = 0;

  // All versions held, ascending.
  virtual Result<std::vector<KekVersionInfo>> versions() = 0;

  // Re-reads the keyring from its source (a rotation made by another process, e.g. the CLI).
  virtual Result<void> refresh() = 0;
};

std::string_view toString(KekState state);

}  // namespace livery::crypto
