#include "limits/spike_detector.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "limits/same_bytes.hpp"

namespace livery::limits {
namespace {

struct Bucket {
  std::uint64_t requests = 0;
  std::uint64_t tokens = 0;
};

struct Volume {
  std::uint64_t requests = 0;
  std::uint64_t tokens = 0;
  void add(const Bucket& b) {
    requests += b.requests;
    tokens += b.tokens;
  }
  void sub(const Bucket& b) {
    requests -= std::min(requests, b.requests);
    tokens -= std::min(tokens, b.tokens);
  }
};

std::size_t slotOf(std::int64_t bucket, std::int64_t ring) {
  return static_cast<std::size_t>(((bucket % ring) + ring) % ring);
}

// One tenant's history: a ring of 1 + window + baseline buckets. The window is the current
// bucket, the window_buckets - 1 before it and, weighted by the part of it still inside the
// window, the "edge" bucket before those (a sliding-window counter); the baseline is the
// baseline_buckets before the edge. The ring is freed while the tenant is idle for a whole ring.
struct TenantState {
  std::int64_t first_bucket = 0;
  std::int64_t last_bucket = 0;  // the ring's newest bucket
  std::vector<Bucket> ring;
  // The current bucket (last_bucket) and the edge bucket (last_bucket - window_buckets), kept
  // here so a request in the same bucket reads no ring memory: the head is written to its ring
  // slot (kept zero meanwhile) when the ring advances, the edge is a copy of its ring slot.
  Bucket head;
  Bucket edge;
  Volume window;    // sum of the window's whole buckets (the current one included)
  Volume baseline;  // sum of the baseline buckets
  bool alerting = false;
  std::int64_t alert_bucket = 0;

  // Moves the ring's head to `now`: buckets move from the window to the edge, from the edge to
  // the baseline, and out of the baseline.
  void advance(std::int64_t now, std::int64_t window_buckets, std::int64_t ring_size) {
    if (now <= last_bucket) {
      return;
    }
    if (now - last_bucket >= ring_size) {
      std::fill(ring.begin(), ring.end(), Bucket{});
      window = {};
      baseline = {};
      head = {};
      edge = {};
    } else {
      ring[slotOf(last_bucket, ring_size)] = head;
      head = {};
      for (std::int64_t i = last_bucket + 1; i <= now; ++i) {
        window.sub(ring[slotOf(i - window_buckets, ring_size)]);
        baseline.add(ring[slotOf(i - window_buckets - 1, ring_size)]);
        Bucket& oldest = ring[slotOf(i, ring_size)];  // bucket i - ring_size
        baseline.sub(oldest);
        oldest = {};
      }
      edge = ring[slotOf(now - window_buckets, ring_size)];
    }
    last_bucket = now;
  }
};

// One tenant in the shard's table: its id (inline when short, so the lookup's equality check
// reads no other cache line) and its history.
struct TenantSlot {
  static constexpr std::size_t kInlineKey = 48;

  std::uint64_t hash = 0;  // 0: empty slot
  std::uint32_t key_len = 0;
  std::unique_ptr<char[]> heap_key;  // the id when longer than kInlineKey
  char inline_key[kInlineKey] = {};
  TenantState state;

  bool empty() const noexcept { return hash == 0; }
  std::string_view key() const noexcept {
    return {heap_key ? heap_key.get() : inline_key, key_len};
  }
  void assign(std::uint64_t h, std::string_view id) {
    hash = h;
    key_len = static_cast<std::uint32_t>(id.size());
    char* k = inline_key;
    if (id.size() > kInlineKey) {
      heap_key = std::make_unique<char[]>(id.size());
      k = heap_key.get();
    }
    if (!id.empty()) {  // an empty view may hold a null pointer, which memcpy must not get
      std::memcpy(k, id.data(), id.size());
    }
  }
};

std::uint64_t tenantHash(std::string_view tenant_id) {
  const std::uint64_t h = std::hash<std::string_view>{}(tenant_id);
  return h == 0 ? 1 : h;
}

// Tenants in an open-addressing table with linear probing, at most half full. Not thread-safe
// (the shard's mutex guards it).
class TenantTable {
 public:
  std::size_t size() const noexcept { return size_; }

