#pragma once

// Error vocabulary of the crypto module. Failures are livery::Error values; the `openai_code`
// field carries one of the codes below so callers (the vault, the CLI, the admin API) can tell
// an integrity failure from an unavailable key or an unreachable HSM without parsing messages.
// None of these ever carries key material: messages name ids, versions and paths only.

#include <string_view>

#include "core/error.hpp"

namespace livery::crypto {

// An authentication tag did not verify: the ciphertext, its associated data (tenant,
// credential, provider, KEK id/version) or the key does not match. Deliberately one code for
// "tampered" and "belongs to another tenant/credential": AES-GCM cannot tell them apart.
inline constexpr std::string_view kCodeIntegrity = "credential_integrity";
// The KEK version a row names is not (or no longer) held by the KMS (retired, deleted, or the
// row comes from another KMS key).
inline constexpr std::string_view kCodeKekUnavailable = "kek_unavailable";
// A row does not have the shape of an envelope this version can read (sizes, format version).
inline constexpr std::string_view kCodeMalformedEnvelope = "credential_malformed";
// The KMS itself failed (HSM unreachable, session error, file unreadable).
inline constexpr std::string_view kCodeKmsFailure = "kms_failure";

inline bool hasCode(const Error& e, std::string_view code) {
  return e.openai_code == code;
}

}  // namespace livery::crypto
