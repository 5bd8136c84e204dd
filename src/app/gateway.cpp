#include "app/gateway.hpp"

#include <csignal>
#include <thread>

#include <boost/asio/signal_set.hpp>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/io_threads.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observability/health.hpp"

namespace livery::app {

struct Gateway::Parts {
  config::Config cfg;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<Logger> log;
  MetricsRegistry metrics;
  observability::Readiness readiness;
  std::unique_ptr<http::IoThreads> io;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<boost::asio::signal_set> signals;
  std::uint16_t port = 0;
};

Gateway::Gateway(config::Config cfg, GatewayOptions options) : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  p.cfg = std::move(cfg);
  p.clock = options.clock != nullptr ? options.clock : &p.system_clock;
  auto sink = options.log_sink ? options.log_sink : makeAsyncLogSink(p.cfg.log.file);
  p.log = std::make_unique<Logger>(
      sink, parseLogLevel(p.cfg.log.level).value_or(LogLevel::kInfo), *p.clock);
  p.io = std::make_unique<http::IoThreads>(p.cfg.resolvedThreads());
  observability::addHealthRoutes(p.router, p.metrics, p.readiness);
  p.server = std::make_unique<http::Server>(
      p.io->contexts(), p.cfg.http, p.router, *p.log, p.metrics, *p.clock);
}

Gateway::~Gateway() {
  if (started_ && !finished_) {
    requestStop();
    wait();
  }
}

void Gateway::start() {
  auto& p = *parts_;
  auto colon = p.cfg.listen.rfind(':');
  std::string host = p.cfg.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = static_cast<std::uint16_t>(std::stoi(p.cfg.listen.substr(colon + 1)));
  p.port = p.server->listen(host, port);
  p.server->start();
  p.io->start();
  started_ = true;
  p.readiness.setReady(true);
  LIVERY_LOG(
      *p.log, Info, "listening", {"address", host}, {"port", p.port}, {"threads", p.io->size()});
}

std::uint16_t Gateway::port() const noexcept {
  return parts_->port;
}

void Gateway::handleSignals() {
  auto& p = *parts_;
  p.signals = std::make_unique<boost::asio::signal_set>(p.io->context(0), SIGTERM, SIGINT);
  p.signals->async_wait([this](const boost::system::error_code& ec, int signo) {
    if (!ec) {
      LIVERY_LOG(*parts_->log, Info, "signal_received", {"signal", signo});
      requestStop();
    }
  });
}

void Gateway::requestStop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

int Gateway::wait() {
  auto& p = *parts_;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stop_requested_; });
  }
  if (finished_) {
    return 0;
  }
  LIVERY_LOG(*p.log,
             Info,
             "draining",
             {"in_flight", p.server->inFlightRequests()},
             {"drain_timeout_ms", p.cfg.http.drain_timeout.count()});
  p.readiness.setDraining();
  p.server->shutdown();
  auto deadline = std::chrono::steady_clock::now() + p.cfg.http.drain_timeout;
  while (p.server->inFlightRequests() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool drained = p.server->inFlightRequests() == 0;
  if (p.signals) {
    boost::system::error_code ignored;
    p.signals->cancel(ignored);
  }
  p.server->closeAll();
  auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (p.server->openConnections() > 0 && std::chrono::steady_clock::now() < close_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  p.io->release();
  // Every coroutine has finished or been told to; a context that still has work after the
  // grace period is stopped so shutdown cannot hang.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(done_mu);
    if (!done_cv.wait_for(lock, std::chrono::seconds(3), [&] { return done; })) {
      p.io->stop();
    }
  });
  p.io->join();
  {
    std::lock_guard lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  watchdog.join();
  LIVERY_LOG(*p.log, Info, "stopped", {"drained", drained});
  p.log->flush();
  finished_ = true;
  return 0;
}

}  // namespace livery::app
