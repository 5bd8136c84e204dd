#include "crypto/kms/local_file_kms.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

#include <boost/json.hpp>
#include <openssl/crypto.h>

#include "crypto/aead.hpp"
#include "crypto/encoding.hpp"
#include "crypto/errors.hpp"
#include "crypto/private_file.hpp"

namespace livery::crypto {
namespace {

namespace json = boost::json;

constexpr std::string_view kFileFormat = "livery-kek-keyring";
constexpr std::int64_t kFileFormatVersion = 1;

Error fileError(const std::string& path, const std::string& what) {
  std::string msg = "KEK file " + path + ": " + what;
  return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKmsFailure));
}

Error unavailable(std::string_view kek_id, std::uint32_t version, std::string_view why) {
  std::string msg = "KEK '" + std::string(kek_id) + "' version " + std::to_string(version) +
                    " is not available (" + std::string(why) + ")";
  return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKekUnavailable));
}

// Wipes every string in a parsed JSON tree (key material sits in some of them).
void wipeJson(json::value& v) {
  if (v.is_string()) {
    json::string& s = v.as_string();
    OPENSSL_cleanse(s.data(), s.size());
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) {
      wipeJson(e);
    }
  } else if (v.is_object()) {
    for (auto& kv : v.as_object()) {
      wipeJson(kv.value());
    }
  }
}

}  // namespace

Result<LocalFileKms::Keyring> parseKekFile(const SecretBytes& content,
                                           std::string_view expected_kek_id,
                                           const std::string& path) {
  // Every allocation of the parse comes from `arena` (a SecretBytes, wiped on return) as long
  // as it fits, so no copy of a key outlives this function in freed heap memory.
  SecretBytes arena(content.size() * 3 + 4096);
  json::monotonic_resource mr(arena.data(), arena.size());
  json::parse_options opts;
  opts.max_depth = 8;
  boost::system::error_code ec;
  json::value root = json::parse(content.reveal(), ec, &mr, opts);
  if (ec) {
    return fileError(path, "not valid JSON (" + ec.message() + ")");
  }
  struct Wiper {
    json::value& v;
    ~Wiper() { wipeJson(v); }
  } wiper{root};

  const json::object* obj = root.if_object();
  if (obj == nullptr) {
    return fileError(path, "top level must be a JSON object");
  }
  const json::value* format = obj->if_contains("format");
  if (format == nullptr || !format->is_string() || format->as_string() != kFileFormat) {
    return fileError(path, "\"format\" must be \"livery-kek-keyring\"");
  }
  const json::value* fv = obj->if_contains("format_version");
  if (fv == nullptr || !fv->is_int64() || fv->as_int64() != kFileFormatVersion) {
    return fileError(path, "unsupported \"format_version\" (this build reads version 1)");
  }
  const json::value* kek_id = obj->if_contains("kek_id");
  if (kek_id == nullptr || !kek_id->is_string()) {
    return fileError(path, "\"kek_id\" missing");
  }
  if (kek_id->as_string() != expected_kek_id) {
    return fileError(path,
                     "holds KEK '" + std::string(kek_id->as_string()) + "' but '" +
                         std::string(expected_kek_id) + "' is configured");
  }
  const json::value* vs = obj->if_contains("versions");
  if (vs == nullptr || !vs->is_array() || vs->as_array().empty()) {
    return fileError(path, "\"versions\" must be a non-empty array");
  }
  LocalFileKms::Keyring keyring;
  for (const json::value& entry : vs->as_array()) {
    const json::object* e = entry.if_object();
    if (e == nullptr) {
      return fileError(path, "every version must be an object");
    }
    const json::value* ver = e->if_contains("version");
    const json::value* key = e->if_contains("key");
    const json::value* created = e->if_contains("created_at_ms");
    if (ver == nullptr || !ver->is_int64() || ver->as_int64() < 1 ||
        ver->as_int64() > std::int64_t{UINT32_MAX}) {
      return fileError(path, "\"version\" must be an integer in 1..2^32-1");
    }
    auto v = static_cast<std::uint32_t>(ver->as_int64());
    if (key == nullptr || !key->is_string() || key->as_string().size() != 2 * kAes256KeyBytes) {
      return fileError(path,
                       "version " + std::to_string(v) + ": \"key\" must be 64 hex characters");
    }
    LocalFileKms::KeyVersion kv;
    kv.key = SecretBytes(kAes256KeyBytes);
    const json::string& hex = key->as_string();
    if (!hexDecodeInto({hex.data(), hex.size()}, {kv.key.data(), kv.key.size()})) {
      return fileError(path, "version " + std::to_string(v) + ": \"key\" is not hex");
    }
    if (created != nullptr && created->is_int64()) {
      kv.created_at_ms = created->as_int64();
    }
    if (!keyring.emplace(v, std::move(kv)).second) {
      return fileError(path, "version " + std::to_string(v) + " appears twice");
    }
  }
  return keyring;
}

