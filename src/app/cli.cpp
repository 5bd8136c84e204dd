#include "app/cli.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "app/gateway.hpp"

namespace livery::app {

config::Config loadConfig(const CommonOptions& options) {
  config::LoadOptions lo;
  lo.file = options.config_file;
  lo.environment = config::liveryEnvironment();
  if (!options.data_dir.empty()) {
    lo.flags.emplace_back("data_dir", options.data_dir);
  }
  if (!options.listen.empty()) {
    lo.flags.emplace_back("listen", options.listen);
  }
  if (options.threads >= 0) {
    lo.flags.emplace_back("threads", std::to_string(options.threads));
  }
  for (const auto& s : options.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw config::ConfigError{"flag", s, 0, "--set expects KEY=VALUE"};
    }
    lo.flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return config::load(lo);
}

void printStartBanner(Gateway& gateway, const config::Config& cfg) {
  auto colon = cfg.listen.rfind(':');
  std::string host = cfg.listen.substr(0, colon);
  if (host == "0.0.0.0" || host == "::" || host == "[::]") {
    host = "127.0.0.1";
  }
  auto base = "http://" + host + ":" + std::to_string(gateway.port());
  std::cout << "Livery is running.\n"
            << "  Operator console: " << base << "/operator\n"
            << "  OpenAI-compatible API: " << base << "/v1  (tenants: http://<slug>."
            << cfg.http.base_domain << ":" << gateway.port() << "/v1)\n"
            << "  Health: " << base << "/healthz   Metrics: " << base << "/metrics\n"
            << "  Data directory: " << cfg.data_dir << "\n";
  if (auto token = gateway.bootstrapToken()) {
    std::cout << "\n  First start: operator bootstrap token (shown once, store it now):\n"
              << "    " << *token << "\n"
              << "  Sign in to the operator console with it, or use it as\n"
              << "    Authorization: Bearer <token>   on /admin/v1\n";
  }
  std::cout << std::flush;
}

}  // namespace livery::app
