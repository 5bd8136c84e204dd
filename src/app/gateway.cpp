#include "app/gateway.hpp"

#include <csignal>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/api_context.hpp"
#include "api/control_api.hpp"
#include "api/gateway_api.hpp"
#include "api/outbound_checks.hpp"
#include "app/alert_dispatcher.hpp"
#include "app/control_events.hpp"
#include "app/core_services.hpp"
#include "app/data_plane_adapters.hpp"
#include "control/index_sync.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/named_thread_pool.hpp"
#include "http/io_threads.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "limits/in_memory_limiter.hpp"
#include "limits/redis/redis_limiter.hpp"
#include "limits/redis/redis_pool.hpp"
#include "limits/redis/redis_url.hpp"
#include "limits/spike_detector.hpp"
#include "metering/ledger.hpp"
#include "metering/price_table.hpp"
#include "metering/redis_usage_stream.hpp"
#include "metering/usage_feed.hpp"
#include "observability/health.hpp"
#include "pipeline/authenticate.hpp"
#include "pipeline/dispatch.hpp"
#include "pipeline/enforce_limits.hpp"
#include "pipeline/inject_prompt.hpp"
#include "pipeline/meter.hpp"
#include "pipeline/parse_request.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/route.hpp"
#include "providers/chat_request.hpp"
#include "providers/registry.hpp"
#include "routing/cooldown.hpp"
#include "tenancy/directory.hpp"
#include "tenancy/key_index.hpp"
#include "upstream/http_client.hpp"
#include "upstream/resolver.hpp"
#include "whitelabel/host.hpp"
#include "whitelabel/prompt_cache.hpp"

namespace livery::app {

namespace {

// The usage table as the ledger's durable sink.
class StoreLedgerSink final : public metering::LedgerSink {
 public:
  explicit StoreLedgerSink(storage::Stores& stores) : stores_(stores) {}
  Result<void> writeBatch(std::span<const storage::UsageRecord> records) override {
    auto r = stores_.usage.insertBatch(records);
    if (!r) {
      return r.error();
    }
    return {};
  }

 private:
  storage::Stores& stores_;
};

}  // namespace

struct Gateway::Parts {
  config::Config cfg;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<Logger> log;
  MetricsRegistry metrics;
  observability::Readiness readiness;

  std::unique_ptr<CoreServices> core;
  std::unique_ptr<NamedThreadPool> blocking;  // store, limiter and KMS calls off the I/O threads
  std::unique_ptr<tenancy::TenantDirectory> directory;
  tenancy::KeyIndex keys;
  std::unique_ptr<control::IndexSync> sync;

  std::unique_ptr<limits::Limiter> limiter;
  std::unique_ptr<limits::SpikeDetector> spikes;
  providers::ProviderRegistry providers;
  std::unique_ptr<routing::CooldownTracker> cooldowns;
  std::unique_ptr<metering::PriceTable> prices;
  std::unique_ptr<StoreLedgerSink> ledger_sink;
  std::unique_ptr<metering::Ledger> ledger;
  metering::UsageFeed feed;
  std::unique_ptr<metering::RedisUsageStream> usage_stream;
  std::unique_ptr<whitelabel::PromptCache> prompt_cache;
  std::optional<whitelabel::HostResolver> hosts;

  // The I/O threads and everything bound to their executors (destroyed first: declared last).
  std::unique_ptr<http::IoThreads> io;
  std::unique_ptr<upstream::Resolver> resolver;
  std::vector<std::unique_ptr<upstream::HttpClient>> upstream_clients;
  std::unique_ptr<AlertDispatcher> alerts;
  std::unique_ptr<ControlEvents> events;
  std::unique_ptr<VaultKeyOpener> key_opener;
  std::unique_ptr<TenantJwtAuthenticator> jwt;
  std::unique_ptr<api::ApiContext> api;
  std::unique_ptr<api::SessionManager> sessions;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<boost::asio::signal_set> signals;
  std::uint16_t port = 0;
};

Gateway::Gateway(config::Config cfg, GatewayOptions options) : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  p.cfg = std::move(cfg);
  const auto& c = p.cfg;
  p.clock = options.clock != nullptr ? options.clock : &p.system_clock;
  auto sink = options.log_sink ? options.log_sink : makeAsyncLogSink(c.log.file);
  p.log = std::make_unique<Logger>(
      sink, parseLogLevel(c.log.level).value_or(LogLevel::kInfo), *p.clock);
  Logger& log = *p.log;
  const Clock& clock = *p.clock;