SecretBytes serializeKekFile(std::string_view kek_id, const LocalFileKms::Keyring& keyring) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(128 + keyring.size() * 160);
  out += "{\n  \"format\": \"livery-kek-keyring\",\n  \"format_version\": 1,\n  \"kek_id\": ";
  out += json::serialize(json::string_view(kek_id.data(), kek_id.size()));
  out += ",\n  \"versions\": [";
  bool first = true;
  for (const auto& [version, kv] : keyring) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "    {\"version\": " + std::to_string(version) +
           ", \"created_at_ms\": " + std::to_string(kv.created_at_ms) + ", \"key\": \"";
    for (unsigned char b : kv.key.bytes()) {
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    }
    out += "\"}";
  }
  out += "\n  ]\n}\n";
  return SecretBytes::takeFrom(out);  // wipes `out`
}

LocalFileKms::LocalFileKms(LocalFileKmsOptions options,
                           Keyring keyring,
                           RandomSource& random,
                           const Clock& clock,
                           Logger& logger)
    : options_(std::move(options)),
      random_(random),
      clock_(clock),
      logger_(logger),
      keyring_(std::move(keyring)) {}

Result<std::unique_ptr<LocalFileKms>> LocalFileKms::open(LocalFileKmsOptions options,
                                                         RandomSource& random,
                                                         const Clock& clock,
                                                         Logger& logger) {
  if (options.path.empty()) {
    return fail(ErrorCode::kInternal, "KEK file path is empty", "kms.key_file is empty");
  }
  if (options.kek_id.empty() || options.kek_id.size() > kMaxKekIdBytes) {
    return fail(ErrorCode::kInternal, "invalid KEK id", "kek_id must be 1..255 bytes");
  }
  std::unique_ptr<LocalFileKms> kms(
      new LocalFileKms(std::move(options), Keyring{}, random, clock, logger));
  auto loaded = kms->load();
  if (!loaded && loaded.error().code == ErrorCode::kNotFound) {
    if (!kms->options_.create_if_missing) {
      std::string msg = "KEK file " + kms->options_.path +
                        " does not exist (and creating it is not allowed here)";
      return fail(ErrorCode::kNotFound, msg, msg);
    }
    Keyring fresh;
    auto key = randomSecret(random, kAes256KeyBytes);
    if (!key) {
      return key.error();
    }
    fresh.emplace(1, KeyVersion{std::move(*key), clock.unixMillis()});
    auto stored = kms->store(fresh, /*create_new=*/true);
    if (stored) {
      LIVERY_LOG(logger,
                 Info,
                 "kms.kek_file_created",
                 {"path", kms->options_.path},
                 {"kek_id", kms->options_.kek_id},
                 {"version", 1},
                 {"mode", "0600"},
                 {"note", "back this file up: without it no stored credential can be decrypted"});
    } else if (stored.error().code != ErrorCode::kConflict) {
      return stored.error();
    }
    // Created by us or, on a first-start race, by another process: read what is on disk.
    loaded = kms->load();
  }
  if (!loaded) {
    return loaded.error();
  }
  kms->keyring_ = std::move(*loaded);
  kms->last_refresh_ns_.store(clock.now().time_since_epoch().count(), std::memory_order_relaxed);
  LIVERY_LOG(logger,
             Info,
             "kms.kek_file_loaded",
             {"path", kms->options_.path},
             {"kek_id", kms->options_.kek_id},
             {"versions", static_cast<std::uint64_t>(kms->keyring_.size())},
             {"current_version", static_cast<std::uint64_t>(kms->keyring_.rbegin()->first)});
  return kms;
}

