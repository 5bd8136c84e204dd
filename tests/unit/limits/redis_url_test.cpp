#include "limits/redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace livery::limits {
namespace {

TEST(RedisUrlTest, ParsesHostPortAndDatabase) {
  auto e = parseRedisUrl("redis://cache.internal:6380/3");
  ASSERT_TRUE(e) << e.error().client_message;
  EXPECT_EQ(e->host, "cache.internal");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);
  EXPECT_TRUE(e->password.empty());
  EXPECT_EQ(e->describe(), "redis://cache.internal:6380/3");
}

TEST(RedisUrlTest, DefaultsPortAndDatabase) {
  auto e = parseRedisUrl("redis://127.0.0.1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  auto slash = parseRedisUrl("redis://127.0.0.1:7000/");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->db, 0);
}

TEST(RedisUrlTest, ParsesIpv6Hosts) {
  auto e = parseRedisUrl("redis://[::1]:6379");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->describe(), "redis://[::1]:6379/0");
}

TEST(RedisUrlTest, KeepsThePasswordSecretAndDecoded) {
  auto e = parseRedisUrl("redis://app:s3cr%40t-canary@cache:6379/1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->username, "app");
  EXPECT_EQ(e->password.reveal(), "s3cr@t-canary");
  EXPECT_EQ(e->describe().find("canary"), std::string::npos);
  EXPECT_EQ(e->describe().find("app"), std::string::npos);

  auto pw_only = parseRedisUrl("redis://:pw-canary@cache");
  ASSERT_TRUE(pw_only);
  EXPECT_TRUE(pw_only->username.empty());
  EXPECT_EQ(pw_only->password.reveal(), "pw-canary");
  EXPECT_EQ(pw_only->clone().password.reveal(), "pw-canary");
}

TEST(RedisUrlTest, RejectsWhatItCannotHonourWithoutQuotingTheUrl) {
  for (const char* url : {"rediss://:tls-canary@cache:6380",
                          "http://:http-canary@cache",
                          "redis://:db-canary@cache/abc",
                          "redis://:port-canary@cache:0",
                          "redis://:query-canary@cache?timeout=1",
                          "not a url :canary"}) {
    auto e = parseRedisUrl(url);
    ASSERT_FALSE(e) << url;
    EXPECT_EQ(e.error().code, ErrorCode::kUnprocessable);
    EXPECT_EQ(e.error().client_message.find("canary"), std::string::npos) << url;
    EXPECT_EQ(e.error().log_detail.find("canary"), std::string::npos) << url;
  }
}

}  // namespace
}  // namespace livery::limits
