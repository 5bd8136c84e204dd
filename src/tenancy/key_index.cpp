#include "tenancy/key_index.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace livery::tenancy {

KeyHash toKeyHash(const std::vector<unsigned char>& bytes) {
  KeyHash h{};
  std::memcpy(h.data(), bytes.data(), std::min(bytes.size(), h.size()));
  return h;
}

bool KeyEntry::allowsModel(std::string_view model) const {
  if (!extras || extras->scopes.empty()) {
    return true;
  }
  return std::find(extras->scopes.begin(), extras->scopes.end(), model) != extras->scopes.end();
}

KeyEntry keyEntryFrom(const storage::ApiKey& key) {
  KeyEntry e;
  e.id = key.id;
  e.tenant_id = key.tenant_id;
  e.expires_at = key.expires_at;
  e.rpm = key.limits.rpm;
  e.tpm = key.limits.tpm;
  e.monthly_token_quota = key.limits.monthly_token_quota;
  e.test_environment = key.environment == "test";
  if (!key.scopes.empty() || !key.end_user.empty()) {
    e.extras = std::make_shared<const KeyEntry::Extras>(KeyEntry::Extras{key.scopes, key.end_user});
  }
  return e;
}

std::size_t KeyIndex::HashOfHash::operator()(const KeyHash& h) const noexcept {
  // The key is an HMAC output: any 8 bytes are uniformly distributed.
  std::size_t v = 0;
  std::memcpy(&v, h.data(), sizeof(v));
  return v;
}

std::optional<KeyEntry> KeyIndex::find(const KeyHash& hash) const {
  const auto& shard = shards_[shardOf(hash)];
  std::shared_lock lock(shard.mu);
  auto it = shard.map.find(hash);
  if (it == shard.map.end()) {
    return std::nullopt;
  }
  return it->second;
}

void KeyIndex::put(const KeyHash& hash, KeyEntry entry) {
  auto& shard = shards_[shardOf(hash)];
  std::unique_lock lock(shard.mu);
  shard.map.insert_or_assign(hash, std::move(entry));
}

void KeyIndex::remove(const KeyHash& hash) {
  auto& shard = shards_[shardOf(hash)];
  std::unique_lock lock(shard.mu);
  shard.map.erase(hash);
}

void KeyIndex::removeTenant(const std::string& tenant_id) {
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mu);
    boost::unordered::erase_if(shard.map,
                               [&](const auto& kv) { return kv.second.tenant_id == tenant_id; });
  }
}

std::size_t KeyIndex::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::shared_lock lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

void KeyIndex::reserve(std::size_t n) {
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mu);
    shard.map.reserve(n / kShards + 1);
  }
}

}  // namespace livery::tenancy