  // Storage, KMS, vault, control plane.
  p.core = CoreServices::open(c, clock, log, /*create_missing=*/true);
  p.blocking = std::make_unique<NamedThreadPool>(static_cast<std::size_t>(c.storage.pool_size),
                                                 "lv-blocking");
  p.directory = std::make_unique<tenancy::TenantDirectory>(c.http.base_domain);
  p.sync = std::make_unique<control::IndexSync>(
      *p.core->stores, *p.directory, p.keys, p.core->dek_cache.get(), clock, log);

  // Limits.
  if (c.limits.backend == "redis") {
    auto endpoint = limits::parseRedisUrl(c.redis.url);
    if (!endpoint) {
      throw StartupError("redis.url: " + endpoint.error().client_message);
    }
    limits::RedisLimiterOptions ro;
    ro.pool_size = static_cast<std::size_t>(c.redis.pool_size);
    ro.timeout = c.redis.timeout;
    ro.burst_seconds = c.limits.burst_seconds;
    ro.quota_failure_mode = c.limits.quota_failure_mode == "open"
                                ? limits::QuotaFailureMode::kOpen
                                : limits::QuotaFailureMode::kClosed;
    ro.reservation_ttl = c.limits.reservation_ttl;
    ro.fallback_share = c.limits.fallback_share;
    p.limiter =
        std::make_unique<limits::RedisLimiter>(std::move(*endpoint), ro, clock, log, p.metrics);
  } else {
    limits::InMemoryLimiterOptions mo;
    mo.burst_seconds = c.limits.burst_seconds;
    p.limiter = std::make_unique<limits::InMemoryLimiter>(clock, mo);
  }
  limits::SpikeDetectorOptions so;
  so.window = c.alerts.window;
  so.baseline = c.alerts.baseline;
  so.min_requests = c.alerts.min_requests;
  so.spike_factor = c.alerts.spike_factor;
  p.spikes = std::make_unique<limits::SpikeDetector>(clock, so);

  // Providers, routing, metering, prompts, hosts.
  providers::registerBuiltinProviders(p.providers);
  p.cooldowns = std::make_unique<routing::CooldownTracker>(
      clock,
      routing::CooldownPolicy{.failures_to_trip = c.routing.cooldown_failures,
                              .cooldown = c.routing.cooldown});
  auto prices = metering::PriceTable::withOverrides(c.metering.prices);
  if (!prices) {
    throw StartupError("metering.prices: " + prices.error().client_message);
  }
  p.prices = std::make_unique<metering::PriceTable>(std::move(*prices));
  p.ledger_sink = std::make_unique<StoreLedgerSink>(*p.core->stores);
  p.ledger = std::make_unique<metering::Ledger>(
      *p.ledger_sink,
      metering::LedgerOptions{.max_batch = c.metering.max_batch,
                              .gather = c.metering.commit_interval,
                              .gather_min = c.metering.commit_siblings},
      log,
      p.metrics);
  if (!c.redis.url.empty() && c.redis.usage_stream) {
    auto endpoint = limits::parseRedisUrl(c.redis.url);
    if (!endpoint) {
      throw StartupError("redis.url: " + endpoint.error().client_message);
    }
    p.usage_stream = std::make_unique<metering::RedisUsageStream>(
        std::make_unique<limits::RedisPool>(std::move(*endpoint), 1, c.redis.timeout),
        "lv",
        c.redis.usage_stream_max_len,
        log,
        p.metrics);
  }
  p.ledger->onCommitted([&p](auto records) {
    p.feed.publish(records);
    if (p.usage_stream) {
      p.usage_stream->publish(records);
    }
  });
  p.prompt_cache = std::make_unique<whitelabel::PromptCache>(c.prompts.cache_entries);
  auto hosts = whitelabel::HostResolver::create(c.http.base_domain, c.http.trusted_proxies);
  if (!hosts) {
    throw config::ConfigError{
        "configuration", "http.trusted_proxies", 0, hosts.error().client_message};
  }
  p.hosts.emplace(std::move(*hosts));

