#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "config/config.hpp"

namespace livery {
class Clock;
class LogSink;
}  // namespace livery

namespace livery::control {
class ControlPlane;
class IndexSync;
struct LoadStats;
}  // namespace livery::control
namespace livery::storage {
struct Stores;
}
namespace livery::metering {
class Ledger;
}
namespace livery::pipeline {
class Pipeline;
}
namespace livery::http {
class IoThreads;
}

namespace livery::app {

// Options that tests inject; production uses the defaults.
struct GatewayOptions {
  std::shared_ptr<LogSink> log_sink;  // default: asynchronous stderr/file sink
  const Clock* clock = nullptr;       // default: SystemClock
  api::TxtLookup txt_lookup;          // default: the system resolver (api::lookupTxtRecords)
};

// The composition root: the one place that knows every concrete type. It builds the stores,
// KMS, vault, indexes, limiters, providers, pipeline, router and HTTP server from the
// configuration, and runs them until stopped.
//
// Thread-safety: construct, start() and wait() from one thread; requestStop() from anywhere
// (including a signal handler's completion on an I/O thread).
class Gateway {
 public:
  Gateway(config::Config cfg, GatewayOptions options = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Opens storage, binds the listener and starts the I/O threads. Throws on failure.
  void start();
  // start() without serving, for in-process tools that send requests through the pipeline
  // (`livery prompts eval`): loads the indexes and quotas and starts the ledger, control events,
  // index sync and I/O threads, but binds no listener and creates no bootstrap operator token.
  // Stop it with requestStop() and wait(). Throws on failure.
  void startForTools();
  std::uint16_t port() const noexcept;
  // The operator token created on the very first start (no token existed), to be shown once.
  std::optional<std::string> bootstrapToken() const;
  // Installs SIGTERM/SIGINT handlers that call requestStop().
  void handleSignals();
  // Begins a graceful shutdown; wait() then drains and returns.
  void requestStop();
  // Blocks until requestStop(), drains in-flight requests (up to http.drain_timeout), stops
  // background work and joins the threads. Returns the process exit code.
  int wait();

  struct Parts;  // everything the gateway owns (defined in gateway.cpp)
  Parts& parts() noexcept { return *parts_; }

  // For the CLI-less set-up of integration tests and for in-process tools (prompt evaluation).
  control::ControlPlane& control();
  control::IndexSync& sync();
  storage::Stores& stores();
  metering::Ledger& ledger();
  const config::Config& config() const;
  // The request path and the I/O threads it runs on, for in-process callers
  // (app/prompt_runner.hpp); requests run only once started.
  const pipeline::Pipeline& pipeline() const;
  http::IoThreads& ioThreads();

 private:
  void seedQuotas(const control::LoadStats& loaded);
  // Loads tenants and keys, seeds quotas, starts the ledger, events and change-feed threads.
  control::LoadStats loadAndStartBackground();

  std::unique_ptr<Parts> parts_;
  std::mutex mu_;  // guards stop_requested_ for the condition variable
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::optional<std::string> bootstrap_token_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace livery::app
