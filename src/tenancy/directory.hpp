#pragma once

#include <array>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tenancy/tenant_state.hpp"

namespace livery::tenancy {

// In-memory index of every tenant for the request hot path: by id, by slug and by host (custom
// domains and <slug>.<base_domain>). Kept in step with the store by the sync loop and by the
// API handlers (a change is visible to the next request). Thread-safe: sharded reader/writer
// locks; readers get a shared_ptr to an immutable snapshot.
class TenantDirectory {
 public:
  explicit TenantDirectory(std::string base_domain);

  TenantStatePtr byId(std::string_view id) const;
  TenantStatePtr bySlug(std::string_view slug) const;
  // Host must be normalised (lower-case, no port, no trailing dot). Unknown host: nullptr.
  TenantStatePtr byHost(std::string_view host) const;

  // Inserts or replaces a tenant (its slug and active custom domains are indexed too).
  void put(TenantStatePtr state);
  void remove(std::string_view id);
  std::size_t size() const;
  void forEach(const std::function<void(const TenantStatePtr&)>& fn) const;

  const std::string& baseDomain() const { return base_domain_; }
  // "<slug>" when host is "<slug>.<base_domain>", else empty.
  std::string slugFromHost(std::string_view host) const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::shared_mutex mu;  // guards map
    std::unordered_map<std::string, TenantStatePtr> map;
  };
  static std::size_t shardOf(std::string_view key) {
    return std::hash<std::string_view>{}(key) % kShards;
  }

  std::string base_domain_;
  std::array<Shard, kShards> by_id_;
  mutable std::shared_mutex names_mu_;  // guards slug_to_id_, host_to_id_
  std::unordered_map<std::string, std::string> slug_to_id_;
  std::unordered_map<std::string, std::string> host_to_id_;
};

}  // namespace livery::tenancy
