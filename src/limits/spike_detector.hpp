#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace livery::limits {

struct SpikeDetectorOptions {
  double spike_factor = 10.0;                                   // config alerts.spike_factor
  std::chrono::milliseconds window = std::chrono::hours(1);     // config alerts.window
  std::chrono::milliseconds baseline = std::chrono::hours(24);  // config alerts.baseline
  std::uint64_t min_requests = 100;  // config alerts.min_requests: window volume needed to alert
  std::uint32_t buckets_per_window = 6;  // time resolution: window / buckets_per_window
  std::size_t max_tenants = 100'000;     // bound on tracked tenants (least recently seen dropped)
  std::size_t shards = 16;
};

// One detected spike: the tenant's volume in the last window against its baseline rate.
struct SpikeAlert {
  std::string tenant_id;
  std::string_view metric;  // "requests" or "tokens": the volume whose factor is reported
  double factor = 0;        // window volume / baseline volume per window (of `metric`)
  std::uint64_t window_requests = 0;
  std::uint64_t window_tokens = 0;
  double baseline_requests = 0;  // per window (an hourly rate for the default 1 h window)
  double baseline_tokens = 0;
  std::chrono::milliseconds window{0};
};

// Usage-spike detection per tenant: the volume (requests and tokens) of the last `window` is
// compared with the tenant's average volume per window over the `baseline` that precedes it. When
// the window holds at least `min_requests` requests and either volume reaches `spike_factor` times
// its baseline (a baseline below one unit per window counts as one), record() returns one alert.
// The tenant then raises nothing more until the spike has clearly ended (factor below half the
// threshold, or volume below min_requests) at least one window after the alert: one spike gives
// one alert, not one per request. A tenant is judged only once a whole window + baseline has
// passed since it was first seen (no alert while a new tenant ramps up); an idle tenant keeps
// that history, so a dormant tenant that suddenly bursts is flagged.
//
// Volumes are counted in buckets of window / buckets_per_window; the window's oldest bucket is
// weighted by the share of it still inside the window (a sliding-window counter), so the window
// volume is exact for evenly spread traffic. Memory: 16 bytes × (1 + (window + baseline) / bucket)
// per active tenant (2.4 KB with the defaults), a few hundred bytes per idle one, at most
// max_tenants tenants (the least recently seen is dropped). Pure logic over the injected Clock's
// steady time; thread-safe (sharded mutexes over open-addressing tables, the tenant id inline); the
// caller turns an alert into a log line, webhooks or a suspension. `clock` must outlive the
// detector.
class SpikeDetector {
 public:
  SpikeDetector(const Clock& clock, SpikeDetectorOptions options);
  ~SpikeDetector();
  SpikeDetector(const SpikeDetector&) = delete;
  SpikeDetector& operator=(const SpikeDetector&) = delete;

  // Adds one completed request's volume to the tenant's current bucket and evaluates the
  // tenant. Returns an alert at most once per spike.
  std::optional<SpikeAlert> record(std::string_view tenant_id,
                                   std::uint64_t requests,
                                   std::uint64_t tokens);

  std::size_t trackedTenants() const;

 private:
  struct Shard;
  std::int64_t elapsedNanos() const;

  const Clock& clock_;
  const SpikeDetectorOptions options_;
  std::int64_t bucket_ns_ = 1;
  std::int64_t window_buckets_ = 1;
  std::int64_t baseline_buckets_ = 1;
  Clock::SteadyTime origin_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace livery::limits
