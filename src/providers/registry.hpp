#pragma once

// The provider adapters by name ("openai", "azure", "anthropic", "ollama", "openai_compatible";
// the names of storage::Credential::provider and storage::Deployment::provider).
//
// Thread-safety: filled once at start-up (registerBuiltinProviders), read-only afterwards, so
// find() is safe from every I/O thread. Owns its adapters; pointers from find() live as long as
// the registry.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider_adapter.hpp"

namespace livery::providers {

class ProviderRegistry {
 public:
  // Adds `adapter` under `name`. Returns false (and drops the adapter) when the name is taken:
  // start-up code treats that as a bug.
  bool add(std::string name, std::unique_ptr<ProviderAdapter>&& adapter);
  // The adapter for `name`, or nullptr.
  const ProviderAdapter* find(std::string_view name) const;
  std::vector<std::string_view> names() const;

 private:
  std::map<std::string, std::unique_ptr<ProviderAdapter>, std::less<>> adapters_;
};

// Registers every built-in adapter: the one list of providers Livery speaks.
void registerBuiltinProviders(ProviderRegistry& registry);

}  // namespace livery::providers