  // I/O threads and per-thread upstream clients.
  p.io = std::make_unique<http::IoThreads>(c.resolvedThreads());
  p.resolver = upstream::makeSystemResolver();
  std::vector<upstream::Client*> clients;
  for (std::size_t i = 0; i < p.io->size(); ++i) {
    auto client = upstream::HttpClient::create(
        p.io->context(i).get_executor(), c.upstream, *p.resolver, p.metrics, clock);
    if (!client) {
      throw StartupError("upstream client: " + client.error().client_message);
    }
    clients.push_back(client->get());
    p.upstream_clients.push_back(std::move(*client));
  }
  p.alerts = std::make_unique<AlertDispatcher>(*p.core->stores,
                                               *p.directory,
                                               *p.core->hasher,
                                               *clients.front(),
                                               p.io->context(0),
                                               c.alerts.operator_webhook_url,
                                               c.alerts.operator_webhook_secret,
                                               log);
  p.events = std::make_unique<ControlEvents>(*p.core->stores,
                                             *p.core->control,
                                             *p.sync,
                                             *p.alerts,
                                             c.alerts.auto_suspend,
                                             c.alerts.spike_factor,
                                             clock,
                                             log);
  p.key_opener = std::make_unique<VaultKeyOpener>(*p.core->vault, p.blocking->pool());
  p.jwt = std::make_unique<TenantJwtAuthenticator>(
      *p.key_opener,
      clock,
      std::chrono::duration_cast<std::chrono::seconds>(c.security.jwt_leeway),
      c.security.jwt_max_token_bytes);
  p.api = std::make_unique<api::ApiContext>(
      api::ApiContext{c,
                      clock,
                      log,
                      p.metrics,
                      p.blocking->pool(),
                      *p.core->stores,
                      *p.core->control,
                      *p.sync,
                      *p.directory,
                      *p.core->hasher,
                      *p.core->passwords,
                      *p.core->vault,
                      p.core->random,
                      p.providers,
                      clients,
                      *p.resolver,
                      p.feed,
                      *p.ledger,
                      *p.limiter,
                      *p.hosts,
                      *p.prompt_cache,
                      *p.jwt,
                      options.txt_lookup ? std::move(options.txt_lookup) : api::lookupTxtRecords});
  p.sessions = api::makeSessionManager(*p.api);

  // The request path. Order matters; each line says why it is where it is.
  p.pipeline = std::make_unique<pipeline::Pipeline>(clock);
  // authenticate first: nothing is done for an anonymous caller.
  p.pipeline->add(
      std::make_unique<pipeline::AuthenticateStage>(*p.core->hasher,
                                                    p.keys,
                                                    *p.directory,
                                                    *p.hosts,
                                                    *p.jwt,
                                                    api::sessionAuthenticator(*p.sessions),
                                                    clock,
                                                    p.metrics));
  // resolve_tenant next: the tenant comes from the principal (and must match the host).
  p.pipeline->add(std::make_unique<pipeline::ResolveTenantStage>(*p.directory));
  // parse_request after the tenant: a stranger's body is never parsed.
  std::vector<std::unique_ptr<providers::RequestParser>> parsers;
  for (std::size_t i = 0; i < p.io->size(); ++i) {
    parsers.push_back(std::make_unique<providers::RequestParser>(
        providers::ParseLimits{.max_body_bytes = c.http.max_body_bytes}));
  }
  p.pipeline->add(std::make_unique<pipeline::ParseRequestStage>(std::move(parsers)));
  // route before limits: an unknown model costs no quota.
  p.pipeline->add(std::make_unique<pipeline::RouteStage>());
  // enforce_limits before inject_prompt and dispatch: a rejected request costs nothing.
  p.pipeline->add(std::make_unique<pipeline::EnforceLimitsStage>(
      *p.limiter, p.blocking->pool(), c.limits.default_completion_reserve, p.metrics));
  p.pipeline->add(std::make_unique<pipeline::InjectPromptStage>(
      c.prompts.operator_policy, *p.prompt_cache, clock));
  auto meter = std::make_unique<pipeline::MeterStage>(*p.ledger,
                                                      *p.prices,
                                                      *p.spikes,
                                                      *p.events,
                                                      p.blocking->pool(),
                                                      p.limiter->isBlocking(),
                                                      clock,
                                                      log);
  pipeline::DispatchOptions dopts;
  dopts.retry = {.max_attempts = c.routing.max_attempts,
                 .backoff_base = c.routing.backoff_base,
                 .backoff_max = c.routing.backoff_max,
                 .retry_after_cap = c.routing.retry_after_cap};
  dopts.total_deadline = c.routing.total_deadline;
  // dispatch writes the response; it asks the meter to commit before the last byte.
  p.pipeline->add(std::make_unique<pipeline::DispatchStage>(p.providers,
                                                            clients,
                                                            *p.key_opener,
                                                            *p.cooldowns,
                                                            *p.events,
                                                            *meter,
                                                            clock,
                                                            dopts,
                                                            p.metrics,
                                                            log));
  // meter last: its onComplete records every request that reached a tenant.
  p.pipeline->add(std::move(meter));

