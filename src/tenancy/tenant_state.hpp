#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/model.hpp"

namespace livery::tenancy {

// Limits after applying the tenant's overrides to its plan. 0 means unlimited.
struct EffectiveLimits {
  std::uint64_t monthly_token_quota = 0;
  std::uint32_t rpm = 0;
  std::uint32_t tpm = 0;
  std::uint32_t max_api_keys = 0;
};

EffectiveLimits effectiveLimits(const storage::Plan* plan, const storage::PlanOverrides& o);

// Everything the request path needs about one tenant, as one immutable snapshot. A change to
// any part of the tenant builds a new snapshot and swaps it in (TenantDirectory::put); a request
// keeps the snapshot it started with until it ends. Holds no plaintext secret: credentials are
// envelopes, decrypted per request by the vault.
struct TenantState {
  storage::Tenant tenant;
  EffectiveLimits limits;
  std::vector<std::string> features;
  storage::Branding branding;
  std::shared_ptr<const storage::PromptVersion> active_prompt;          // null: none
  std::map<std::string, storage::Route, std::less<>> routes;            // own + inherited, by model
  std::map<std::string, storage::Credential, std::less<>> credentials;  // by id
  std::vector<storage::JwtKey> jwt_keys;
  std::vector<std::string> domains;  // active custom domains

  bool suspended() const { return tenant.status == storage::TenantStatus::kSuspended; }
  bool hasFeature(std::string_view f) const;
  const storage::Route* route(std::string_view model) const;
  const storage::Credential* credential(std::string_view id) const;
};

using TenantStatePtr = std::shared_ptr<const TenantState>;

}  // namespace livery::tenancy
