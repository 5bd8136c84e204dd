#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "storage/model.hpp"
#include "support/process.hpp"

namespace livery::testing {

// The real `livery serve` binary as a child process (its memory, its log output, its signal
// handling and its process limits are the gateway's own), on a data directory that the test
// prepares first in-process through the control plane, as the CLI does. Every `--set` given to
// the constructor is used both for the set-up and for the served process, so the two agree on
// storage and KMS.
//
// Use: construct, call the set-up helpers (they open the data directory on first use), then
// start(). Set-up is closed before the child starts (SQLite is then owned by the child alone).
// Not thread-safe; one test thread drives it.
class LiveGateway {
 public:
  LiveGateway(std::string data_dir, std::vector<std::string> sets);
  ~LiveGateway();
  LiveGateway(const LiveGateway&) = delete;
  LiveGateway& operator=(const LiveGateway&) = delete;

  // --- set-up (before start) ---
  storage::Tenant createTenant(const std::string& slug);
  storage::Credential addCredential(const std::string& tenant_id,
                                    const std::string& provider,
                                    const std::string& key,
                                    const std::string& label,
                                    const std::string& base_url);
  void setRoute(const std::string& tenant_id,
                const std::string& model,
                std::vector<storage::Deployment> deployments);
  std::string issueKey(const std::string& tenant_id);

  // --- the process ---
  // Spawns `livery serve --listen 127.0.0.1:0 --threads N --data-dir D --set ...` with `env`
  // added to the inherited environment; waits for the listening line. Throws on failure.
  void start(int threads = 2,
             std::map<std::string, std::string> env = {},
             std::chrono::milliseconds startup_timeout = std::chrono::seconds(60));
  // The child's working directory (default: the test's own); set before start().
  void setWorkdir(std::string dir) { workdir_ = std::move(dir); }
  std::uint16_t port() const { return port_; }
  pid_t pid() const;
  ChildProcess& process() { return *child_; }
  // Everything the process wrote to stdout and stderr so far (its log lines).
  std::string output() const;
  // SIGTERM, then the exit status (nullopt when it did not exit within `timeout`).
  std::optional<int> stop(std::chrono::milliseconds timeout);

  const std::string& dataDir() const { return data_dir_; }
  const std::vector<std::string>& sets() const { return sets_; }

 private:
  app::CoreServices& core();

  std::string data_dir_;
  std::vector<std::string> sets_;
  std::string workdir_;
  SystemClock clock_;
  Logger log_;
  config::Config cfg_;
  std::unique_ptr<app::CoreServices> core_;
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
};

// Resident set size of a process in bytes (VmRSS from /proc/<pid>/status); 0 when unreadable.
std::uint64_t residentBytes(pid_t pid);

// True when any regular file under `dir` (recursively) contains `needle` as raw bytes.
bool directoryContains(const std::string& dir, std::string_view needle);

// A deployment named `name` of `credential` serving `model` at `priority`.
storage::Deployment deployment(std::string name,
                               const storage::Credential& credential,
                               std::string model,
                               int priority);

}  // namespace livery::testing
