#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace livery::limits {

// One API key's latest use, as drained from KeyTouches.
struct KeyUse {
  std::string tenant_id;
  std::string key_id;
  std::int64_t at_unix_ms = 0;
};

// Coalesces the "API key used" touches of the request path until a background flusher drains
// them (app::ControlEvents writes them to the key store every flush interval): one pending entry
// per key, holding the latest time seen. touch() is what every request pays, so the pending set
// is a sharded open-addressing table (one short lock per touch, the key's slot found by a hash
// computed once, no allocation when the key was already touched since the last drain) instead of
// a map under one global lock.
//
// Bound: at most `max_keys` distinct keys pending (split evenly over the shards); a touch of a
// new key beyond that is dropped and counted (last-used times are approximate by design).
// Thread-safe: touch() from any thread, drain() from one thread at a time (the flusher).
class KeyTouches {
 public:
  explicit KeyTouches(std::size_t max_keys = 100'000, std::size_t shards = 16);
  ~KeyTouches();
  KeyTouches(const KeyTouches&) = delete;
  KeyTouches& operator=(const KeyTouches&) = delete;

  // Records that `key_id` of `tenant_id` was used at `at_unix_ms`; an earlier time never
  // replaces a later one. Returns false when the touch was dropped (bound reached).
  bool touch(std::string_view tenant_id, std::string_view key_id, std::int64_t at_unix_ms);

  // Takes every pending touch (one per key, in no particular order) and starts afresh.
  std::vector<KeyUse> drain();

  std::size_t pending() const;
  // Touches dropped because the bound was reached, since construction.
  std::uint64_t dropped() const;

 private:
  struct Shard;
  std::size_t per_shard_max_;
  std::size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace livery::limits
