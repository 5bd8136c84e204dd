#pragma once

// Keys for Connection::serializeOn(). On PostgreSQL they are advisory-lock keys shared by every
// client of the database, so they carry a Livery prefix ("LVRY") to stay clear of other
// applications' keys. On SQLite they are unused (one writer at a time already).

#include <cstdint>

namespace livery::storage {

inline constexpr std::int64_t kLockPrefix = std::int64_t{0x4c565259} << 32;  // "LVRY"
inline constexpr std::int64_t kMigrationsLock = kLockPrefix | 1;
inline constexpr std::int64_t kAuditLock = kLockPrefix | 2;
inline constexpr std::int64_t kChangeFeedLock = kLockPrefix | 3;
inline constexpr std::int64_t kPromptVersionLock = kLockPrefix | 4;

}  // namespace livery::storage
