#include "storage/login_throttle_store.hpp"

#include "storage/sql_util.hpp"

namespace livery::storage {

Result<ThrottleWindow> LoginThrottleStore::recordFailure(std::span<const unsigned char> key,
                                                         Millis window_ms) {
  if (key.empty() || window_ms <= 0) {
    return fail(ErrorCode::kBadRequest, "a throttle key and a positive window are needed");
  }
  const Millis now = clock_.unixMillis();
  const Millis expired_before = now - window_ms;  // a window that started then or earlier ended
  // One statement, so two nodes counting the same key at once both count. Every SET expression
  // reads the row as it was before the update.
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn,
        "INSERT INTO login_throttle (throttle_key, window_start, failures) VALUES (?, ?, 1) "
        "ON CONFLICT (throttle_key) DO UPDATE SET "
        "failures = CASE WHEN login_throttle.window_start <= ? THEN 1 "
        "ELSE login_throttle.failures + 1 END, "
        "window_start = CASE WHEN login_throttle.window_start <= ? "
        "THEN excluded.window_start ELSE login_throttle.window_start END "
        "RETURNING window_start, failures",
        {Blob{key}, now, expired_before, expired_before},
        "throttle window",
        [](const Row& row) -> Result<ThrottleWindow> {
          return ThrottleWindow{row.int64(0), static_cast<std::uint32_t>(row.uint64(1))};
        });
  });
}

Result<ThrottleWindow> LoginThrottleStore::openWindow(std::span<const unsigned char> key,
                                                      Millis window_ms) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) {
    return sql::one(
        conn,
        "SELECT window_start, failures FROM login_throttle "
        "WHERE throttle_key = ? AND window_start > ?",
        {Blob{key}, now - window_ms},
        "throttle window",
        [](const Row& row) -> Result<ThrottleWindow> {
          return ThrottleWindow{row.int64(0), static_cast<std::uint32_t>(row.uint64(1))};
        });
  });
}

Result<void> LoginThrottleStore::reset(std::span<const unsigned char> key) {
  return db_.withConnection([&](Connection& conn) -> Result<void> {
    auto n = conn.exec("DELETE FROM login_throttle WHERE throttle_key = ?", {Blob{key}});
    if (!n) {
      return n.error();
    }
    return {};
  });
}

Result<std::int64_t> LoginThrottleStore::pruneOlderThan(Millis max_window_ms) {
  const Millis now = clock_.unixMillis();
  return db_.withConnection([&](Connection& conn) {
    return conn.exec("DELETE FROM login_throttle WHERE window_start <= ?", {now - max_window_ms});
  });
}

}  // namespace livery::storage
