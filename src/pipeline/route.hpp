#pragma once

#include "pipeline/stage.hpp"

namespace livery::pipeline {

// The model alias → the tenant's route (its own, or an operator default it inherits). An
// unknown model is 404 model_not_found, checked before limits so a typo costs no quota.
// `mock_response` requests (issue 5 item 7) need no route; a tenant that switched the feature
// off gets 400.
class RouteStage final : public Stage {
 public:
  std::string_view name() const override { return "route"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;
};

}  // namespace livery::pipeline
