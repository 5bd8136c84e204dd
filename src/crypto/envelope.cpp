#include "crypto/envelope.hpp"

#include <string>

#include "crypto/aead.hpp"
#include "crypto/errors.hpp"

namespace livery::crypto {
namespace {

void appendU32(std::vector<unsigned char>& out, std::uint32_t v) {
  out.push_back(static_cast<unsigned char>(v >> 24));
  out.push_back(static_cast<unsigned char>(v >> 16));
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v));
}

void appendLp(std::vector<unsigned char>& out, std::string_view s) {
  appendU32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void appendBindingAad(std::vector<unsigned char>& out,
                      std::string_view label,
                      std::uint32_t format_version,
                      const CredentialBinding& b) {
  appendLp(out, label);
  appendU32(out, format_version);
  appendLp(out, b.tenant_id);
  appendLp(out, b.credential_id);
  appendLp(out, b.provider);
}

Error shapeError(std::string detail) {
  return fail(ErrorCode::kInternal, "stored credential is malformed", std::move(detail))
      .withCode(std::string(kCodeMalformedEnvelope));
}

}  // namespace

Result<void> validateBinding(const CredentialBinding& b) {
  auto check = [](std::string_view name, std::string_view v) -> Result<void> {
    if (v.empty() || v.size() > kMaxBindingFieldBytes) {
      return fail(ErrorCode::kInternal,
                  "invalid credential identity",
                  std::string(name) + " must be 1.." + std::to_string(kMaxBindingFieldBytes) +
                      " bytes, got " + std::to_string(v.size()));
    }
    return {};
  };
  if (auto r = check("tenant_id", b.tenant_id); !r) {
    return r;
  }
  if (auto r = check("credential_id", b.credential_id); !r) {
    return r;
  }
  return check("provider", b.provider);
}

std::vector<unsigned char> payloadAad(std::uint32_t format_version, const CredentialBinding& b) {
  std::vector<unsigned char> out;
  out.reserve(4 + kPayloadAadLabel.size() + 4 + 12 + b.tenant_id.size() + b.credential_id.size() +
              b.provider.size());
  appendBindingAad(out, kPayloadAadLabel, format_version, b);
  return out;
}

std::vector<unsigned char> dekAad(std::uint32_t format_version,
                                  const CredentialBinding& b,
                                  std::string_view kek_id,
                                  std::uint32_t kek_version) {
  std::vector<unsigned char> out;
  out.reserve(4 + kDekAadLabel.size() + 4 + 12 + b.tenant_id.size() + b.credential_id.size() +
              b.provider.size() + 4 + kek_id.size() + 4);
  appendBindingAad(out, kDekAadLabel, format_version, b);
  appendLp(out, kek_id);
  appendU32(out, kek_version);
  return out;
}

Result<void> validateEnvelopeShape(const storage::Envelope& e) {
  if (e.format_version != kEnvelopeFormatV1) {
    return shapeError("unknown envelope format_version " + std::to_string(e.format_version));
  }
  if (e.nonce.size() != kGcmNonceBytes) {
    return shapeError("nonce must be 12 bytes, got " + std::to_string(e.nonce.size()));
  }
  if (e.tag.size() != kGcmTagBytes) {
    return shapeError("tag must be 16 bytes, got " + std::to_string(e.tag.size()));
  }
  if (e.ciphertext.size() > kMaxCredentialPlaintextBytes) {
    return shapeError("ciphertext larger than " + std::to_string(kMaxCredentialPlaintextBytes) +
                      " bytes");
  }
  if (e.wrapped_dek.empty() || e.wrapped_dek.size() > kMaxWrappedDekBytes) {
    return shapeError("wrapped_dek must be 1.." + std::to_string(kMaxWrappedDekBytes) +
                      " bytes, got " + std::to_string(e.wrapped_dek.size()));
  }
  if (e.kek_id.empty() || e.kek_id.size() > kMaxKekIdBytes) {
    return shapeError("kek_id must be 1.." + std::to_string(kMaxKekIdBytes) + " bytes");
  }
  if (e.kek_version == 0) {
    return shapeError("kek_version must be >= 1");
  }
  return {};
}

}  // namespace livery::crypto
