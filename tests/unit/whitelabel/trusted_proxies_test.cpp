#include "whitelabel/trusted_proxies.hpp"

#include <gtest/gtest.h>

namespace livery::whitelabel {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : IpAddress{};
}

CidrSet cidrs(const std::vector<std::string>& entries) {
  auto s = CidrSet::parse(entries);
  EXPECT_TRUE(s);
  return s ? std::move(*s) : CidrSet{};
}

std::string clientOf(const CidrSet& trusted, std::string_view peer, std::string_view xff) {
  auto o =
      resolveClientOrigin({.peer_ip = peer, .host = "h.example", .x_forwarded_for = xff}, trusted);
  return o ? o->client_ip : std::string("<error>");
}

TEST(TrustedProxiesTest, ParsesStrictAddressForms) {
  EXPECT_EQ(ip("10.0.0.1").toString(), "10.0.0.1");
  EXPECT_TRUE(ip("10.0.0.1").isV4());
  EXPECT_EQ(ip("2001:DB8::1").toString(), "2001:db8::1");
  EXPECT_EQ(ip("::ffff:192.0.2.1").toString(), "192.0.2.1");  // mapped: stored as IPv4
  EXPECT_TRUE(ip("::ffff:192.0.2.1").isV4());
  EXPECT_EQ(ip("fe80::1%eth0").toString(), "fe80::1");
  for (std::string_view bad : {"",
                               "10.0.0",
                               "10.0.0.256",
                               "010.0.0.1",
                               "0x0a.0.0.1",
                               "10.0.0.1/8",
                               "[::1]",
                               "::g",
                               "1.2.3.4 ",
                               "localhost"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(TrustedProxiesTest, CidrMatchingAtTheBoundaries) {
  CidrSet s =
      cidrs({"10.0.0.0/8", "192.168.1.128/25", "203.0.113.9", "fd00::/8", "2001:db8:1::/48"});
  EXPECT_EQ(s.size(), 5U);
  EXPECT_TRUE(s.contains(ip("10.0.0.0")));
  EXPECT_TRUE(s.contains(ip("10.255.255.255")));
  EXPECT_FALSE(s.contains(ip("11.0.0.0")));
  EXPECT_FALSE(s.contains(ip("9.255.255.255")));
  EXPECT_TRUE(s.contains(ip("192.168.1.128")));
  EXPECT_TRUE(s.contains(ip("192.168.1.255")));
  EXPECT_FALSE(s.contains(ip("192.168.1.127")));
  EXPECT_TRUE(s.contains(ip("203.0.113.9")));
  EXPECT_FALSE(s.contains(ip("203.0.113.8")));
  EXPECT_TRUE(s.contains(ip("fdff:ffff::1")));
  EXPECT_FALSE(s.contains(ip("fe00::1")));
  EXPECT_TRUE(s.contains(ip("2001:db8:1:ffff::1")));
  EXPECT_FALSE(s.contains(ip("2001:db8:2::1")));
  // IPv4 peers reported by a dual-stack socket match IPv4 ranges, never IPv6 ones.
  EXPECT_TRUE(s.contains(ip("::ffff:10.1.1.1")));
  EXPECT_FALSE(cidrs({"::/0"}).contains(ip("10.1.1.1")));
  EXPECT_TRUE(cidrs({"0.0.0.0/0"}).contains(ip("8.8.8.8")));
  EXPECT_TRUE(cidrs({"::ffff:10.0.0.0/104"}).contains(ip("10.9.9.9")));
  EXPECT_TRUE(cidrs({"10.1.2.3/8"}).contains(ip("10.200.0.1")));  // host bits masked
}

TEST(TrustedProxiesTest, RejectsBadCidrsWithoutEchoingThem) {
  for (std::string bad : {"10.0.0.0/33",
                          "fd00::/129",
                          "10.0.0.0/",
                          "10.0.0.0/-1",
                          "10.0.0.0/8x",
                          "sk-canary/8",
                          "",
                          "::ffff:10.0.0.0/95"}) {
    auto s = CidrSet::parse({"127.0.0.1", bad});
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kUnprocessable);
    EXPECT_NE(s.error().client_message.find("[1]"), std::string::npos);
    EXPECT_EQ(s.error().client_message.find("canary"), std::string::npos);
  }
  EXPECT_TRUE(CidrSet::parse({}));
}

TEST(TrustedProxiesTest, UntrustedPeerIgnoresForwardedHeaders) {
  CidrSet trusted = cidrs({"10.0.0.0/8"});
  EXPECT_EQ(clientOf(trusted, "203.0.113.5", "1.1.1.1"), "203.0.113.5");
  auto o = resolveClientOrigin(
      {.peer_ip = "203.0.113.5", .host = "a.example", .x_forwarded_host = "b.example"}, trusted);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->raw_host, "a.example");
  EXPECT_FALSE(o->via_trusted_proxy);
  // With no trusted proxies configured nothing is ever believed.
  EXPECT_EQ(clientOf(CidrSet{}, "10.0.0.1", "1.1.1.1"), "10.0.0.1");
}

TEST(TrustedProxiesTest, ClientIsTheRightMostUntrustedHop) {
  CidrSet trusted = cidrs({"10.0.0.0/8"});
  // The client wrote "6.6.6.6" itself; the first proxy appended the real peer 198.51.100.2.
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "6.6.6.6, 198.51.100.2"), "198.51.100.2");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "6.6.6.6, 198.51.100.2, 10.0.0.7"), "198.51.100.2");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "198.51.100.2,10.0.0.9,10.0.0.7"), "198.51.100.2");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", ""), "10.0.0.1");
  // Every hop trusted: the left-most is the best we know.
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
}

TEST(TrustedProxiesTest, MalformedHopsStopTheWalk) {
  CidrSet trusted = cidrs({"10.0.0.0/8"});
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "6.6.6.6, garbage, 10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "unknown"), "10.0.0.1");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "6.6.6.6,,10.0.0.7"), "10.0.0.7");
}

TEST(TrustedProxiesTest, HopsMayCarryPortsAndIpv6) {
  CidrSet trusted = cidrs({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(clientOf(trusted, "fd00::1", "[2001:db8::5]:443, fd00::2"), "2001:db8::5");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "198.51.100.2:5555"), "198.51.100.2");
  EXPECT_EQ(clientOf(trusted, "::ffff:10.0.0.1", "2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", "\"[2001:db8::8]:1\""), "2001:db8::8");
}

TEST(TrustedProxiesTest, UsesTheRightMostForwardedHost) {
  CidrSet trusted = cidrs({"10.0.0.0/8"});
  auto o = resolveClientOrigin(
      {.peer_ip = "10.0.0.1", .host = "lb", .x_forwarded_host = "spoofed.example, real.example"},
      trusted);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->raw_host, "real.example");
  EXPECT_TRUE(o->via_trusted_proxy);
}

TEST(TrustedProxiesTest, WalkIsBounded) {
  CidrSet trusted = cidrs({"10.0.0.0/8"});
  std::string xff = "6.6.6.6";
  for (int i = 0; i < 1000; ++i) {
    xff += ", 10.0.0.2";
  }
  // Only kMaxForwardedHops hops are examined: the walk stops inside the trusted run.
  EXPECT_EQ(clientOf(trusted, "10.0.0.1", xff), "10.0.0.2");
}

TEST(TrustedProxiesTest, UnparsablePeerIsAnInternalError) {
  auto o = resolveClientOrigin({.peer_ip = "not-an-ip", .host = "h"}, cidrs({"10.0.0.0/8"}));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace livery::whitelabel