  observability::addHealthRoutes(p.router, p.metrics, p.readiness);
  api::addGatewayRoutes(p.router, *p.pipeline);
  api::addAdminRoutes(p.router, *p.api, *p.sessions);
  api::addTenantRoutes(p.router, *p.api, *p.sessions);
  api::addWorkspaceRoutes(p.router, *p.api, *p.sessions);
  api::addPublicRoutes(p.router, *p.api);
  p.server =
      std::make_unique<http::Server>(p.io->contexts(), c.http, p.router, log, p.metrics, clock);
}

Gateway::~Gateway() {
  if (started_ && !finished_) {
    requestStop();
    wait();
  }
}

std::optional<std::string> Gateway::bootstrapToken() const {
  return bootstrap_token_;
}

control::LoadStats Gateway::loadAndStartBackground() {
  auto& p = *parts_;
  auto loaded = p.sync->loadAll();
  if (!loaded) {
    throw StartupError("cannot load tenants and keys: " + loaded.error().client_message + " " +
                       loaded.error().log_detail);
  }
  seedQuotas(*loaded);
  p.ledger->start();
  p.events->start();
  p.sync->start(p.cfg.sync.poll_interval, p.cfg.sync.full_resync);
  return *loaded;
}

void Gateway::start() {
  auto& p = *parts_;
  auto boot = p.core->control->bootstrapOperatorToken();
  if (!boot) {
    throw StartupError("cannot create the bootstrap operator token: " +
                       boot.error().client_message);
  }
  if (*boot) {
    bootstrap_token_ = std::string((*boot)->secret.reveal());
  }
  auto loaded = loadAndStartBackground();

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
  LIVERY_LOG(*p.log,
             Info,
             "listening",
             {"address", host},
             {"port", p.port},
             {"threads", p.io->size()},
             {"tenants", loaded.tenants},
             {"keys", loaded.keys});
}

void Gateway::startForTools() {
  auto& p = *parts_;
  loadAndStartBackground();
  p.io->start();
  started_ = true;
}

void Gateway::seedQuotas(const control::LoadStats& loaded) {
  auto& p = *parts_;
  auto* memory = dynamic_cast<limits::InMemoryLimiter*>(p.limiter.get());
  if (memory == nullptr) {
    return;  // Redis keeps the counters across restarts
  }
  // The in-process limiter starts empty: restore this month's usage from the durable ledger.
  auto now = p.clock->wallNow();
  auto period = limits::monthPeriod(now);
  auto days = std::chrono::floor<std::chrono::days>(now);
  std::chrono::year_month_day ymd{days};
  auto month_start = std::chrono::sys_days{ymd.year() / ymd.month() / 1};
  auto since =
      std::chrono::duration_cast<std::chrono::milliseconds>(month_start.time_since_epoch()).count();
  auto seeded = p.core->stores->usage.forEachTokenSum(
      storage::UsageGroup::kTenant, since, [&](const storage::UsageTotals& t) {
        memory->seedQuotaUsage(
            limits::LimitScope::kTenant, t.key, "", period, t.prompt_tokens + t.completion_tokens);
      });
  if (!seeded) {
    throw StartupError("cannot read this month's usage: " + seeded.error().client_message);
  }
  for (const auto& [tenant, key] : loaded.keys_with_quota) {
    auto used = p.core->stores->usage.keyTokensSince(tenant, key, since);
    if (used) {
      memory->seedQuotaUsage(limits::LimitScope::kApiKey, tenant, key, period, *used);
    }
  }
}

std::uint16_t Gateway::port() const noexcept {
  return parts_->port;
}

control::ControlPlane& Gateway::control() {
  return *parts_->core->control;
}
control::IndexSync& Gateway::sync() {
  return *parts_->sync;
}
storage::Stores& Gateway::stores() {
  return *parts_->core->stores;
}
metering::Ledger& Gateway::ledger() {
  return *parts_->ledger;
}
const config::Config& Gateway::config() const {
  return parts_->cfg;
}
const pipeline::Pipeline& Gateway::pipeline() const {
  return *parts_->pipeline;
}
http::IoThreads& Gateway::ioThreads() {
  return *parts_->io;
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
  for (auto& client : p.upstream_clients) {
    net::post(client->executor(), [c = client.get()] { c->shutdown(); });
  }
  p.io->release();
  // Every coroutine has finished or been told to; a context that still has work after the
  // grace period (pool sweep timers, webhook retries) is stopped so shutdown cannot hang.
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
  // Background work after the last request: flush usage (the ledger keeps every record),
  // control events, then stop polling.
  p.ledger->stop();
  if (p.usage_stream) {
    p.usage_stream->stop();
  }
  p.events->stop();
  p.sync->stop();
  p.blocking->join();
  LIVERY_LOG(*p.log, Info, "stopped", {"drained", drained});
  p.log->flush();
  finished_ = true;
  return 0;
}

}  // namespace livery::app
