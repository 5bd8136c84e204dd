#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "storage/model.hpp"

namespace livery::tenancy {

using KeyHash = std::array<unsigned char, 32>;

KeyHash toKeyHash(const std::vector<unsigned char>& bytes);

// What the hot path needs to authorise a request made with an API key. Rarely used parts
// (scopes, end-user binding) live behind one shared pointer, null in the common case, to keep the
// per-key footprint small with a million keys loaded.
struct KeyEntry {
  struct Extras {
    std::vector<std::string> scopes;  // allowed models; empty: all
    std::string end_user;             // bound end user
  };
  std::string id;
  std::string tenant_id;
  std::int64_t expires_at = 0;  // Unix ms; 0: never
  std::uint32_t rpm = 0;
  std::uint32_t tpm = 0;
  std::uint64_t monthly_token_quota = 0;
  bool test_environment = false;
  std::shared_ptr<const Extras> extras;

  bool allowsModel(std::string_view model) const;
};

KeyEntry keyEntryFrom(const storage::ApiKey& key);

// Keyed-hash → key index for the request hot path. Revocation removes the entry (effective on
// the next request). Thread-safe: 64 shards, each an open-addressing flat map under a
// reader/writer lock.
class KeyIndex {
 public:
  std::optional<KeyEntry> find(const KeyHash& hash) const;
  void put(const KeyHash& hash, KeyEntry entry);
  void remove(const KeyHash& hash);
  // Removes every key of a tenant (tenant deleted).
  void removeTenant(const std::string& tenant_id);
  std::size_t size() const;
  void reserve(std::size_t n);

 private:
  struct HashOfHash {
    std::size_t operator()(const KeyHash& h) const noexcept;
  };
  static constexpr std::size_t kShards = 64;
  struct Shard {
    mutable std::shared_mutex mu;  // guards map
    boost::unordered_flat_map<KeyHash, KeyEntry, HashOfHash> map;
  };
  static std::size_t shardOf(const KeyHash& h) { return h[31] % kShards; }
  std::array<Shard, kShards> shards_;
};

}  // namespace livery::tenancy
