#include "integration/soak/live_gateway.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <signal.h>

#include "control/control_plane.hpp"
#include "support/must.hpp"

namespace livery::testing {

LiveGateway::LiveGateway(std::string data_dir, std::vector<std::string> sets)
    : data_dir_(std::move(data_dir)),
      sets_(std::move(sets)),
      log_(std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock_) {
  config::LoadOptions lo;
  lo.flags.emplace_back("data_dir", data_dir_);
  for (const auto& s : sets_) {
    auto eq = s.find('=');
    if (eq == std::string::npos) {
      throw std::invalid_argument("--set needs key=value: " + s);
    }
    lo.flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  cfg_ = config::load(lo);
}

LiveGateway::~LiveGateway() = default;

app::CoreServices& LiveGateway::core() {
  if (child_) {
    throw std::logic_error("LiveGateway: set-up after start()");
  }
  if (!core_) {
    core_ = app::CoreServices::open(cfg_, clock_, log_, /*create_missing=*/true);
  }
  return *core_;
}

storage::Tenant LiveGateway::createTenant(const std::string& slug) {
  return must(core().control->createTenant(control::Actor::cli(), {slug, slug, ""}),
              "createTenant");
}

storage::Credential LiveGateway::addCredential(const std::string& tenant_id,
                                               const std::string& provider,
                                               const std::string& key,
                                               const std::string& label,
                                               const std::string& base_url) {
  control::CredentialSpec spec{provider, label, base_url, "{}"};
  auto secret = SecretBytes::copyOf(std::string_view(key));
  return must(core().control->addCredential(control::Actor::cli(), tenant_id, spec, secret),
              "addCredential");
}

void LiveGateway::setRoute(const std::string& tenant_id,
                           const std::string& model,
                           std::vector<storage::Deployment> deployments) {
  must(core().control->setRoute(control::Actor::cli(), tenant_id, model, std::move(deployments)),
       "setRoute");
}

std::string LiveGateway::issueKey(const std::string& tenant_id) {
  control::KeySpec spec;
  spec.name = "live-test";
  auto issued =
      must(core().control->issueApiKey(control::Actor::cli(), tenant_id, spec), "issueApiKey");
  return std::string(issued.secret.reveal());
}

void LiveGateway::start(int threads,
                        std::map<std::string, std::string> env,
                        std::chrono::milliseconds startup_timeout) {
  core_.reset();  // the child owns the database from here on
  std::vector<std::string> argv{liveryBinary(),
                                "serve",
                                "--listen",
                                "127.0.0.1:0",
                                "--threads",
                                std::to_string(threads),
                                "--data-dir",
                                data_dir_};
  for (const auto& s : sets_) {
    argv.emplace_back("--set");
    argv.push_back(s);
  }
  child_ = std::make_unique<ChildProcess>(std::move(argv), std::move(env), workdir_);
  port_ = waitForListeningPort(*child_, startup_timeout);
  if (port_ == 0) {
    throw std::runtime_error("livery serve did not start: " + output());
  }
}

pid_t LiveGateway::pid() const {
  return child_ ? child_->pid() : -1;
}

std::string LiveGateway::output() const {
  return child_ ? child_->out() + child_->err() : std::string();
}

std::optional<int> LiveGateway::stop(std::chrono::milliseconds timeout) {
  if (!child_) {
    return std::nullopt;
  }
  child_->signal(SIGTERM);
  return child_->waitExit(timeout);
}

std::uint64_t residentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;  // "VmRSS:   123456 kB"
    }
  }
  return 0;
}

bool directoryContains(const std::string& dir, std::string_view needle) {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

storage::Deployment deployment(std::string name,
                               const storage::Credential& credential,
                               std::string model,
                               int priority) {
  storage::Deployment d;
  d.name = std::move(name);
  d.provider = credential.provider;
  d.model = std::move(model);
  d.credential_id = credential.id;
  d.priority = priority;
  return d;
}

}  // namespace livery::testing
