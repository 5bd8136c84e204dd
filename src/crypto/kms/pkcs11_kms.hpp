#pragma once

// Pkcs11Kms: the KEK lives in an HSM (any PKCS#11 v2.20+ module; SoftHSM2 in tests). Each KEK
// version is a token object: an AES-256 secret key with CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE
// set and CKA_EXTRACTABLE cleared, usable for CKM_AES_GCM encrypt/decrypt only, labelled
// "<prefix>-v<N>" (the prefix is the envelope's kek_id). DEKs are wrapped and unwrapped inside
// the token with CKM_AES_GCM (C_Encrypt/C_Decrypt): blob = nonce(12) || ct(32) || tag(16),
// AAD = crypto::dekAad(...) in CK_GCM_PARAMS. The KEK bytes never leave the token.
//
// Sessions: PKCS#11 sessions are not safe for concurrent use, so the Kms keeps a pool (at most
// `max_sessions`); a caller borrows one per operation and waits at most `session_wait` for one.
// One extra session stays open for the lifetime of the Kms to keep the user logged in. A
// session that fails with a session/device error is discarded, not returned to the pool.
//
// The user PIN comes from configuration (file or environment), is held in SecretBytes, used
// for C_Login, and never logged or put in an error message.
//
// rotate() generates "<prefix>-v<N+1>" inside the token; retire() destroys the object. Two
// processes rotating at the same moment are detected (duplicate label) and the loser undoes
// its key and reports kConflict.
//
// Thread-safe. Blocking (every call is an HSM round trip): use from an offload pool.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/kms/kms.hpp"
#include "crypto/random.hpp"

namespace livery::crypto {

// A loaded PKCS#11 module (dlopen + C_GetFunctionList + C_Initialize with OS locking). Shared
// by every Pkcs11Kms of the process that uses the same module; C_Finalize and dlclose run when
// the last user goes away (only if this object performed the C_Initialize). Thread-safe.
class Pkcs11Module {
 public:
  static Result<std::shared_ptr<Pkcs11Module>> load(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  const std::string& path() const noexcept { return path_; }
  // The CK_FUNCTION_LIST_PTR, type-erased so this header does not include pkcs11.h.
  const void* functions() const noexcept { return functions_; }

 private:
  Pkcs11Module() = default;
  std::string path_;
  void* handle_ = nullptr;
  const void* functions_ = nullptr;
  bool finalize_ = false;
};

struct Pkcs11KmsOptions {
  std::string token_label;                      // config: kms.pkcs11_token_label
  SecretBytes pin;                              // config: kms.pkcs11_pin(_file); never logged
  std::string key_label_prefix = "livery-kek";  // objects "<prefix>-v<N>"; envelope kek_id
  bool create_if_missing = true;                // generate v1 when the token holds no version
  std::size_t max_sessions = 8;
  std::chrono::milliseconds session_wait = std::chrono::seconds(5);
  // A row naming an unknown version triggers a token re-scan at most this often.
  std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(1);
};

class Pkcs11Kms final : public Kms {
 public:
  static Result<std::unique_ptr<Pkcs11Kms>> open(std::shared_ptr<Pkcs11Module> module,
                                                 Pkcs11KmsOptions options,
                                                 RandomSource& random,
                                                 const Clock& clock,
                                                 Logger& logger);
  ~Pkcs11Kms() override;

  std::string_view kekId() const noexcept override;
  std::string_view backendName() const noexcept override { return "pkcs11"; }
  Result<std::uint32_t> currentVersion() override;
  Result<WrappedDek> wrap(const SecretBytes& dek,
                          const CredentialBinding& binding,
                          std::uint32_t format_version) override;
  Result<SecretBytes> unwrap(const WrappedDekRef& wrapped,
                             const CredentialBinding& binding,
                             std::uint32_t format_version) override;
  Result<std::uint32_t> rotate() override;
  Result<void> retire(std::uint32_t version) override;
  Result<std::vector<KekVersionInfo>> versions() override;
  Result<void> refresh() override;

  struct Impl;

 private:
  explicit Pkcs11Kms(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace livery::crypto
