#include "whitelabel/prompt_cache.hpp"

#include <functional>

namespace livery::whitelabel {

std::size_t PromptCache::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h1 = std::hash<std::string>{}(k.tenant_id);
  std::size_t h2 = std::hash<std::string>{}(k.version_id);
  return h1 ^ (h2 + 0x9e3779b97f4a7c15ULL + (h1 << 6) + (h1 >> 2));
}

PromptCache::PromptCache(std::size_t max_entries, PromptLimits limits)
    : max_entries_(max_entries == 0 ? 1 : max_entries), limits_(limits) {}

Error PromptCache::emptyKeyError() {
  return fail(ErrorCode::kInternal, "internal error", "prompt cache key needs tenant and version");
}

PromptCache::Entry PromptCache::find(std::string_view tenant_id,
                                     std::string_view version_id) const {
  Key key{std::string(tenant_id), std::string(version_id)};
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.prompt;
}

Result<PromptCache::Entry> PromptCache::insert(std::string_view tenant_id,
                                               std::string_view version_id,
                                               std::string_view content) {
  if (tenant_id.empty() || version_id.empty()) {
    return emptyKeyError();
  }
  auto compiled = CompiledPrompt::compile(
      content, CompiledPrompt::Owner{std::string(tenant_id), std::string(version_id)}, limits_);
  if (!compiled) {
    return compiled.error();
  }
  auto entry = std::make_shared<const CompiledPrompt>(std::move(*compiled));
  Key key{std::string(tenant_id), std::string(version_id)};
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.prompt;
  }
  lru_.push_front(key);
  map_.emplace(std::move(key), Slot{entry, lru_.begin()});
  while (map_.size() > max_entries_) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  return entry;
}

void PromptCache::eraseTenant(std::string_view tenant_id) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->tenant_id == tenant_id) {
      map_.erase(*it);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t PromptCache::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

std::uint64_t PromptCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::uint64_t PromptCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace livery::whitelabel
