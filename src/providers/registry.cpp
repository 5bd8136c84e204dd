#include "providers/registry.hpp"

namespace livery::providers {

// Factories of the built-in adapters, one per adapter file (declared here, next to the one list
// that uses them, instead of in a header per adapter).
std::unique_ptr<ProviderAdapter> makeOpenAiAdapter();
std::unique_ptr<ProviderAdapter> makeAzureOpenAiAdapter();
std::unique_ptr<ProviderAdapter> makeAnthropicAdapter();
std::unique_ptr<ProviderAdapter> makeOllamaAdapter();
std::unique_ptr<ProviderAdapter> makeOpenAiCompatibleAdapter();

bool ProviderRegistry::add(std::string name, std::unique_ptr<ProviderAdapter>&& adapter) {
  if (!adapter) {
    return false;
  }
  return adapters_.emplace(std::move(name), std::move(adapter)).second;
}

const ProviderAdapter* ProviderRegistry::find(std::string_view name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string_view> ProviderRegistry::names() const {
  std::vector<std::string_view> out;
  out.reserve(adapters_.size());
  for (const auto& [name, adapter] : adapters_) {
    out.push_back(name);
  }
  return out;
}

// Explicit registration, no static self-registration: static libraries drop unreferenced
// registration objects, and a registry filled by static initialisers is global state.
void registerBuiltinProviders(ProviderRegistry& registry) {
  registry.add("openai", makeOpenAiAdapter());
  registry.add("azure", makeAzureOpenAiAdapter());
  registry.add("anthropic", makeAnthropicAdapter());
  registry.add("ollama", makeOllamaAdapter());
  registry.add("openai_compatible", makeOpenAiCompatibleAdapter());
}

}  // namespace livery::providers
