#include "limits/key_touches.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>

#include "limits/same_bytes.hpp"

namespace livery::limits {
namespace {

constexpr std::size_t kInitialSlots = 64;  // per shard; a power of two

struct Slot {
  std::uint64_t hash = 0;  // 0: empty
  std::int64_t at = 0;
  std::string tenant_id;
  std::string key_id;
};

std::uint64_t hashOf(std::string_view key_id) {
  // Key ids are unique across tenants: the key id alone spreads the slots; the tenant is still
  // compared, so two tenants' equal ids never merge.
  const std::uint64_t h = std::hash<std::string_view>{}(key_id);
  return h == 0 ? 1 : h;
}

}  // namespace

struct alignas(64) KeyTouches::Shard {
  mutable std::mutex mu;    // guards slots, size
  std::vector<Slot> slots;  // open addressing, linear probing; size() is a power of two
  std::size_t size = 0;     // occupied slots
  std::atomic<std::uint64_t> dropped{0};

  // Moves every occupied slot of `from` into `slots` (sized by the caller).
  void rehashFrom(std::vector<Slot>& from) {
    const std::size_t mask = slots.size() - 1;
    for (Slot& s : from) {
      if (s.hash == 0) {
        continue;
      }
      std::size_t i = static_cast<std::size_t>(s.hash) & mask;
      while (slots[i].hash != 0) {
        i = (i + 1) & mask;
      }
      slots[i] = std::move(s);
    }
  }
};

KeyTouches::KeyTouches(std::size_t max_keys, std::size_t shards)
    : per_shard_max_(std::max<std::size_t>(max_keys / std::max<std::size_t>(shards, 1), 1)),
      shard_count_(std::max<std::size_t>(shards, 1)),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

KeyTouches::~KeyTouches() = default;

bool KeyTouches::touch(std::string_view tenant_id,
                       std::string_view key_id,
                       std::int64_t at_unix_ms) {
  const std::uint64_t h = hashOf(key_id);
  // The high bits pick the shard, the low bits the slot: the two stay independent.
  Shard& shard = shards_[static_cast<std::size_t>(h >> 40) % shard_count_];
  std::lock_guard lock(shard.mu);
  if (shard.slots.empty()) {
    shard.slots.resize(kInitialSlots);
  }
  std::size_t mask = shard.slots.size() - 1;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  for (;;) {
    Slot& s = shard.slots[i];
    if (s.hash == 0) {
      break;
    }
    if (s.hash == h && sameBytes(s.key_id, key_id) && sameBytes(s.tenant_id, tenant_id)) {
      s.at = std::max(s.at, at_unix_ms);
      return true;
    }
    i = (i + 1) & mask;
  }
  if (shard.size >= per_shard_max_) {
    shard.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if ((shard.size + 1) * 2 > shard.slots.size()) {  // keep the load at or below one half
    std::vector<Slot> old(shard.slots.size() * 2);
    old.swap(shard.slots);
    shard.rehashFrom(old);
    mask = shard.slots.size() - 1;
    i = static_cast<std::size_t>(h) & mask;
    while (shard.slots[i].hash != 0) {
      i = (i + 1) & mask;
    }
  }
  Slot& s = shard.slots[i];
  s.hash = h;
  s.at = at_unix_ms;
  s.tenant_id.assign(tenant_id);
  s.key_id.assign(key_id);
  ++shard.size;
  return true;
}

std::vector<KeyUse> KeyTouches::drain() {
  std::vector<KeyUse> out;
  for (std::size_t n = 0; n < shard_count_; ++n) {
    Shard& shard = shards_[n];
    std::size_t capacity = 0;
    {
      std::lock_guard lock(shard.mu);
      if (shard.size == 0) {
        continue;
      }
      capacity = shard.slots.size();
    }
    // The next epoch starts with an empty table of the size this one needed (allocated here,
    // not on a request thread); the old table is read and freed outside the lock.
    std::vector<Slot> taken(capacity);
    {
      std::lock_guard lock(shard.mu);
      taken.swap(shard.slots);
      shard.size = 0;
    }
    for (Slot& s : taken) {
      if (s.hash != 0) {
        out.push_back(KeyUse{std::move(s.tenant_id), std::move(s.key_id), s.at});
      }
    }
  }
  return out;
}

std::size_t KeyTouches::pending() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].size;
  }
  return n;
}

std::uint64_t KeyTouches::dropped() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    n += shards_[i].dropped.load(std::memory_order_relaxed);
  }
  return n;
}

}  // namespace livery::limits
