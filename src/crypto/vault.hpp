#pragma once

// The credential vault: envelope encryption of tenants' provider keys.
//
//   seal(who, key)     -> storage::Envelope   fresh random DEK + nonce per call; DEK wrapped by
//                                              the KMS's current KEK version
//   open(who, env)     -> SecretBytes          the provider key, for one request; the caller
//                                              lets it go out of scope (wiped) after use
//   rewrap(who, env)   -> storage::Envelope   the DEK re-wrapped under the current KEK version;
//                                              ciphertext, nonce and tag byte-for-byte unchanged
//
// `who` is the row's own identity (tenant id, credential id, provider) and is authenticated by
// both layers, so a row copied to another tenant or credential fails to open with a specific
// error (ErrorCode::kInternal, openai code "credential_integrity", client message "stored
// credential does not belong to this tenant/credential ..."). No error, log field or message
// produced here contains key material.
//
// KEK lifecycle support for the CLI (`livery kms status|rotate|rewrap|retire`): needsRewrap()
// selects rows, kekStatus() turns per-version row counts (counted by the storage layer) into a
// report, retireKekVersion() refuses while any row still uses the version.
//
// Thread-safety: all methods are safe to call concurrently. open() on a warm DEK cache is pure
// CPU (~1 µs); a cache miss, seal and rewrap call the KMS and may block (HSM): run them on an
// offload pool. Ownership: the Vault borrows the Kms, DekCache and RandomSource; they must
// outlive it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/secret.hpp"
#include "crypto/dek_cache.hpp"
#include "crypto/envelope.hpp"
#include "crypto/kms/kms.hpp"
#include "crypto/random.hpp"
#include "storage/model.hpp"

namespace livery::crypto {

// One KEK version in `livery kms status`.
struct KekVersionStatus {
  std::string kek_id;
  std::uint32_t version = 0;
  bool held = false;     // the KMS still has this version (false: rows reference a lost key)
  bool current = false;  // new writes use it
  std::uint64_t rows = 0;
  bool retirable = false;  // held, not current, and no row uses it
};

// Row counts per (kek_id, kek_version), as counted by the storage layer.
using KekRowCounts = std::map<std::pair<std::string, std::uint32_t>, std::uint64_t>;

class Vault {
 public:
  Vault(Kms& kms, DekCache& cache, RandomSource& random);

  Result<storage::Envelope> seal(const CredentialBinding& who, const SecretBytes& plaintext);
  Result<SecretBytes> open(const CredentialBinding& who, const storage::Envelope& envelope);
  // open() only when the DEK is cached (pure CPU, never touches the KMS): nullopt on a miss,
  // so an I/O thread can try this first and offload open() only when needed.
  std::optional<Result<SecretBytes>> openIfCached(const CredentialBinding& who,
                                                  const storage::Envelope& envelope);
  // Idempotent: an envelope already on the current KEK version comes back unchanged.
  Result<storage::Envelope> rewrap(const CredentialBinding& who, const storage::Envelope& envelope);

  // True when the envelope is not wrapped under this KMS's current KEK version.
  Result<bool> needsRewrap(const storage::Envelope& envelope);

  // One entry per version the KMS holds plus one per (kek id, version) only rows know about.
  Result<std::vector<KekVersionStatus>> kekStatus(const KekRowCounts& rows);

  // Retires `version` of this KMS's KEK. `rows_still_using` is the storage layer's count of
  // rows whose envelope names (kms.kekId(), version); anything but 0 is refused (kConflict),
  // as is the current version. Cached DEKs under that version are dropped.
  Result<void> retireKekVersion(std::uint32_t version, std::uint64_t rows_still_using);

  Kms& kms() noexcept { return kms_; }

 private:
  Kms& kms_;
  DekCache& cache_;
  RandomSource& random_;
};

}  // namespace livery::crypto
