#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "crypto/api_key.hpp"
#include "crypto/dek_cache.hpp"
#include "crypto/kms/kms.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/vault.hpp"
#include "storage/database.hpp"
#include "storage/stores.hpp"

namespace livery {
class Clock;
class Logger;
}  // namespace livery

namespace livery::app {

// A start-up failure (storage, KMS, pepper): `livery` prints it and exits non-zero.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What both `livery serve` and the administrative CLI need: the database (migrated), the
// stores, the KMS, the vault, the key hasher and the control plane. No threads, no sockets.
// `create_missing` creates the KEK file and pepper on first start (serve); the CLI creates them
// too (so `livery tenant create` works before the first serve) but says so.
struct CoreServices {
  static std::unique_ptr<CoreServices> open(const config::Config& cfg,
                                            const Clock& clock,
                                            Logger& log,
                                            bool create_missing = true);
  ~CoreServices();

  crypto::OpenSslRandom random;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::Stores> stores;
  std::unique_ptr<crypto::Kms> kms;
  std::unique_ptr<crypto::DekCache> dek_cache;
  std::unique_ptr<crypto::Vault> vault;
  std::optional<crypto::KeyHasher> hasher;
  std::optional<crypto::PasswordHasher> passwords;
  std::unique_ptr<control::ControlPlane> control;
};

}  // namespace livery::app
