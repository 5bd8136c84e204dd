#pragma once

// Vocabulary shared by the stores.
//
// Conventions every store follows (the contract suite checks them):
// - Stores are thin, synchronous and thread-safe: each call leases a connection for its
//   duration and holds no other state. Run them on a thread pool (core/offload.hpp), never on
//   an I/O thread. A store must not outlive its Database or Clock.
// - Every read or write of tenant-owned data takes the tenant id and filters by it, so an id
//   from another tenant behaves exactly like an id that does not exist (kNotFound). The few
//   global lookups (a key by its hash, a domain by its host, a session by its hash, operator
//   maintenance scans) say so in their comment.
// - Missing entities are kNotFound; uniqueness and foreign-key violations are kConflict; a
//   stale compare-and-set revision is kConflict; an oversized value is kPayloadTooLarge.
// - Ids left empty on insert are generated ("tnt_…", "key_…"); times left 0 are set from the
//   injected Clock.
// - Lists are bounded: a Page's limit is clamped to [1, kMaxPageSize] and paging is keyset
//   (pass the last id/cursor of a page as `after` to get the next one).

#include <algorithm>
#include <cstddef>
#include <string>

namespace livery::storage {

inline constexpr std::size_t kMaxPageSize = 10'000;

struct Page {
  std::size_t limit = 100;
  std::string after;  // exclusive lower bound of the sort key (an id); empty: from the start
};

inline std::int64_t clampLimit(std::size_t limit) {
  return static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, kMaxPageSize));
}

}  // namespace livery::storage
