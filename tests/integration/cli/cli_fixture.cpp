#include "integration/cli/cli_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace livery::testing {

namespace {

// Slow enough for ASan builds on a busy 2-core machine, short enough to fail a hung command.
constexpr auto kCommandTimeout = std::chrono::seconds(90);

}  // namespace

CliEnv::CliEnv(std::uint16_t upstream_port, const std::string& extra_yaml) {
  data_dir_ = dir_.file("data");
  config_file_ = dir_.file("livery.yaml");
  std::ostringstream yaml;
  yaml << "listen: 127.0.0.1:0\n"
       << "threads: 2\n"
       << "storage:\n"
       << "  sqlite_synchronous: normal\n"
       << "sync:\n"
       << "  poll_interval: 250ms\n";
  if (upstream_port != 0) {
    auto host = "127.0.0.1:" + std::to_string(upstream_port);
    yaml << "upstream:\n"
         << "  connect_timeout: 2s\n"
         << "  allow_http_hosts: [" << host << "]\n"
         << "  allow_private_hosts: [" << host << "]\n";
  }
  yaml << extra_yaml;
  writeFile(config_file_, yaml.str());
  log_ = std::make_unique<Logger>(sink_, LogLevel::kWarn, clock_);
}

std::vector<std::string> CliEnv::command(std::vector<std::string> args) const {
  std::vector<std::string> argv{liveryBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", config_file_, "--data-dir", data_dir_});
  return argv;
}

CliRun CliEnv::run(std::vector<std::string> args, const std::string& stdin_text) const {
  // stdin comes from a file: `sh -c 'exec "$@" < "$0"' <file> livery <args…>` (no quoting of
  // the arguments is involved).
  TempDir input;
  auto stdin_path = input.file("stdin");
  writeFile(stdin_path, stdin_text);
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$@\" < \"$0\"", stdin_path};
  auto cmd = command(std::move(args));
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  ChildProcess p(std::move(argv));
  CliRun r;
  auto code = p.waitExit(kCommandTimeout);
  r.code = code.value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

boost::json::value CliEnv::json(std::vector<std::string> args,
                                const std::string& stdin_text) const {
  std::string shown;
  for (const auto& a : args) {
    shown += a + " ";
  }
  args.emplace_back("--json");
  auto r = run(std::move(args), stdin_text);
  if (r.code != 0) {
    ADD_FAILURE() << "livery " << shown << "exited " << r.code << ": " << r.err;
    return boost::json::value();
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(r.out, ec);
  if (ec) {
    ADD_FAILURE() << "livery " << shown << "printed no JSON: " << r.out;
    return boost::json::value();
  }
  return v;
}

std::unique_ptr<ChildProcess> CliEnv::start(std::vector<std::string> args) const {
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$@\" < /dev/null", "sh"};
  auto cmd = command(std::move(args));
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return std::make_unique<ChildProcess>(std::move(argv));
}

std::unique_ptr<ChildProcess> CliEnv::serve(std::uint16_t& port) const {
  auto p = start({"serve"});
  port = waitForListeningPort(*p, std::chrono::seconds(60));
  return p;
}

config::Config CliEnv::config() const {
  config::LoadOptions lo;
  lo.file = config_file_;
  lo.flags.emplace_back("data_dir", data_dir_);
  return config::load(lo);
}

std::unique_ptr<app::CoreServices> CliEnv::open(
    const std::function<void(config::Config&)>& tweak) const {
  auto cfg = config();
  if (tweak) {
    tweak(cfg);
  }
  return app::CoreServices::open(cfg, clock_, *log_, /*create_missing=*/true);
}

bool eventually(const std::function<bool()>& fn,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (fn()) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(every);
  }
}

bool fileContains(const std::string& path, const std::string& needle) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

}  // namespace livery::testing