  // The tenant's slot, or nullptr; `hash` is tenantHash(id).
  TenantSlot* find(std::uint64_t hash, std::string_view id) noexcept {
    if (slots_.empty()) {
      return nullptr;
    }
    for (std::size_t i = slotOf(hash);; i = (i + 1) & mask_) {
      TenantSlot& t = slots_[i];
      if (t.empty()) {
        return nullptr;
      }
      if (t.hash == hash && sameBytes(t.key(), id)) {
        return &t;
      }
    }
  }

  TenantSlot& insert(std::uint64_t hash, std::string_view id) {
    if ((size_ + 1) * 2 > slots_.size()) {
      rebuild(std::max<std::size_t>(slots_.size() * 2, 16), nullptr);
    }
    std::size_t i = slotOf(hash);
    while (!slots_[i].empty()) {
      i = (i + 1) & mask_;
    }
    slots_[i].assign(hash, id);
    ++size_;
    return slots_[i];
  }

  // Removes `victim` (a slot of this table); other slots move.
  void erase(const TenantSlot* victim) { rebuild(slots_.size(), victim); }

  template <class Fn>
  void forEach(Fn fn) {
    for (TenantSlot& t : slots_) {
      if (!t.empty()) {
        fn(t);
      }
    }
  }

 private:
  // The high bits pick the slot: the low bits picked the shard.
  std::size_t slotOf(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>((hash >> 20) ^ (hash << 7)) & mask_;
  }
  void rebuild(std::size_t capacity, const TenantSlot* skip) {
    std::vector<TenantSlot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    size_ = 0;
    for (TenantSlot& t : old) {
      if (t.empty() || &t == skip) {
        continue;
      }
      std::size_t i = slotOf(t.hash);
      while (!slots_[i].empty()) {
        i = (i + 1) & mask_;
      }
      slots_[i] = std::move(t);
      ++size_;
    }
  }

