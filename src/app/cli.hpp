#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace CLI {
class App;
}

namespace livery::app {

class Gateway;

// Options shared by every subcommand that reads the configuration.
struct CommonOptions {
  std::string config_file;
  std::string data_dir;
  std::string listen;
  int threads = -1;
  std::vector<std::string> sets;
};

// defaults < file < LIVERY_* environment < flags. Throws config::ConfigError.
config::Config loadConfig(const CommonOptions& options);

// Registers the administrative subcommands (tenant, plan, key, token, kms, audit, ...).
void addAdminCommands(CLI::App& app,
                      CommonOptions& common,
                      const std::function<void(CLI::App*)>& add_common);
// Runs whichever administrative subcommand was parsed. Returns the exit code.
int runAdminCommand(CLI::App& app, const config::Config& cfg);

// What `livery serve` prints on start: where to go, and first-start credentials.
void printStartBanner(Gateway& gateway, const config::Config& cfg);

}  // namespace livery::app
