#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.hpp"

namespace livery::testing {

// A Clock the test drives: time stands still until advance(). Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point wall_start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000)))
      : wall_origin_(wall_start) {}

  SteadyTime now() const override {
    return SteadyTime(std::chrono::nanoseconds(offset_ns_.load(std::memory_order_relaxed)) +
                      std::chrono::hours(1));
  }
  WallTime wallNow() const override {
    return wall_origin_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::nanoseconds(offset_ns_.load(std::memory_order_relaxed)));
  }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    offset_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                         std::memory_order_relaxed);
  }

 private:
  std::chrono::system_clock::time_point wall_origin_;
  std::atomic<std::int64_t> offset_ns_{0};
};

}  // namespace livery::testing
