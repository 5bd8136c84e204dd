#include "api/control_api.hpp"

namespace livery::api {

namespace {

// TODO(api): the real session layer (cookies, CSRF, login rate limits).
class CookieSessions final : public SessionManager {
 public:
  explicit CookieSessions(ApiContext& /*ctx*/) {}
  net::awaitable<std::optional<Result<SessionPrincipal>>> authenticate(
      const http::Request& /*request*/) override {
    co_return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<SessionManager> makeSessionManager(ApiContext& ctx) {
  return std::make_unique<CookieSessions>(ctx);
}

}  // namespace livery::api
