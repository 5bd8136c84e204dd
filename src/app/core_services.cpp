#include "app/core_services.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/kms/local_file_kms.hpp"
#include "crypto/kms/pkcs11_kms.hpp"
#include "storage/open.hpp"

namespace livery::app {

namespace {

[[noreturn]] void startupFailure(std::string_view what, const Error& e) {
  std::string msg(what);
  msg += ": ";
  msg += e.client_message;
  if (!e.log_detail.empty()) {
    msg += " (" + e.log_detail + ")";
  }
  throw StartupError(msg);
}

SecretBytes readPinFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw StartupError("cannot read kms.pkcs11_pin_file " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pin = ss.str();
  while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) {
    pin.pop_back();
  }
  return SecretBytes::takeFrom(pin);
}

}  // namespace

CoreServices::~CoreServices() = default;

std::unique_ptr<CoreServices> CoreServices::open(const config::Config& cfg,
                                                 const Clock& clock,
                                                 Logger& log,
                                                 bool create_missing) {
  auto core = std::make_unique<CoreServices>();
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    throw StartupError("cannot create data directory " + cfg.data_dir + ": " + ec.message());
  }
  std::filesystem::permissions(
      cfg.data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);

  storage::DatabaseOptions db_opts;
  db_opts.backend = cfg.storage.backend;
  db_opts.sqlite_path = cfg.sqlitePath();
  db_opts.sqlite_synchronous = cfg.storage.sqlite_synchronous == "normal"
                                   ? storage::SqliteSync::kNormal
                                   : storage::SqliteSync::kFull;
  db_opts.busy_timeout = cfg.storage.busy_timeout;
  db_opts.sqlite_mmap_bytes = cfg.storage.sqlite_mmap_bytes;
  db_opts.postgres_url = SecretBytes::copyOf(std::string_view(cfg.storage.postgres_url));
  db_opts.postgres_schema = cfg.storage.postgres_schema;
  db_opts.statement_timeout = cfg.storage.statement_timeout;
  db_opts.connect_timeout = cfg.storage.connect_timeout;
  db_opts.acquire_timeout = cfg.storage.acquire_timeout;
  // The blocking pool, the ledger writer, the index sync and the CLI each hold a connection.
  db_opts.pool_size = static_cast<std::size_t>(cfg.storage.pool_size) + 3;
  auto db = storage::openDatabase(std::move(db_opts), clock);
  if (!db) {
    startupFailure("cannot open the database", db.error());
  }
  core->db = std::move(*db);
  core->stores = std::make_unique<storage::Stores>(*core->db, clock);

  if (cfg.kms.backend == "pkcs11") {
    auto module = crypto::Pkcs11Module::load(cfg.kms.pkcs11_module);
    if (!module) {
      startupFailure("cannot load the PKCS#11 module", module.error());
    }
    crypto::Pkcs11KmsOptions opts;
    opts.token_label = cfg.kms.pkcs11_token_label;
    if (!cfg.kms.pkcs11_pin_file.empty()) {
      opts.pin = readPinFile(cfg.kms.pkcs11_pin_file);
    } else {
      opts.pin = SecretBytes::copyOf(std::string_view(cfg.kms.pkcs11_pin));
    }
    opts.key_label_prefix = cfg.kms.pkcs11_key_label;
    opts.max_sessions = static_cast<std::size_t>(cfg.kms.pkcs11_max_sessions);
    opts.create_if_missing = create_missing;
    auto kms = crypto::Pkcs11Kms::open(*module, std::move(opts), core->random, clock, log);
    if (!kms) {
      startupFailure("cannot open the PKCS#11 KMS", kms.error());
    }
    core->kms = std::move(*kms);
  } else {
    crypto::LocalFileKmsOptions opts;
    opts.path = cfg.resolvedKeyFile();
    opts.create_if_missing = create_missing;
    auto kms = crypto::LocalFileKms::open(std::move(opts), core->random, clock, log);
    if (!kms) {
      startupFailure("cannot open the KEK file", kms.error());
    }
    core->kms = std::move(*kms);
  }
  crypto::DekCacheLimits limits;
  limits.max_age = cfg.kms.dek_cache.max_age;
  limits.max_uses = cfg.kms.dek_cache.max_uses;
  limits.max_entries = cfg.kms.dek_cache.max_entries;
  core->dek_cache = std::make_unique<crypto::DekCache>(limits, clock);
  core->vault = std::make_unique<crypto::Vault>(*core->kms, *core->dek_cache, core->random);

  auto pepper =
      crypto::loadOrCreatePepper(cfg.resolvedPepperFile(), create_missing, core->random, log);
  if (!pepper) {
    startupFailure("cannot load the pepper", pepper.error());
  }
  auto hasher = crypto::KeyHasher::create(*pepper);
  if (!hasher) {
    startupFailure("cannot initialise key hashing", hasher.error());
  }
  core->hasher.emplace(std::move(*hasher));
  auto passwords = crypto::PasswordHasher::create();
  if (!passwords) {
    startupFailure("cannot initialise password hashing", passwords.error());
  }
  core->passwords.emplace(std::move(*passwords));
  core->control = std::make_unique<control::ControlPlane>(
      *core->stores, *core->vault, *core->hasher, core->random, clock, log);
  return core;
}

}  // namespace livery::app
