#pragma once

// Process-level tests of the administrative CLI: every command runs the real `livery` binary
// against a data directory of its own (SQLite, local KEK file, pepper), with a configuration
// file that lets the gateway and the CLI's key validation reach a fake provider on loopback.
// In-process access to the same data directory (CoreServices) is for set-up and for checks the
// CLI cannot make about itself (a stored hash verifies, a key decrypts).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace livery::testing {

struct CliRun {
  int code = -1;  // exit status (128 + signal when killed; -1 when it did not finish in time)
  std::string out;
  std::string err;
};

class CliEnv {
 public:
  // `upstream_port`: a fake provider on 127.0.0.1 the gateway and the CLI may reach over plain
  // http (0: none). `extra_yaml` is appended to the configuration file.
  explicit CliEnv(std::uint16_t upstream_port = 0, const std::string& extra_yaml = "");

  // Runs `livery <args> --config <file> --data-dir <dir>` with `stdin_text` as its stdin.
  CliRun run(std::vector<std::string> args, const std::string& stdin_text = "") const;
  // run() that must exit 0 and print one JSON document on stdout (adds --json).
  boost::json::value json(std::vector<std::string> args, const std::string& stdin_text = "") const;
  // The same command started in the background (for kill tests); stdin is empty.
  std::unique_ptr<ChildProcess> start(std::vector<std::string> args) const;
  // `livery serve` on 127.0.0.1:0; returns its port through `port` (0 on failure).
  std::unique_ptr<ChildProcess> serve(std::uint16_t& port) const;

  const std::string& dataDir() const { return data_dir_; }
  const std::string& configFile() const { return config_file_; }
  std::string dbPath() const { return data_dir_ + "/livery.db"; }
  // The configuration the binary reads (for in-process access).
  config::Config config() const;
  // Opens the data directory in-process (storage, KMS, vault, control plane), with the
  // configuration changed by `tweak` if given.
  std::unique_ptr<app::CoreServices> open(
      const std::function<void(config::Config&)>& tweak = {}) const;

 private:
  std::vector<std::string> command(std::vector<std::string> args) const;

  TempDir dir_;
  std::string data_dir_;
  std::string config_file_;
  SystemClock clock_;
  std::shared_ptr<MemoryLogSink> sink_ = std::make_shared<MemoryLogSink>();
  std::unique_ptr<Logger> log_;
};

// Polls `fn` until it returns true or `timeout` passes.
bool eventually(const std::function<bool()>& fn,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(20));

// Whether `needle` occurs anywhere in the file's bytes.
bool fileContains(const std::string& path, const std::string& needle);

}  // namespace livery::testing
