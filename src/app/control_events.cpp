#include "app/control_events.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "control/control_plane.hpp"
#include "control/index_sync.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "storage/stores.hpp"

namespace livery::app {

namespace {
constexpr std::size_t kMaxPending = 100'000;
constexpr auto kFlushInterval = std::chrono::seconds(2);
}  // namespace

ControlEvents::ControlEvents(storage::Stores& stores,
                             control::ControlPlane& control,
                             control::IndexSync& sync,
                             AlertSink& alerts,
                             bool auto_suspend,
                             double spike_factor,
                             const Clock& clock,
                             Logger& log)
    : stores_(stores),
      control_(control),
      sync_(sync),
      alerts_(alerts),
      auto_suspend_(auto_suspend),
      spike_factor_(spike_factor),
      clock_(clock),
      log_(log),
      key_touches_(kMaxPending) {}

ControlEvents::~ControlEvents() {
  stop();
}

void ControlEvents::credentialRefused(const std::string& tenant_id,
                                      const std::string& credential_id,
                                      int upstream_status) {
  std::lock_guard lock(mu_);
  if (refused_.size() < kMaxPending) {
    refused_[{tenant_id, credential_id}] = upstream_status;
  }
  cv_.notify_one();  // health is shown in the console: apply soon
}

void ControlEvents::credentialWorked(const std::string& tenant_id,
                                     const std::string& credential_id) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(tenant_id, credential_id);
  auto [it, inserted] = credential_touches_.try_emplace(key, clock_.unixMillis());
  if (!inserted) {
    it->second = clock_.unixMillis();
  }
}

void ControlEvents::apiKeyUsed(const std::string& tenant_id, const std::string& key_id) {
  // Beyond kMaxPending keys a touch is dropped: last-used times are approximate by design.
  (void)key_touches_.touch(tenant_id, key_id, clock_.unixMillis());
}

void ControlEvents::usageSpike(const std::string& tenant_id,
                               std::string_view metric,
                               std::uint64_t window_requests,
                               std::uint64_t window_tokens) {
  std::lock_guard lock(mu_);
  spikes_.push_back({tenant_id, std::string(metric), window_requests, window_tokens});
  cv_.notify_one();
}

void ControlEvents::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      nameThisThread("lv-events");
      run();
    });
  }
}

void ControlEvents::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  apply();  // whatever is left
}

void ControlEvents::flush() {
  if (!thread_.joinable()) {
    apply();
    return;
  }
  std::unique_lock lock(mu_);
  auto target = flushes_ + 1;
  flush_requested_ = true;
  cv_.notify_all();
  flushed_cv_.wait(lock, [&] { return flushes_ >= target || stopping_; });
}

void ControlEvents::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, kFlushInterval, [&] {
      return stopping_ || flush_requested_ || !refused_.empty() || !spikes_.empty();
    });
    if (stopping_) {
      break;
    }
    flush_requested_ = false;
    lock.unlock();
    apply();
    lock.lock();
    ++flushes_;
    flushed_cv_.notify_all();
  }
}

void ControlEvents::apply() {
  std::vector<limits::KeyUse> keys = key_touches_.drain();
  std::map<std::pair<std::string, std::string>, storage::Millis> creds;
  std::map<std::pair<std::string, std::string>, int> refused;
  std::vector<Spike> spikes;
  {
    std::lock_guard lock(mu_);
    creds.swap(credential_touches_);
    refused.swap(refused_);
    spikes.swap(spikes_);
  }
  if (!keys.empty()) {
    std::vector<storage::KeyTouch> touches;
    touches.reserve(keys.size());
    for (auto& k : keys) {
      touches.push_back({std::move(k.tenant_id), std::move(k.key_id), k.at_unix_ms});
    }
    if (auto r = stores_.api_keys.touchLastUsed(touches); !r) {
      LIVERY_LOG(log_, Warn, "key_touch_failed", {"error", r.error().log_detail});
    }
  }
  for (const auto& [k, at] : creds) {
    (void)stores_.credentials.touchLastUsed(k.first, k.second, at);
    if (refused.find(k) == refused.end()) {
      (void)stores_.credentials.updateHealth(k.first, k.second, storage::CredentialHealth::kOk, "");
    }
  }
  for (const auto& [k, status] : refused) {
    auto detail = fmt::format("the provider answered {} (the key was refused)", status);
    if (auto r = stores_.credentials.updateHealth(
            k.first, k.second, storage::CredentialHealth::kRefused, detail);
        !r) {
      LIVERY_LOG(log_, Warn, "credential_health_failed", {"error", r.error().log_detail});
    }
    LIVERY_LOG(log_,
               Warn,
               "credential_refused",
               {"tenant_id", k.first},
               {"credential_id", k.second},
               {"status", status});
    storage::Alert a;
    a.tenant_id = k.first;
    a.kind = "credential_refused";
    a.message = "A provider refused one of this account's keys; replace it in the console.";
    boost::json::object d{{"credential_id", k.second}, {"upstream_status", status}};
    a.details_json = boost::json::serialize(d);
    alerts_.raise(std::move(a));
  }
  for (const auto& s : spikes) {
    storage::Alert a;
    a.tenant_id = s.tenant_id;
    a.kind = "usage_spike";
    a.message = fmt::format(
        "Usage is at least {}x the usual rate ({} requests, {} tokens in the "
        "last window).",
        spike_factor_,
        s.requests,
        s.tokens);
    boost::json::object d{{"metric", s.metric},
                          {"window_requests", s.requests},
                          {"window_tokens", s.tokens},
                          {"factor", spike_factor_},
                          {"auto_suspend", auto_suspend_}};
    a.details_json = boost::json::serialize(d);
    LIVERY_LOG(log_,
               Warn,
               "usage_spike",
               {"tenant_id", s.tenant_id},
               {"metric", s.metric},
               {"window_requests", s.requests},
               {"window_tokens", s.tokens});
    alerts_.raise(std::move(a));
    if (auto_suspend_) {
      auto r =
          control_.suspendTenant(control::Actor::system(), s.tenant_id, "automatic: usage spike");
      if (r) {
        (void)sync_.refreshTenant(s.tenant_id);
      } else {
        LIVERY_LOG(log_,
                   Error,
                   "auto_suspend_failed",
                   {"tenant_id", s.tenant_id},
                   {"error", r.error().client_message});
      }
    }
  }
}

}  // namespace livery::app
