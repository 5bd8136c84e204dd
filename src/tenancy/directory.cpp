#include "tenancy/directory.hpp"

#include <mutex>

namespace livery::tenancy {

TenantDirectory::TenantDirectory(std::string base_domain) : base_domain_(std::move(base_domain)) {}

TenantStatePtr TenantDirectory::byId(std::string_view id) const {
  const auto& shard = by_id_[shardOf(id)];
  std::shared_lock lock(shard.mu);
  auto it = shard.map.find(std::string(id));
  return it == shard.map.end() ? nullptr : it->second;
}

TenantStatePtr TenantDirectory::bySlug(std::string_view slug) const {
  std::string id;
  {
    std::shared_lock lock(names_mu_);
    auto it = slug_to_id_.find(std::string(slug));
    if (it == slug_to_id_.end()) {
      return nullptr;
    }
    id = it->second;
  }
  return byId(id);
}

std::string TenantDirectory::slugFromHost(std::string_view host) const {
  if (base_domain_.empty() || host.size() <= base_domain_.size() + 1) {
    return {};
  }
  auto suffix_at = host.size() - base_domain_.size();
  if (host.substr(suffix_at) != base_domain_ || host[suffix_at - 1] != '.') {
    return {};
  }
  auto slug = host.substr(0, suffix_at - 1);
  if (slug.find('.') != std::string_view::npos) {
    return {};  // only one label: a.b.<base> is not a tenant
  }
  return std::string(slug);
}

TenantStatePtr TenantDirectory::byHost(std::string_view host) const {
  {
    std::shared_lock lock(names_mu_);
    auto it = host_to_id_.find(std::string(host));
    if (it != host_to_id_.end()) {
      auto id = it->second;
      lock.unlock();
      return byId(id);
    }
  }
  auto slug = slugFromHost(host);
  if (slug.empty()) {
    return nullptr;
  }
  return bySlug(slug);
}

void TenantDirectory::put(TenantStatePtr state) {
  const std::string& id = state->tenant.id;
  TenantStatePtr previous;
  {
    auto& shard = by_id_[shardOf(id)];
    std::unique_lock lock(shard.mu);
    auto& slot = shard.map[id];
    previous = std::move(slot);
    slot = state;
  }
  std::unique_lock lock(names_mu_);
  if (previous) {
    if (previous->tenant.slug != state->tenant.slug) {
      slug_to_id_.erase(previous->tenant.slug);
    }
    for (const auto& d : previous->domains) {
      auto it = host_to_id_.find(d);
      if (it != host_to_id_.end() && it->second == id) {
        host_to_id_.erase(it);
      }
    }
  }
  slug_to_id_[state->tenant.slug] = id;
  for (const auto& d : state->domains) {
    host_to_id_[d] = id;
  }
}

void TenantDirectory::remove(std::string_view id) {
  TenantStatePtr previous;
  {
    auto& shard = by_id_[shardOf(id)];
    std::unique_lock lock(shard.mu);
    auto it = shard.map.find(std::string(id));
    if (it == shard.map.end()) {
      return;
    }
    previous = std::move(it->second);
    shard.map.erase(it);
  }
  std::unique_lock lock(names_mu_);
  auto s = slug_to_id_.find(previous->tenant.slug);
  if (s != slug_to_id_.end() && s->second == id) {
    slug_to_id_.erase(s);
  }
  for (const auto& d : previous->domains) {
    auto it = host_to_id_.find(d);
    if (it != host_to_id_.end() && it->second == id) {
      host_to_id_.erase(it);
    }
  }
}

std::size_t TenantDirectory::size() const {
  std::size_t n = 0;
  for (const auto& shard : by_id_) {
    std::shared_lock lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

void TenantDirectory::forEach(const std::function<void(const TenantStatePtr&)>& fn) const {
  for (const auto& shard : by_id_) {
    std::vector<TenantStatePtr> copy;
    {
      std::shared_lock lock(shard.mu);
      copy.reserve(shard.map.size());
      for (const auto& [id, st] : shard.map) {
        copy.push_back(st);
      }
    }
    for (const auto& st : copy) {
      fn(st);
    }
  }
}

}  // namespace livery::tenancy
