#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "limits/key_touches.hpp"
#include "pipeline/ports.hpp"
#include "storage/model.hpp"

namespace livery {
class Clock;
class Logger;
class Counter;
class MetricsRegistry;
}  // namespace livery
namespace livery::storage {
struct Stores;
}
namespace livery::control {
class ControlPlane;
class IndexSync;
}  // namespace livery::control

namespace livery::app {

// Delivers alerts: a log line, a stored Alert row, webhooks (operator and tenant; HTTP POST
// signed with HMAC-SHA-256, retried), and optional automatic suspension. Implemented by the
// gateway (it owns the HTTP client); raise() must not block.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void raise(storage::Alert alert) = 0;
};

// What the data plane reports, applied off the I/O threads by one worker thread: credential
// health (401/403 from a provider marks the credential refused for the console), last-used
// times of API keys and credentials (batched: at most one write per key per flush), usage
// spikes (alerts; with alerts.auto_suspend the tenant is suspended). Thread-safe; never blocks
// the caller (bounded queue; excess touches are coalesced).
class ControlEvents final : public pipeline::ControlPlaneEvents {
 public:
  ControlEvents(storage::Stores& stores,
                control::ControlPlane& control,
                control::IndexSync& sync,
                AlertSink& alerts,
                bool auto_suspend,
                double spike_factor,
                const Clock& clock,
                Logger& log);
  ~ControlEvents() override;

  void credentialRefused(const std::string& tenant_id,
                         const std::string& credential_id,
                         int upstream_status) override;
  void credentialWorked(const std::string& tenant_id, const std::string& credential_id) override;
  void apiKeyUsed(const std::string& tenant_id, const std::string& key_id) override;
  void usageSpike(const std::string& tenant_id,
                  std::string_view metric,
                  std::uint64_t window_requests,
                  std::uint64_t window_tokens) override;

  void start();
  void stop();
  // Applies everything queued now (tests, shutdown).
  void flush();

 private:
  struct Spike {
    std::string tenant_id;
    std::string metric;
    std::uint64_t requests = 0;
    std::uint64_t tokens = 0;
  };
  void run();
  void apply();

  storage::Stores& stores_;
  control::ControlPlane& control_;
  control::IndexSync& sync_;
  AlertSink& alerts_;
  bool auto_suspend_;
  double spike_factor_;
  const Clock& clock_;
  Logger& log_;

  // Last-used touches of API keys (one per request): coalesced without taking mu_.
  limits::KeyTouches key_touches_;

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::map<std::pair<std::string, std::string>, storage::Millis> credential_touches_;
  std::map<std::pair<std::string, std::string>, int> refused_;
  std::vector<std::pair<std::string, std::string>> worked_;
  std::vector<Spike> spikes_;
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::uint64_t flushes_ = 0;
  std::condition_variable flushed_cv_;
  std::thread thread_;
};

}  // namespace livery::app
