#include "api/control_api.hpp"
#include "http/router.hpp"

namespace livery::api {

// TODO(api): the handlers of docs/API.md for this surface.
void addPublicRoutes(http::Router& /*router*/, ApiContext& /*ctx*/) {}

}  // namespace livery::api
