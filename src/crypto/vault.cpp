#include "crypto/vault.hpp"

#include <string>

#include "crypto/aead.hpp"
#include "crypto/errors.hpp"

namespace livery::crypto {
namespace {

DekCacheKey cacheKey(const CredentialBinding& who, const storage::Envelope& e) {
  return DekCacheKey{who.tenant_id,
                     who.credential_id,
                     who.provider,
                     e.kek_id,
                     e.kek_version,
                     {e.wrapped_dek.data(), e.wrapped_dek.size()}};
}

std::string describe(const CredentialBinding& who, const storage::Envelope& e) {
  return "tenant=" + std::string(who.tenant_id) + " credential=" + std::string(who.credential_id) +
         " provider=" + std::string(who.provider) + " kek=" + e.kek_id + " v" +
         std::to_string(e.kek_version);
}

// Re-labels a failure with the vault's context. Integrity failures become the one specific,
// client-safe message the issue asks for; KMS availability problems keep their code.
Error annotate(Error e,
               std::string_view stage,
               const CredentialBinding& who,
               const storage::Envelope& env) {
  std::string detail = "vault " + std::string(stage) + ": " + describe(who, env) + ": " +
                       (e.log_detail.empty() ? e.client_message : e.log_detail);
  if (hasCode(e, kCodeIntegrity)) {
    return Error(ErrorCode::kInternal,
                 "stored credential does not belong to this tenant/credential, or was altered; "
                 "it cannot be decrypted (re-enter the provider key)",
                 std::move(detail))
        .withCode(std::string(kCodeIntegrity));
  }
  if (hasCode(e, kCodeKekUnavailable)) {
    return Error(ErrorCode::kInternal,
                 "the key-encryption key version protecting this credential is not available",
                 std::move(detail))
        .withCode(std::string(kCodeKekUnavailable));
  }
  e.log_detail = std::move(detail);
  return e;
}

}  // namespace

Vault::Vault(Kms& kms, DekCache& cache, RandomSource& random)
    : kms_(kms), cache_(cache), random_(random) {}

Result<storage::Envelope> Vault::seal(const CredentialBinding& who, const SecretBytes& plaintext) {
  if (auto r = validateBinding(who); !r) {
    return r.error();
  }
  if (plaintext.empty() || plaintext.size() > kMaxCredentialPlaintextBytes) {
    return fail(
        ErrorCode::kBadRequest,
        "provider key must be 1.." + std::to_string(kMaxCredentialPlaintextBytes) + " bytes");
  }
  auto dek = randomSecret(random_, kDekBytes);
  if (!dek) {
    return dek.error();
  }
  storage::Envelope env;
  env.format_version = kCurrentEnvelopeFormat;
  env.nonce.resize(kGcmNonceBytes);
  if (auto r = random_.fill(env.nonce); !r) {
    return r.error();
  }
  env.tag.resize(kGcmTagBytes);
  env.ciphertext.resize(plaintext.size());
  auto aad = payloadAad(env.format_version, who);
  if (auto r =
          aes256GcmSeal(dek->bytes(), env.nonce, aad, plaintext.bytes(), env.ciphertext, env.tag);
      !r) {
    return r.error();
  }
  auto wrapped = kms_.wrap(*dek, who, env.format_version);
  if (!wrapped) {
    return annotate(wrapped.error(), "seal", who, env);
  }
  env.wrapped_dek = std::move(wrapped->blob);
  env.kek_id = std::move(wrapped->kek_id);
  env.kek_version = wrapped->kek_version;
  // The new credential is usually used right away; its DEK is already in hand.
  cache_.put(cacheKey(who, env), std::move(*dek));
  return env;
}

std::optional<Result<SecretBytes>> Vault::openIfCached(const CredentialBinding& who,
                                                       const storage::Envelope& env) {
  if (auto r = validateBinding(who); !r) {
    return Result<SecretBytes>(r.error());
  }
  if (auto r = validateEnvelopeShape(env); !r) {
    return Result<SecretBytes>(annotate(r.error(), "open", who, env));
  }
  auto cached = cache_.get(cacheKey(who, env));
  if (!cached) {
    return std::nullopt;
  }
  SecretBytes plaintext(env.ciphertext.size());
  if (auto r = aes256GcmOpen(cached->bytes(),
                             env.nonce,
                             payloadAad(env.format_version, who),
                             env.ciphertext,
                             env.tag,
                             {plaintext.data(), plaintext.size()});
      !r) {
    return Result<SecretBytes>(annotate(r.error(), "open", who, env));
  }
  return Result<SecretBytes>(std::move(plaintext));
}

Result<SecretBytes> Vault::open(const CredentialBinding& who, const storage::Envelope& env) {
  if (auto r = validateBinding(who); !r) {
    return r.error();
  }
  if (auto r = validateEnvelopeShape(env); !r) {
    return annotate(r.error(), "open", who, env);
  }
  const auto key = cacheKey(who, env);
  const auto aad = payloadAad(env.format_version, who);
  SecretBytes plaintext(env.ciphertext.size());
  // The cached DEK, or one KMS unwrap shared by concurrent misses of this credential (DekCache's
  // single flight). A DEK is cached only once it has proven to open this row; the unwrapping
  // caller keeps the plaintext it opened on the way, every other caller opens with the DEK.
  const auto openWith = [&](const SecretBytes& dek) {
    return aes256GcmOpen(
        dek.bytes(), env.nonce, aad, env.ciphertext, env.tag, {plaintext.data(), plaintext.size()});
  };
  bool opened = false;
  auto dek = cache_.getOrUnwrap(key, [&]() -> Result<SecretBytes> {
    auto unwrapped = kms_.unwrap(
        WrappedDekRef{
            {env.wrapped_dek.data(), env.wrapped_dek.size()}, env.kek_id, env.kek_version},
        who,
        env.format_version);
    if (!unwrapped) {
      return unwrapped.error();
    }
    if (auto r = openWith(*unwrapped); !r) {
      return r.error();
    }
    opened = true;
    return unwrapped;
  });
  if (!dek) {
    return annotate(dek.error(), "open", who, env);
  }
  if (!opened) {
    if (auto r = openWith(**dek); !r) {
      return annotate(r.error(), "open", who, env);
    }
  }
  return plaintext;
}

Result<storage::Envelope> Vault::rewrap(const CredentialBinding& who,
                                        const storage::Envelope& env) {
  if (auto r = validateBinding(who); !r) {
    return r.error();
  }
  if (auto r = validateEnvelopeShape(env); !r) {
    return annotate(r.error(), "rewrap", who, env);
  }
  auto current = kms_.currentVersion();
  if (!current) {
    return current.error();
  }
  if (env.kek_id == kms_.kekId() && env.kek_version == *current) {
    return env;
  }
  auto dek = kms_.unwrap(
      WrappedDekRef{{env.wrapped_dek.data(), env.wrapped_dek.size()}, env.kek_id, env.kek_version},
      who,
      env.format_version);
  if (!dek) {
    return annotate(dek.error(), "rewrap", who, env);
  }
  auto wrapped = kms_.wrap(*dek, who, env.format_version);
  if (!wrapped) {
    return annotate(wrapped.error(), "rewrap", who, env);
  }
  storage::Envelope out = env;  // ciphertext, nonce, tag, format version: unchanged
  out.wrapped_dek = std::move(wrapped->blob);
  out.kek_id = std::move(wrapped->kek_id);
  out.kek_version = wrapped->kek_version;
  // Keep a hot credential hot: if the old entry was cached, cache the DEK under the new row.
  if (cache_.get(cacheKey(who, env))) {
    cache_.put(cacheKey(who, out), std::move(*dek));
  }
  return out;
}

Result<bool> Vault::needsRewrap(const storage::Envelope& env) {
  auto current = kms_.currentVersion();
  if (!current) {
    return current.error();
  }
  return !(env.kek_id == kms_.kekId() && env.kek_version == *current);
}

Result<std::vector<KekVersionStatus>> Vault::kekStatus(const KekRowCounts& rows) {
  auto held = kms_.versions();
  if (!held) {
    return held.error();
  }
  std::map<std::pair<std::string, std::uint32_t>, KekVersionStatus> merged;
  for (const auto& v : *held) {
    KekVersionStatus s;
    s.kek_id = std::string(kms_.kekId());
    s.version = v.version;
    s.held = true;
    s.current = v.state == KekState::kCurrent;
    merged[{s.kek_id, s.version}] = s;
  }
  for (const auto& [key, count] : rows) {
    auto& s = merged[key];
    s.kek_id = key.first;
    s.version = key.second;
    s.rows = count;
  }
  std::vector<KekVersionStatus> out;
  out.reserve(merged.size());
  for (auto& [key, s] : merged) {
    s.retirable = s.held && !s.current && s.rows == 0;
    out.push_back(std::move(s));
  }
  return out;
}

Result<void> Vault::retireKekVersion(std::uint32_t version, std::uint64_t rows_still_using) {
  auto current = kms_.currentVersion();
  if (!current) {
    return current.error();
  }
  if (version == *current) {
    std::string msg = "KEK version " + std::to_string(version) +
                      " is current; rotate and rewrap before retiring it";
    return fail(ErrorCode::kConflict, msg, msg);
  }
  if (rows_still_using != 0) {
    std::string msg = "KEK version " + std::to_string(version) + " still protects " +
                      std::to_string(rows_still_using) +
                      " credential(s); run `livery kms rewrap` until none is left";
    return fail(ErrorCode::kConflict, msg, msg);
  }
  if (auto r = kms_.retire(version); !r) {
    return r;
  }
  cache_.invalidateKekVersion(kms_.kekId(), version);
  return {};
}

}  // namespace livery::crypto
