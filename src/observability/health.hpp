#pragma once

#include <atomic>
#include <string>

namespace livery {
class MetricsRegistry;
}
namespace livery::http {
class Router;
}

namespace livery::observability {

// Whether this node should receive traffic. Thread-safe.
class Readiness {
 public:
  void setReady(bool ready) noexcept { ready_.store(ready, std::memory_order_relaxed); }
  void setDraining() noexcept { draining_.store(true, std::memory_order_relaxed); }
  bool ready() const noexcept {
    return ready_.load(std::memory_order_relaxed) && !draining_.load(std::memory_order_relaxed);
  }
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

// GET /healthz (process is up), GET /readyz (ready for traffic), GET /metrics (Prometheus).
void addHealthRoutes(http::Router& router, MetricsRegistry& metrics, const Readiness& readiness);

}  // namespace livery::observability
