#pragma once

// Failed sign-ins counted per key in fixed windows that start at the first failure: the sign-in
// throttle, in the shared store so that every node of a fleet sees the same count. A key is an
// opaque digest (the caller's HMAC of an account or a client address), never an e-mail address
// or an IP in clear. Thread-safe; see store_common.hpp for conventions.

#include <cstdint>
#include <span>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/model.hpp"

namespace livery::storage {

struct ThrottleWindow {
  Millis start = 0;
  std::uint32_t failures = 0;
};

class LoginThrottleStore {
 public:
  LoginThrottleStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Counts a failure of `key` now, atomically (concurrent failures on any node all count): a new
  // window starts when none is open or the open one is `window_ms` old. Returns the window.
  [[nodiscard]] Result<ThrottleWindow> recordFailure(std::span<const unsigned char> key,
                                                     Millis window_ms);
  // The window of `key` open now; kNotFound when there is none or it is `window_ms` old.
  [[nodiscard]] Result<ThrottleWindow> openWindow(std::span<const unsigned char> key,
                                                  Millis window_ms);
  // Forgets `key` (a successful sign-in); idempotent.
  [[nodiscard]] Result<void> reset(std::span<const unsigned char> key);
  // Deletes the windows that started `max_window_ms` ago or earlier; returns how many.
  [[nodiscard]] Result<std::int64_t> pruneOlderThan(Millis max_window_ms);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace livery::storage
