#include "whitelabel/host.hpp"

#include <gtest/gtest.h>

#include "unit/whitelabel/fixtures.hpp"

namespace livery::whitelabel {
namespace {

std::string norm(std::string_view raw) {
  auto h = normalizeHost(raw);
  return h ? *h : std::string("<error>");
}

TEST(HostTest, NormalisesCasePortAndTrailingDot) {
  EXPECT_EQ(norm("Example.COM"), "example.com");
  EXPECT_EQ(norm("example.com:8080"), "example.com");
  EXPECT_EQ(norm("example.com."), "example.com");
  EXPECT_EQ(norm("ACME.Livery.Example.:443"), "acme.livery.example");
  EXPECT_EQ(norm("localhost"), "localhost");
  EXPECT_EQ(norm("xn--bcher-kva.example"), "xn--bcher-kva.example");  // punycode as is
  EXPECT_EQ(norm("127.0.0.1:8080"), "127.0.0.1");
  EXPECT_EQ(norm("[::1]:8080"), "[::1]");
  EXPECT_EQ(norm("[2001:DB8:0:0::1]"), "[2001:db8::1]");
  EXPECT_EQ(norm("a-b.c-d.e"), "a-b.c-d.e");
}

TEST(HostTest, RejectsInvalidHosts) {
  std::string long_label = std::string(64, 'a') + ".com";
  std::string long_host;
  for (int i = 0; i < 64; ++i) {
    long_host += "abc.";
  }
  long_host += "com";  // 259 bytes
  for (std::string_view bad : {std::string_view(""),
                               std::string_view("exa mple.com"),
                               std::string_view("a_b.com"),
                               std::string_view("b\xC3\xBC"
                                                "cher.de"),
                               std::string_view("evil.com\r\nX-Injected: 1"),
                               std::string_view("user@host.com"),
                               std::string_view("host.com:99999"),
                               std::string_view("host.com:"),
                               std::string_view("host.com:8o"),
                               std::string_view("-a.com"),
                               std::string_view("a-.com"),
                               std::string_view("a..b"),
                               std::string_view(".a.com"),
                               std::string_view("a.com.."),
                               std::string_view(long_label),
                               std::string_view(long_host),
                               std::string_view("1.2.3.999"),
                               std::string_view("0x7f.0.0.1"),
                               std::string_view("127.1"),
                               std::string_view("010.0.0.1"),
                               std::string_view("::1"),
                               std::string_view("[::1"),
                               std::string_view("[fe80::1%eth0]"),
                               std::string_view("[::1]x"),
                               std::string_view("host/path"),
                               std::string_view("host\\x.com"),
                               std::string_view("a.com\0b", 7),
                               std::string_view("."),
                               std::string_view("*.example.com")}) {
    auto h = normalizeHost(bad);
    EXPECT_FALSE(h) << "accepted: " << bad;
    if (!h) {
      EXPECT_EQ(h.error().code, ErrorCode::kBadRequest);
    }
  }
}

TEST(HostTest, ErrorsNeverEchoTheHost) {
  auto h = normalizeHost(std::string(testing::kCanary) + "_.example");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().client_message.find("canary"), std::string::npos);
  EXPECT_EQ(h.error().log_detail.find("canary"), std::string::npos);
}

TEST(HostTest, SlugRules) {
  EXPECT_TRUE(isValidSlug("acme"));
  EXPECT_TRUE(isValidSlug("a1"));
  EXPECT_TRUE(isValidSlug("my-agency-42"));
  EXPECT_TRUE(isValidSlug(std::string(40, 'a')));
  EXPECT_FALSE(isValidSlug("a"));
  EXPECT_FALSE(isValidSlug(std::string(41, 'a')));
  EXPECT_FALSE(isValidSlug("-acme"));
  EXPECT_FALSE(isValidSlug("acme-"));
  EXPECT_FALSE(isValidSlug("xn--acme"));
  EXPECT_FALSE(isValidSlug("Acme"));
  EXPECT_FALSE(isValidSlug("ac_me"));
  EXPECT_TRUE(isReservedSlug("www"));
  EXPECT_TRUE(isReservedSlug("console"));
  EXPECT_TRUE(isReservedSlug("api"));
  EXPECT_FALSE(isReservedSlug("acme"));
}

TEST(HostTest, ClassifiesHostsAgainstTheBaseDomain) {
  const std::string base = "livery.example";
  auto kind = [&](std::string_view host) {
    return classifyHost(host, base).kind;
  };
  HostMatch acme = classifyHost("acme.livery.example", base);
  EXPECT_EQ(acme.kind, HostKind::kTenantSlug);
  EXPECT_EQ(acme.slug, "acme");
  EXPECT_EQ(kind("livery.example"), HostKind::kPlatformApex);
  HostMatch console = classifyHost("console.livery.example", base);
  EXPECT_EQ(console.kind, HostKind::kReserved);
  EXPECT_EQ(console.slug, "console");
  EXPECT_EQ(kind("a.b.livery.example"), HostKind::kUnknown);
  EXPECT_EQ(kind("x.livery.example"), HostKind::kUnknown);
  EXPECT_EQ(kind("xn--acme-xyz.livery.example"), HostKind::kUnknown);
  EXPECT_EQ(kind("evil-livery.example"), HostKind::kCustomDomain);  // not a subdomain
  EXPECT_EQ(kind("livery.example.evil.com"), HostKind::kCustomDomain);
  EXPECT_EQ(kind("app.agency.com"), HostKind::kCustomDomain);
  EXPECT_EQ(kind("10.0.0.1"), HostKind::kIpLiteral);
  EXPECT_EQ(kind("[::1]"), HostKind::kIpLiteral);
  EXPECT_EQ(classifyHost("acme.localhost", "localhost").slug, "acme");
}

TEST(HostTest, ResolverBuildsFromConfigAndRejectsBadConfig) {
  EXPECT_TRUE(HostResolver::create("Livery.Example.", {"10.0.0.0/8", "fd00::/8"}));
  EXPECT_EQ(HostResolver::create("Livery.Example.", {})->baseDomain(), "livery.example");
  auto bad_base = HostResolver::create("not a domain", {});
  ASSERT_FALSE(bad_base);
  EXPECT_EQ(bad_base.error().code, ErrorCode::kUnprocessable);
  auto bad_cidr = HostResolver::create("livery.example", {"10.0.0.0/8", "10.0.0.0/40"});
  ASSERT_FALSE(bad_cidr);
  EXPECT_NE(bad_cidr.error().client_message.find("[1]"), std::string::npos);
}

TEST(HostTest, ForwardedHostIsIgnoredFromAnUntrustedPeer) {
  auto r = HostResolver::create("livery.example", {"10.0.0.0/8"});
  ASSERT_TRUE(r);
  auto o = r->resolve({.peer_ip = "203.0.113.7",
                       .host = "attacker.livery.example",
                       .x_forwarded_host = "victim.livery.example",
                       .x_forwarded_for = "10.0.0.1"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "attacker.livery.example");
  EXPECT_EQ(o->match.slug, "attacker");
  EXPECT_EQ(o->client_ip, "203.0.113.7");
  EXPECT_FALSE(o->via_trusted_proxy);
}

TEST(HostTest, ForwardedHostIsUsedFromATrustedProxy) {
  auto r = HostResolver::create("livery.example", {"10.0.0.0/8"});
  ASSERT_TRUE(r);
  auto o = r->resolve({.peer_ip = "10.1.2.3",
                       .host = "internal-lb:8080",
                       .x_forwarded_host = "App.Agency.com",
                       .x_forwarded_for = "198.51.100.9"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "app.agency.com");
  EXPECT_EQ(o->match.kind, HostKind::kCustomDomain);
  EXPECT_EQ(o->client_ip, "198.51.100.9");
  EXPECT_TRUE(o->via_trusted_proxy);

  auto no_xfh = r->resolve({.peer_ip = "10.1.2.3", .host = "acme.livery.example"});
  ASSERT_TRUE(no_xfh);
  EXPECT_EQ(no_xfh->match.slug, "acme");
  EXPECT_EQ(no_xfh->client_ip, "10.1.2.3");
}

// requestHost() is resolve() without the client address: same host, same refusals, for trusted
// and untrusted peers and with or without proxies configured.
TEST(HostTest, RequestHostAgreesWithResolve) {
  const std::vector<ForwardedInput> inputs = {
      {.peer_ip = "203.0.113.7",
       .host = "attacker.livery.example",
       .x_forwarded_host = "victim.livery.example"},
      {.peer_ip = "10.1.2.3", .host = "internal-lb:8080", .x_forwarded_host = "App.Agency.com"},
      {.peer_ip = "10.1.2.3", .host = "acme.livery.example"},
      {.peer_ip = "10.1.2.3", .host = "a.livery.example", .x_forwarded_host = "x.com, B.Example."},
      {.peer_ip = "203.0.113.7"},
      {.peer_ip = "10.0.0.1", .host = "ok.livery.example", .x_forwarded_host = "evil.com\r\nX: y"},
      {.peer_ip = "not an ip", .host = "ok.livery.example"},
  };
  for (const auto& proxies : {std::vector<std::string>{}, std::vector<std::string>{"10.0.0.0/8"}}) {
    auto r = HostResolver::create("livery.example", proxies);
    ASSERT_TRUE(r);
    for (const auto& in : inputs) {
      auto full = r->resolve(in);
      auto host = r->requestHost(in);
      ASSERT_EQ(static_cast<bool>(full), static_cast<bool>(host))
          << in.host << " / " << in.x_forwarded_host << " proxies " << proxies.size();
      if (full) {
        EXPECT_EQ(*host, full->host);
      } else {
        EXPECT_EQ(host.error().code, full.error().code);
      }
    }
  }
}

TEST(HostTest, InvalidOrMissingHostIsABadRequest) {
  auto r = HostResolver::create("livery.example", {"10.0.0.0/8"});
  ASSERT_TRUE(r);
  auto missing = r->resolve({.peer_ip = "203.0.113.7"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kBadRequest);
  auto bad_xfh = r->resolve(
      {.peer_ip = "10.0.0.1", .host = "ok.livery.example", .x_forwarded_host = "evil.com\r\nX: y"});
  ASSERT_FALSE(bad_xfh);
  EXPECT_EQ(bad_xfh.error().code, ErrorCode::kBadRequest);
}

TEST(HostTest, OperatorHostIsTheConfiguredHostOrThePlatformsOwnAddresses) {
  auto r = HostResolver::create("livery.example", {});
  ASSERT_TRUE(r);
  auto op = [&](std::string_view host, std::string_view configured) {
    auto o = r->resolve({.peer_ip = "203.0.113.7", .host = host});
    return o && isOperatorHost(*o, configured);
  };
  // Nothing configured: the apex, IP literals and localhost.
  EXPECT_TRUE(op("livery.example", ""));
  EXPECT_TRUE(op("LIVERY.example.:8080", ""));
  EXPECT_TRUE(op("127.0.0.1:8080", ""));
  EXPECT_TRUE(op("[::1]", ""));
  EXPECT_TRUE(op("localhost", ""));
  for (std::string_view not_op :
       {"acme.livery.example", "console.livery.example", "a.b.livery.example", "app.agency.com"}) {
    EXPECT_FALSE(op(not_op, "")) << not_op;
  }
  // Configured: exactly that host, nothing else.
  EXPECT_TRUE(op("ops.livery.example", "ops.livery.example"));
  EXPECT_FALSE(op("livery.example", "ops.livery.example"));
  EXPECT_FALSE(op("127.0.0.1", "ops.livery.example"));
  EXPECT_FALSE(op("localhost", "ops.livery.example"));
}

}  // namespace
}  // namespace livery::whitelabel