  std::vector<TenantSlot> slots_;  // size() is 0 or a power of two
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace

struct alignas(64) SpikeDetector::Shard {
  mutable std::mutex mu;  // guards tenants and swept_bucket
  TenantTable tenants;
  std::int64_t swept_bucket = 0;
};

SpikeDetector::SpikeDetector(const Clock& clock, SpikeDetectorOptions options)
    : clock_(clock),
      options_([&] {
        options.buckets_per_window = std::max<std::uint32_t>(options.buckets_per_window, 1);
        options.shards = std::max<std::size_t>(options.shards, 1);
        options.max_tenants = std::max(options.max_tenants, options.shards);
        if (options.window <= std::chrono::milliseconds::zero()) {
          options.window = std::chrono::hours(1);
        }
        options.baseline = std::max(options.baseline, options.window);
        return options;
      }()),
      origin_(clock.now()),
      shards_(std::make_unique<Shard[]>(options_.shards)) {
  const auto window_ns = std::chrono::nanoseconds(options_.window).count();
  bucket_ns_ = std::max<std::int64_t>(window_ns / options_.buckets_per_window, 1);
  window_buckets_ = options_.buckets_per_window;
  baseline_buckets_ =
      std::max<std::int64_t>(std::chrono::nanoseconds(options_.baseline).count() / bucket_ns_, 1);
}

SpikeDetector::~SpikeDetector() = default;

std::int64_t SpikeDetector::elapsedNanos() const {
  return std::max<std::int64_t>(std::chrono::nanoseconds(clock_.now() - origin_).count(), 0);
}

std::optional<SpikeAlert> SpikeDetector::record(std::string_view tenant_id,
                                                std::uint64_t requests,
                                                std::uint64_t tokens) {
  const std::int64_t elapsed = elapsedNanos();
  const std::int64_t now = elapsed / bucket_ns_;
  // How much of the current bucket has passed: the edge bucket counts for the rest.
  const double edge_weight =
      1.0 - static_cast<double>(elapsed % bucket_ns_) / static_cast<double>(bucket_ns_);
  const std::int64_t ring_size = window_buckets_ + 1 + baseline_buckets_;
  const std::uint64_t hash = tenantHash(tenant_id);
  Shard& shard = shards_[hash % options_.shards];
  std::lock_guard lock(shard.mu);

  TenantSlot* slot = shard.tenants.find(hash, tenant_id);
  if (slot == nullptr) {
    const std::size_t cap = options_.max_tenants / options_.shards;
    if (shard.tenants.size() >= cap) {
      // Drop the least recently seen tenant.
      const TenantSlot* victim = nullptr;
      shard.tenants.forEach([&](const TenantSlot& other) {
        if (victim == nullptr || other.state.last_bucket < victim->state.last_bucket) {
          victim = &other;
        }
      });
      shard.tenants.erase(victim);
    }
    slot = &shard.tenants.insert(hash, tenant_id);
    slot->state.first_bucket = now;
    slot->state.last_bucket = now;
  }
  TenantState& t = slot->state;
  if (t.ring.empty()) {
    t.ring.assign(static_cast<std::size_t>(ring_size), Bucket{});
    t.head = {};
    t.edge = {};
    t.window = {};
    t.baseline = {};
    t.last_bucket = now;
  } else {
    t.advance(now, window_buckets_, ring_size);
  }
  t.head.requests += requests;
  t.head.tokens += tokens;
  t.window.requests += requests;
  t.window.tokens += tokens;

  // Once per bucket, free the rings of this shard's tenants idle for a whole ring.
  if (now > shard.swept_bucket) {
    shard.swept_bucket = now;
    shard.tenants.forEach([&](TenantSlot& slot_of_other) {
      TenantState& other = slot_of_other.state;
      if (!other.ring.empty() && now - other.last_bucket >= ring_size) {
        other.ring = {};
        other.window = {};
        other.baseline = {};
        other.alerting = false;
      }
    });
  }

  const Bucket& edge = t.edge;
  const double window_requests =
      static_cast<double>(t.window.requests) + static_cast<double>(edge.requests) * edge_weight;
  const double window_tokens =
      static_cast<double>(t.window.tokens) + static_cast<double>(edge.tokens) * edge_weight;
  const double per_window =
      static_cast<double>(window_buckets_) / static_cast<double>(baseline_buckets_);
  const double base_requests = static_cast<double>(t.baseline.requests) * per_window;
  const double base_tokens = static_cast<double>(t.baseline.tokens) * per_window;
  const double f_requests = window_requests / std::max(base_requests, 1.0);
  const double f_tokens = window_tokens / std::max(base_tokens, 1.0);
  const bool tokens_lead = f_tokens > f_requests;
  const double factor = tokens_lead ? f_tokens : f_requests;
  const bool judged = now - t.first_bucket >= ring_size - 1;  // a whole baseline observed
  const bool busy = window_requests >= static_cast<double>(options_.min_requests);

  if (t.alerting) {
    // Re-arm once the spike has clearly ended (hysteresis: half the factor, or too little
    // volume) and at least one window after the alert.
    if (now - t.alert_bucket >= window_buckets_ && (!busy || factor < options_.spike_factor / 2)) {
      t.alerting = false;
    }
    return std::nullopt;
  }
  if (!judged || !busy || factor < options_.spike_factor) {
    return std::nullopt;
  }
  t.alerting = true;
  t.alert_bucket = now;
  SpikeAlert alert;
  alert.tenant_id = std::string(tenant_id);
  alert.metric = tokens_lead ? "tokens" : "requests";
  alert.factor = factor;
  alert.window_requests = static_cast<std::uint64_t>(std::llround(window_requests));
  alert.window_tokens = static_cast<std::uint64_t>(std::llround(window_tokens));
  alert.baseline_requests = base_requests;
  alert.baseline_tokens = base_tokens;
  alert.window = options_.window;
  return alert;
}

std::size_t SpikeDetector::trackedTenants() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].tenants.size();
  }
  return n;
}

}  // namespace livery::limits
