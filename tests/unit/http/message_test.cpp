#include "http/message.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace livery::http {
namespace {

TEST(MessageTest, HeadersAreCaseInsensitive) {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add("X-A", "1");
  h.add("x-a", "2");
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.count("X-a"), 2u);
  h.set("x-A", "3");
  EXPECT_EQ(h.count("x-a"), 1u);
  EXPECT_EQ(h.get("X-A"), "3");
}

TEST(MessageTest, RejectsHeaderValuesThatWouldSplitAResponse) {
  EXPECT_TRUE(Headers::isSafeValue("fine value"));
  EXPECT_FALSE(Headers::isSafeValue("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(Headers::isSafeValue(std::string_view("a\0b", 3)));
}

TEST(MessageTest, ParsesPathQueryAndHost) {
  Request r;
  r.target = "/v1/models?limit=5&name=a%20b";
  r.headers.add("Host", "App.Example.COM:8443");
  EXPECT_EQ(r.path(), "/v1/models");
  EXPECT_EQ(r.queryParam("limit"), "5");
  EXPECT_EQ(r.queryParam("name"), "a b");
  EXPECT_EQ(r.queryParam("missing"), "");
  EXPECT_EQ(r.host(), "app.example.com");
  r.headers.set("Host", "[::1]:80");
  EXPECT_EQ(r.host(), "[::1]");
}

TEST(MessageTest, ErrorResponsesCarryRetryAfter) {
  auto res = Response::error(Error{ErrorCode::kRateLimited, "slow down"}.withRetryAfter(7));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.headers.get("retry-after"), "7");
  EXPECT_NE(res.body.find("rate_limit_exceeded"), std::string::npos);
}

}  // namespace
}  // namespace livery::http
