#pragma once

// A throw-away SoftHSM2 token for tests and benchmarks: a temporary directory with its own
// softhsm2.conf and token store, SOFTHSM2_CONF pointing at it (set before the module is
// loaded, which is when SoftHSM reads it), and one initialised token. Header-only so the
// benchmark can use it without the test-support library.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

namespace livery::crypto::testing {

inline std::optional<std::string> findSoftHsmModule() {
  if (const char* env =
          std::getenv("LIVERY_TEST_SOFTHSM_MODULE")) {  // NOLINT(concurrency-mt-unsafe)
    return std::string(env);
  }
  for (const char* p : {"/usr/lib/softhsm/libsofthsm2.so",
                        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
                        "/usr/local/lib/softhsm/libsofthsm2.so"}) {
    if (std::filesystem::exists(p)) {
      return std::string(p);
    }
  }
  return std::nullopt;
}

class SoftHsmToken {
 public:
  static constexpr const char* kLabel = "livery-test";
  static constexpr const char* kSoPin = "so-12345678";
  static constexpr const char* kUserPin = "user-87654321";

  // Empty error string on success.
  std::string create() {
    auto module = findSoftHsmModule();
    if (!module) {
      return "SoftHSM2 module not found (install softhsm2 or set LIVERY_TEST_SOFTHSM_MODULE)";
    }
    module_ = *module;
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("livery-softhsm-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_ / "tokens");
    conf_ = (dir_ / "softhsm2.conf").string();
    {
      std::ofstream out(conf_);
      out << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
          << "objectstore.backend = file\n"
          << "log.level = ERROR\n"
          << "slots.removable = false\n";
    }
    ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): set-up only
    std::string cmd = "softhsm2-util --init-token --free --label " + std::string(kLabel) +
                      " --so-pin " + kSoPin + " --pin " + kUserPin + " > " +
                      (dir_ / "init.log").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe, cert-env33-c)
      return "softhsm2-util --init-token failed (see " + (dir_ / "init.log").string() + ")";
    }
    return {};
  }

  ~SoftHsmToken() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  const std::string& modulePath() const { return module_; }

 private:
  std::filesystem::path dir_;
  std::string conf_;
  std::string module_;
};

}  // namespace livery::crypto::testing
