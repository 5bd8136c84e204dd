#include "api/control_api.hpp"
#include "http/router.hpp"

namespace livery::api {

// TODO(api): the handlers of docs/API.md for this surface.
void addWorkspaceRoutes(http::Router& /*router*/,
                        ApiContext& /*ctx*/,
                        SessionManager& /*sessions*/) {}

}  // namespace livery::api
