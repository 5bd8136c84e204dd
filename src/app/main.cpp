// The `livery` command: `livery serve` runs the gateway; the other subcommands administer the
// same data directory / database (tenants, plans, keys, KMS, audit, prompts).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "app/cli.hpp"
#include "app/core_services.hpp"
#include "app/gateway.hpp"
#include "config/config.hpp"

namespace {

using livery::app::CommonOptions;

void disableCoreDumps() {
  // Provider keys and data keys live in this process's memory; a core dump would write them to
  // disk. security.allow_core_dumps re-enables dumps for debugging.
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int runServe(const livery::config::Config& cfg) {
  if (!cfg.security.allow_core_dumps) {
    disableCoreDumps();
  }
  livery::app::Gateway gateway(cfg);
  gateway.start();
  gateway.handleSignals();
  livery::app::printStartBanner(gateway, cfg);
  return gateway.wait();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Livery: a white-label, bring-your-own-key AI gateway.\n"
      "Configuration is read from --config FILE, then LIVERY_* environment variables,\n"
      "then flags (later wins). Run `livery config keys` for every key."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("livery ") + LIVERY_VERSION);

  CommonOptions common;
  auto add_common = [&common](CLI::App* cmd) {
    cmd->add_option("-c,--config", common.config_file, "YAML configuration file")
        ->check(CLI::ExistingFile);
    cmd->add_option("--data-dir",
                    common.data_dir,
                    "Data directory (SQLite database, KEK file, pepper); default .livery");
    cmd->add_option("--set", common.sets, "Override any configuration key: --set key=value")
        ->type_name("KEY=VALUE");
  };

  auto* serve = app.add_subcommand("serve", "Run the gateway until SIGTERM/SIGINT");
  add_common(serve);
  serve->add_option("--listen", common.listen, "Listen address HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--threads", common.threads, "I/O threads (default: one per core)");

  auto* config_cmd = app.add_subcommand("config", "Inspect configuration");
  config_cmd->require_subcommand(1);
  auto* keys = config_cmd->add_subcommand("keys", "List every configuration key with its default");
  auto* check = config_cmd->add_subcommand("check", "Load and validate the configuration");
  add_common(check);

  livery::app::addAdminCommands(app, common, add_common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other parse error is a usage error (status 2).
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*keys) {
    for (const auto& [key, desc] : livery::config::describeKeys()) {
      std::cout << key << "\n    " << desc << "\n";
    }
    return 0;
  }

  livery::config::Config cfg;
  try {
    cfg = livery::app::loadConfig(common);
  } catch (const livery::config::ConfigError& e) {
    std::cerr << "livery: configuration error: " << e.describe() << "\n";
    return 2;
  }
  if (*check) {
    std::cout << "configuration OK\n";
    return 0;
  }
  try {
    if (*serve) {
      return runServe(cfg);
    }
    return livery::app::runAdminCommand(app, cfg);
  } catch (const livery::config::ConfigError& e) {
    std::cerr << "livery: configuration error: " << e.describe() << "\n";
    return 2;
  } catch (const livery::app::StartupError& e) {
    std::cerr << "livery: cannot start: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "livery: " << e.what() << "\n";
    return 1;
  }
}
