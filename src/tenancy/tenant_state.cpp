#include "tenancy/tenant_state.hpp"

#include <algorithm>

namespace livery::tenancy {

EffectiveLimits effectiveLimits(const storage::Plan* plan, const storage::PlanOverrides& o) {
  EffectiveLimits l;
  if (plan != nullptr) {
    l.monthly_token_quota = plan->monthly_token_quota;
    l.rpm = plan->rpm;
    l.tpm = plan->tpm;
    l.max_api_keys = plan->max_api_keys;
  }
  if (o.monthly_token_quota) {
    l.monthly_token_quota = *o.monthly_token_quota;
  }
  if (o.rpm) {
    l.rpm = *o.rpm;
  }
  if (o.tpm) {
    l.tpm = *o.tpm;
  }
  if (o.max_api_keys) {
    l.max_api_keys = *o.max_api_keys;
  }
  return l;
}

bool TenantState::hasFeature(std::string_view f) const {
  return std::find(features.begin(), features.end(), f) != features.end();
}

const storage::Route* TenantState::route(std::string_view model) const {
  auto it = routes.find(model);
  return it == routes.end() ? nullptr : &it->second;
}

const storage::Credential* TenantState::credential(std::string_view id) const {
  auto it = credentials.find(id);
  return it == credentials.end() ? nullptr : &it->second;
}

}  // namespace livery::tenancy
