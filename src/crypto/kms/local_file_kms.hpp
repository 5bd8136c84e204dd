#pragma once

// LocalFileKms: the embedded default KMS. The KEK keyring lives in one JSON file private to the
// service user (format: docs/design/envelope-encryption.md, "Local KEK file"):
//
//   {"format":"livery-kek-keyring","format_version":1,"kek_id":"local",
//    "versions":[{"version":1,"created_at_ms":1790000000000,"key":"<64 hex chars>"}, ...]}
//
// * Created on first use (when allowed) with a fresh random 256-bit key, mode 0600, via
//   temp file + fsync + link, and an info log line naming the file. There is no built-in key:
//   no file and no permission to create one means no KMS.
// * Refuses to load a file that group or others can access, that is a symlink, or that another
//   user owns (the error names the file and its mode).
// * rotate()/retire() are read-modify-write cycles under an flock on "<file>.lock", written
//   atomically (temp + fsync + rename + directory fsync), so a CLI rotate and a running server
//   never lose a version. A running server picks the change up with refresh(), and on its own
//   when it meets a row wrapped under a version it does not know: at once for a version newer
//   than any it holds (another process rotated), at most once per `min_refresh_interval` for an
//   older one (retired or lost: re-reading cannot help often). Concurrent callers wait for the
//   one re-read in flight and then look again, so none fails while it runs.
// * DEKs are wrapped with AES-256-GCM under the KEK version: blob = nonce(12) || ct(32) ||
//   tag(16), AAD = crypto::dekAad(...).
//
// Thread-safe (a shared mutex guards the in-memory keyring). Keys are held in SecretBytes and
// wiped on destruction.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/kms/kms.hpp"
#include "crypto/random.hpp"

namespace livery::crypto {

struct LocalFileKmsOptions {
  std::string path;               // e.g. <data_dir>/kek.json (config: kms.key_file)
  std::string kek_id = "local";   // stored in every envelope
  bool create_if_missing = true;  // false for the CLI against an existing deployment
  std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(1);
};

inline constexpr std::size_t kMaxKekFileBytes = 1024 * 1024;

class LocalFileKms final : public Kms {
 public:
  // Loads (or creates) the keyring. Start-up errors come back as values; the composition root
  // turns them into a fatal start-up error. `random`, `clock` and `logger` must outlive the Kms.
  static Result<std::unique_ptr<LocalFileKms>> open(LocalFileKmsOptions options,
                                                    RandomSource& random,
                                                    const Clock& clock,
                                                    Logger& logger);

  std::string_view kekId() const noexcept override { return options_.kek_id; }
  std::string_view backendName() const noexcept override { return "local"; }
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

  const std::string& path() const noexcept { return options_.path; }

  // Parsed keyring (exposed for the file-format tests).
  struct KeyVersion {
    SecretBytes key;
    std::int64_t created_at_ms = 0;
  };
  using Keyring = std::map<std::uint32_t, KeyVersion>;

 private:
  LocalFileKms(LocalFileKmsOptions options,
               Keyring keyring,
               RandomSource& random,
               const Clock& clock,
               Logger& logger);

  Result<Keyring> load() const;
  Result<void> store(const Keyring& keyring, bool create_new) const;
  // Unknown-version path (see the header comment): true when `wanted` may now be in the keyring.
  bool refreshIfDue(std::uint32_t wanted);

  LocalFileKmsOptions options_;
  RandomSource& random_;
  const Clock& clock_;
  Logger& logger_;
  mutable std::shared_mutex mu_;  // guards keyring_
  Keyring keyring_;
  std::atomic<std::int64_t> last_refresh_ns_{0};
  std::mutex refresh_mu_;  // serialises unknown-version re-reads (refreshIfDue)
};

// File (de)serialisation, exposed for tests and for the CLI's `kms status` on a file it must
// not modify. parseKekFile wipes every temporary copy of key material it makes.
Result<LocalFileKms::Keyring> parseKekFile(const SecretBytes& content,
                                           std::string_view expected_kek_id,
                                           const std::string& path_for_messages);
SecretBytes serializeKekFile(std::string_view kek_id, const LocalFileKms::Keyring& keyring);

}  // namespace livery::crypto
