#pragma once

// A bounded, thread-safe cache of compiled tenant prompt templates, keyed by (tenant id, prompt
// version id) and never by anything less specific: two tenants can never share an entry, and
// activating or rolling back a version changes the key, so the next request sees the new
// template without any invalidation. Least recently used entries are evicted beyond
// `max_entries`.
//
// Thread-safety: every member is safe to call concurrently. Entries are shared_ptr<const>, so a
// request keeps its template alive even if the entry is evicted meanwhile. Loading and compiling
// run outside the lock; two threads missing the same key may both compile, and the first insert
// wins (both get equivalent templates).

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"
#include "whitelabel/prompt_template.hpp"

namespace livery::whitelabel {

class PromptCache {
 public:
  using Entry = std::shared_ptr<const CompiledPrompt>;

  explicit PromptCache(std::size_t max_entries = 10'000, PromptLimits limits = {});
  PromptCache(const PromptCache&) = delete;
  PromptCache& operator=(const PromptCache&) = delete;

  // The cached template for (tenant_id, version_id), or nullptr.
  Entry find(std::string_view tenant_id, std::string_view version_id) const;

  // The cached template, or compiles `load()` (a callable returning Result<std::string> with
  // the content of exactly that version) and caches it. kInternal if either id is empty (a
  // less specific key is never used); the loader's or compile()'s error otherwise.
  template <class Loader>
  Result<Entry> getOrCompile(std::string_view tenant_id,
                             std::string_view version_id,
                             Loader&& load) {
    if (tenant_id.empty() || version_id.empty()) {
      return emptyKeyError();
    }
    if (Entry hit = find(tenant_id, version_id)) {
      return hit;
    }
    Result<std::string> content = std::forward<Loader>(load)();
    if (!content) {
      return content.error();
    }
    return insert(tenant_id, version_id, *content);
  }

  // Compiles `content` as (tenant_id, version_id) and caches it; if the key is already cached,
  // returns the cached entry unchanged (versions are immutable).
  Result<Entry> insert(std::string_view tenant_id,
                       std::string_view version_id,
                       std::string_view content);

  // Drops every entry of one tenant (tenant deleted), so its memory is released at once.
  void eraseTenant(std::string_view tenant_id);

  std::size_t size() const;
  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Key {
    std::string tenant_id;
    std::string version_id;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  using Lru = std::list<Key>;
  struct Slot {
    Entry prompt;
    Lru::iterator lru;
  };

  static Error emptyKeyError();

  const std::size_t max_entries_;
  const PromptLimits limits_;
  mutable std::mutex mu_;  // guards map_, lru_, hits_, misses_
  std::unordered_map<Key, Slot, KeyHash> map_;
  mutable Lru lru_;  // front: most recently used
  mutable std::uint64_t hits_ = 0;
  mutable std::uint64_t misses_ = 0;
};

}  // namespace livery::whitelabel
