#pragma once

#include <chrono>
#include <cstdint>

namespace livery {

// Time source. Everything that reads the time takes a Clock& so tests can drive it with
// FakeClock (tests/support/fake_clock.hpp). Implementations are safe to call from any thread.
class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic time for deadlines, rate limits and durations.
  virtual SteadyTime now() const = 0;
  // UTC wall time for records, calendar months and token expiry.
  virtual WallTime wallNow() const = 0;

  std::int64_t unixMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(wallNow().time_since_epoch())
        .count();
  }
  std::int64_t unixSeconds() const { return unixMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace livery
