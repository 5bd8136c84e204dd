#pragma once

// The byte-level format of a credential envelope (docs/design/envelope-encryption.md is the
// normative description; keep the two in step). Pure functions, thread-safe.
//
// A stored credential is a storage::Envelope: the provider key encrypted with AES-256-GCM under
// a fresh per-credential data key (DEK), and the DEK wrapped by a key-encryption key (KEK) held
// by a KMS. Both layers authenticate associated data that names the credential's owner:
//
//   payload AAD = LP("livery/credential/payload") || u32be(format_version)
//                 || LP(tenant_id) || LP(credential_id) || LP(provider)
//   DEK AAD     = LP("livery/credential/dek") || u32be(format_version)
//                 || LP(tenant_id) || LP(credential_id) || LP(provider)
//                 || LP(kek_id) || u32be(kek_version)
//
// where LP(x) = u32be(len(x)) || x, so ("ab","c") and ("a","bc") can never collide. The payload
// AAD deliberately leaves out the KEK id and version: a KEK rewrap changes them but must not
// touch the payload bytes.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"

namespace livery::crypto {

inline constexpr std::uint32_t kEnvelopeFormatV1 = 1;
inline constexpr std::uint32_t kCurrentEnvelopeFormat = kEnvelopeFormatV1;

inline constexpr std::size_t kDekBytes = 32;
// Bounds enforced when reading rows (Tink's kMaxEncryptedDekSize for the DEK).
inline constexpr std::size_t kMaxWrappedDekBytes = 4096;
inline constexpr std::size_t kMaxCredentialPlaintextBytes = 64 * 1024;
inline constexpr std::size_t kMaxBindingFieldBytes = 255;  // tenant id, credential id, provider
inline constexpr std::size_t kMaxKekIdBytes = 255;

// Layout of `wrapped_dek` for KEKs that wrap with AES-256-GCM (the local file KEK and PKCS#11
// CKM_AES_GCM): nonce(12) || encrypted DEK(32) || tag(16).
inline constexpr std::size_t kGcmWrappedDekBytes = 12 + kDekBytes + 16;

inline constexpr std::string_view kPayloadAadLabel = "livery/credential/payload";
inline constexpr std::string_view kDekAadLabel = "livery/credential/dek";

// Who a credential belongs to: the values of the row's own columns (credentials.tenant_id,
// credentials.id, credentials.provider), never values taken from a request.
struct CredentialBinding {
  std::string_view tenant_id;
  std::string_view credential_id;
  std::string_view provider;
};

// Non-empty fields of at most kMaxBindingFieldBytes each.
Result<void> validateBinding(const CredentialBinding& binding);

std::vector<unsigned char> payloadAad(std::uint32_t format_version,
                                      const CredentialBinding& binding);
std::vector<unsigned char> dekAad(std::uint32_t format_version,
                                  const CredentialBinding& binding,
                                  std::string_view kek_id,
                                  std::uint32_t kek_version);

// Structural checks on a row read from storage, before any key is touched: known format
// version, 12-byte nonce, 16-byte tag, bounded sizes, a KEK id and a non-zero KEK version.
Result<void> validateEnvelopeShape(const storage::Envelope& envelope);

}  // namespace livery::crypto