Result<LocalFileKms::Keyring> LocalFileKms::load() const {
  auto content = readPrivateFile(options_.path, kMaxKekFileBytes);
  if (!content) {
    Error e = content.error();
    e.openai_code = std::string(kCodeKmsFailure);
    return e;
  }
  return parseKekFile(*content, options_.kek_id, options_.path);
}

Result<void> LocalFileKms::store(const Keyring& keyring, bool create_new) const {
  SecretBytes bytes = serializeKekFile(options_.kek_id, keyring);
  return writePrivateFile(
      options_.path, bytes, create_new ? WriteMode::kCreateNew : WriteMode::kReplace);
}

Result<std::uint32_t> LocalFileKms::currentVersion() {
  std::shared_lock lock(mu_);
  if (keyring_.empty()) {
    return fileError(options_.path, "keyring is empty");
  }
  return keyring_.rbegin()->first;
}

Result<WrappedDek> LocalFileKms::wrap(const SecretBytes& dek,
                                      const CredentialBinding& binding,
                                      std::uint32_t format_version) {
  if (dek.size() != kDekBytes) {
    return fail(ErrorCode::kInternal, "invalid data key", "DEK must be 32 bytes");
  }
  WrappedDek out;
  out.kek_id = options_.kek_id;
  out.blob.resize(kGcmWrappedDekBytes);
  std::span<unsigned char> blob(out.blob);
  if (auto r = random_.fill(blob.first(kGcmNonceBytes)); !r) {
    return r.error();
  }
  std::shared_lock lock(mu_);
  if (keyring_.empty()) {
    return fileError(options_.path, "keyring is empty");
  }
  const auto& [version, kv] = *keyring_.rbegin();
  out.kek_version = version;
  auto aad = dekAad(format_version, binding, options_.kek_id, version);
  if (auto r = aes256GcmSeal(kv.key.bytes(),
                             blob.first(kGcmNonceBytes),
                             aad,
                             dek.bytes(),
                             blob.subspan(kGcmNonceBytes, kDekBytes),
                             blob.subspan(kGcmNonceBytes + kDekBytes, kGcmTagBytes));
      !r) {
    return r.error();
  }
  return out;
}

bool LocalFileKms::refreshIfDue(std::uint32_t wanted) {
  // One re-read at a time; a caller that waited here finds the keyring the re-read brought.
  std::lock_guard refresh_lock(refresh_mu_);
  std::uint32_t newest = 0;
  {
    std::shared_lock lock(mu_);
    if (keyring_.contains(wanted)) {
      return true;
    }
    newest = keyring_.empty() ? 0 : keyring_.rbegin()->first;
  }
  const std::int64_t now = clock_.now().time_since_epoch().count();
  const std::int64_t last = last_refresh_ns_.load(std::memory_order_relaxed);
  const std::int64_t interval =
      std::chrono::duration_cast<Clock::SteadyTime::duration>(options_.min_refresh_interval)
          .count();
  // A version newer than any we hold means another process rotated: rows under it are about to
  // arrive (a rewrap), so re-read now. An older unknown version was retired or lost; re-reading
  // cannot bring it back, so it is rate-limited.
  if (wanted <= newest && now - last < interval) {
    return false;
  }
  last_refresh_ns_.store(now, std::memory_order_relaxed);
  auto r = refresh();
  if (!r) {
    LIVERY_LOG(logger_,
               Warn,
               "kms.kek_file_refresh_failed",
               {"path", options_.path},
               {"detail", r.error().log_detail});
    return false;
  }
  return true;
}

