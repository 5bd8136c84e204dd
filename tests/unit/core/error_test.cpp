#include "core/error.hpp"

#include <gtest/gtest.h>

namespace livery {
namespace {

TEST(ErrorTest, MapsCodesToOpenAiStatuses) {
  EXPECT_EQ(httpStatus(Error{ErrorCode::kUnauthenticated, "x"}), 401);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kTenantSuspended, "x"}), 403);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kRateLimited, "x"}), 429);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kQuotaExceeded, "x"}), 429);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kPayloadTooLarge, "x"}), 413);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kHeadersTooLarge, "x"}), 431);
  EXPECT_EQ(httpStatus(Error{ErrorCode::kUpstreamTimeout, "x"}), 504);
}

TEST(ErrorTest, PassesUpstreamClientErrorStatusThrough) {
  Error e{ErrorCode::kUpstreamRejected, "bad"};
  e.upstream_status = 422;
  EXPECT_EQ(httpStatus(e), 422);
  e.upstream_status = 503;  // never pass a 5xx as a request error
  EXPECT_EQ(httpStatus(e), 400);
}

TEST(ErrorTest, OpenAiJsonHasTheSdkShapeAndNeverTheLogDetail) {
  Error e{ErrorCode::kQuotaExceeded, "You exceeded your quota", "tenant t1 used 1000/1000"};
  auto json = openAiErrorJson(e);
  EXPECT_EQ(json,
            R"({"error":{"message":"You exceeded your quota","type":"insufficient_quota",)"
            R"("param":null,"code":"insufficient_quota"}})");
  EXPECT_EQ(json.find("tenant t1"), std::string::npos);
}

TEST(ErrorTest, ResultValueThrowsGatewayException) {
  Result<int> r = fail(ErrorCode::kBadRequest, "nope");
  EXPECT_THROW((void)r.value(), GatewayException);
  Result<int> ok = 5;
  EXPECT_EQ(ok.value(), 5);
}

TEST(ErrorTest, CustomCodeAndParamAreRendered) {
  auto e = Error{ErrorCode::kNotFound, "The model `x` does not exist"}
               .withCode("model_not_found")
               .withParam("model");
  auto json = openAiErrorJson(e);
  EXPECT_NE(json.find(R"("code":"model_not_found")"), std::string::npos);
  EXPECT_NE(json.find(R"("param":"model")"), std::string::npos);
}

}  // namespace
}  // namespace livery
