#pragma once

// The generic cell rate algorithm (GCRA) as pure arithmetic over an integer time unit (ns for
// the in-memory limiter, µs inside the Redis script), shared so both backends admit exactly the
// same sequences. State per limit is one timestamp, the theoretical arrival time (TAT).
// See docs/design/rate-limiting.md.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "limits/limiter.hpp"

namespace livery::limits {

struct Gcra {
  double interval = 0;         // time per unit at the limit's rate (60 s / per_minute)
  std::int64_t tolerance = 0;  // burst tolerance: max(burst, one interval)

  // `units_per_second`: 1e9 for ns, 1e6 for µs. `per_minute` > 0.
  static Gcra forRate(std::uint32_t per_minute, double burst_seconds, double units_per_second) {
    Gcra g;
    g.interval = 60.0 * units_per_second / static_cast<double>(per_minute);
    const double burst = std::max(0.0, burst_seconds) * units_per_second;
    g.tolerance = static_cast<std::int64_t>(std::ceil(std::max(burst, g.interval)));
    return g;
  }

  // Time that `cost` units occupy (saturates far beyond any real clock).
  std::int64_t increment(std::uint64_t cost) const {
    const double inc = std::round(static_cast<double>(cost) * interval);
    constexpr double kMax = static_cast<double>(std::int64_t{1} << 62);
    return inc >= kMax ? std::int64_t{1} << 62 : static_cast<std::int64_t>(inc);
  }

  struct Outcome {
    bool allowed = false;
    std::int64_t new_tat = 0;      // when allowed: the TAT to store
    std::int64_t retry_after = 0;  // when rejected: time until this cost would be allowed
  };

  // A request of `cost` units at `now` against stored `tat` (a missing entry is tat <= now).
  // Allowed when the debt after it stays within the tolerance; a single request costing more
  // than the tolerance is allowed only when there is no debt (so it can never starve).
  Outcome check(std::int64_t tat, std::int64_t now, std::uint64_t cost) const {
    const std::int64_t inc = increment(cost);
    const std::int64_t base = std::max(tat, now);
    const std::int64_t wait = base - now;
    const std::int64_t cap = std::max(tolerance, inc);
    Outcome o;
    if (wait <= cap - inc) {
      o.allowed = true;
      o.new_tat = base + inc;
    } else {
      o.retry_after = wait - (cap - inc);
    }
    return o;
  }

  // Header values for a limit whose current debt is `wait` (tat - now, clamped at 0).
  RateLimitHeaders::Values headerValues(std::uint32_t per_minute,
                                        std::int64_t wait,
                                        double units_per_second) const {
    wait = std::max<std::int64_t>(wait, 0);
    RateLimitHeaders::Values v;
    v.limit = per_minute;
    const double room = static_cast<double>(tolerance - wait);
    // The epsilon keeps exact multiples (0.9 s / 0.1 s) from rounding down.
    v.remaining = room <= 0 ? 0 : static_cast<std::uint64_t>(std::floor(room / interval + 1e-9));
    v.remaining = std::min<std::uint64_t>(v.remaining, per_minute);
    v.reset = std::chrono::milliseconds(static_cast<std::int64_t>(
        std::ceil(static_cast<double>(wait) * 1000.0 / units_per_second)));
    return v;
  }
};

}  // namespace livery::limits