Result<SecretBytes> LocalFileKms::unwrap(const WrappedDekRef& wrapped,
                                         const CredentialBinding& binding,
                                         std::uint32_t format_version) {
  if (wrapped.kek_id != options_.kek_id) {
    return unavailable(
        wrapped.kek_id, wrapped.kek_version, "this KMS holds KEK '" + options_.kek_id + "'");
  }
  if (wrapped.blob.size() != kGcmWrappedDekBytes) {
    return fail(ErrorCode::kInternal,
                "stored credential is malformed",
                "wrapped DEK must be " + std::to_string(kGcmWrappedDekBytes) + " bytes, got " +
                    std::to_string(wrapped.blob.size()))
        .withCode(std::string(kCodeIntegrity));
  }
  auto aad = dekAad(format_version, binding, options_.kek_id, wrapped.kek_version);
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::shared_lock lock(mu_);
      auto it = keyring_.find(wrapped.kek_version);
      if (it != keyring_.end()) {
        SecretBytes dek(kDekBytes);
        auto r = aes256GcmOpen(it->second.key.bytes(),
                               wrapped.blob.first(kGcmNonceBytes),
                               aad,
                               wrapped.blob.subspan(kGcmNonceBytes, kDekBytes),
                               wrapped.blob.subspan(kGcmNonceBytes + kDekBytes, kGcmTagBytes),
                               {dek.data(), dek.size()});
        if (!r) {
          return r.error();
        }
        return dek;
      }
    }
    // A version we do not know: maybe another process rotated since we loaded the file.
    if (attempt == 0 && !refreshIfDue(wrapped.kek_version)) {
      break;
    }
  }
  return unavailable(options_.kek_id, wrapped.kek_version, "not in the keyring; retired?");
}

Result<std::uint32_t> LocalFileKms::rotate() {
  auto lock = PrivateFileLock::acquire(options_.path);
  if (!lock) {
    return lock.error();
  }
  auto keyring = load();
  if (!keyring) {
    return keyring.error();
  }
  const std::uint32_t last = keyring->rbegin()->first;
  if (last == UINT32_MAX) {
    return fileError(options_.path, "no KEK version numbers left");
  }
  const std::uint32_t next = last + 1;
  auto key = randomSecret(random_, kAes256KeyBytes);
  if (!key) {
    return key.error();
  }
  keyring->emplace(next, KeyVersion{std::move(*key), clock_.unixMillis()});
  if (auto r = store(*keyring, /*create_new=*/false); !r) {
    return r.error();
  }
  {
    std::unique_lock mlock(mu_);
    keyring_ = std::move(*keyring);
  }
  LIVERY_LOG(logger_,
             Info,
             "kms.kek_rotated",
             {"path", options_.path},
             {"kek_id", options_.kek_id},
             {"new_version", static_cast<std::uint64_t>(next)});
  return next;
}

Result<void> LocalFileKms::retire(std::uint32_t version) {
  auto lock = PrivateFileLock::acquire(options_.path);
  if (!lock) {
    return lock.error();
  }
  auto keyring = load();
  if (!keyring) {
    return keyring.error();
  }
  auto it = keyring->find(version);
  if (it == keyring->end()) {
    std::string msg = "KEK version " + std::to_string(version) + " does not exist";
    return fail(ErrorCode::kNotFound, msg, msg);
  }
  if (version == keyring->rbegin()->first) {
    std::string msg = "KEK version " + std::to_string(version) +
                      " is the current version and cannot be retired (rotate first)";
    return fail(ErrorCode::kConflict, msg, msg);
  }
  keyring->erase(it);
  if (auto r = store(*keyring, /*create_new=*/false); !r) {
    return r.error();
  }
  {
    std::unique_lock mlock(mu_);
    keyring_ = std::move(*keyring);
  }
  LIVERY_LOG(logger_,
             Info,
             "kms.kek_retired",
             {"path", options_.path},
             {"kek_id", options_.kek_id},
             {"version", static_cast<std::uint64_t>(version)});
  return {};
}

Result<std::vector<KekVersionInfo>> LocalFileKms::versions() {
  std::shared_lock lock(mu_);
  std::vector<KekVersionInfo> out;
  out.reserve(keyring_.size());
  for (const auto& [version, kv] : keyring_) {
    out.push_back({version, KekState::kDecryptOnly, kv.created_at_ms});
  }
  if (!out.empty()) {
    out.back().state = KekState::kCurrent;
  }
  return out;
}

Result<void> LocalFileKms::refresh() {
  auto keyring = load();
  if (!keyring) {
    return keyring.error();
  }
  std::unique_lock lock(mu_);
  keyring_ = std::move(*keyring);
  return {};
}

}  // namespace livery::crypto
