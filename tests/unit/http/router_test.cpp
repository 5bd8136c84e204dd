#include "http/router.hpp"

#include <gtest/gtest.h>

namespace livery::http {
namespace {

net::awaitable<Response> ok(Exchange&) {
  co_return Response::json(200, "{}");
}

struct DummyWriter : StreamWriter {
  net::awaitable<Result<void>> begin(int, Headers) override { co_return Result<void>{}; }
  net::awaitable<Result<void>> write(std::string_view) override { co_return Result<void>{}; }
  net::awaitable<Result<void>> end() override { co_return Result<void>{}; }
  bool begun() const noexcept override { return false; }
  std::uint64_t bytesWritten() const noexcept override { return 0; }
};

TEST(RouterTest, MatchesExactPathsAndMethods) {
  Router r;
  r.add(Method::kPost, "/v1/chat/completions", ok, {.name = "chat"});
  auto m = r.match(Method::kPost, "/v1/chat/completions", nullptr);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "chat");
  auto wrong = r.match(Method::kGet, "/v1/chat/completions", nullptr);
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_TRUE(wrong.path_matched);  // -> 405
  auto none = r.match(Method::kGet, "/v2/x", nullptr);
  EXPECT_EQ(none.handler, nullptr);
  EXPECT_FALSE(none.path_matched);  // -> 404
}

TEST(RouterTest, ExtractsParametersAndWildcards) {
  Router r;
  r.add(Method::kGet, "/admin/v1/tenants/{id}/keys/{key}", ok);
  r.add(Method::kGet, "/assets/*", ok);
  Request req;
  DummyWriter w;
  Exchange ex{req, w, "r", {}, {}, 0, {}, {}, {}, 0};
  ASSERT_NE(r.match(Method::kGet, "/admin/v1/tenants/t%2F1/keys/k9", &ex).handler, nullptr);
  EXPECT_EQ(ex.param("id"), "t/1");
  EXPECT_EQ(ex.param("key"), "k9");
  ASSERT_NE(r.match(Method::kGet, "/assets/t1/logo.png", &ex).handler, nullptr);
  EXPECT_EQ(ex.param("*"), "t1/logo.png");
  EXPECT_EQ(r.match(Method::kGet, "/admin/v1/tenants/t1/keys", &ex).handler, nullptr);
}

TEST(RouterTest, HeadIsServedByGetRoutes) {
  Router r;
  r.add(Method::kGet, "/healthz", ok);
  EXPECT_NE(r.match(Method::kHead, "/healthz", nullptr).handler, nullptr);
}

}  // namespace
}  // namespace livery::http
