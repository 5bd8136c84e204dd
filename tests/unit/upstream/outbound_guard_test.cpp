// The outbound (SSRF) guard: URL parsing, address classification for every refused class in
// IPv4 and IPv6 (embedded forms included), allow-lists, and resolution through a resolver.
#include "upstream/outbound_guard.hpp"

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "support/co_test.hpp"
#include "upstream/resolver.hpp"

namespace livery::upstream {
namespace {

using namespace std::chrono_literals;

net::ip::address ip(const char* text) {
  return net::ip::make_address(text);
}

struct ClassCase {
  const char* address;
  AddressClass expected;
};

void expectClasses(const std::vector<ClassCase>& cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(classifyAddress(ip(c.address)), c.expected)
        << c.address << " should be " << describe(c.expected);
  }
}

TEST(OutboundGuardTest, ClassifiesIpv4Ranges) {
  expectClasses({
      {"8.8.8.8", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},
      {"93.184.216.34", AddressClass::kPublic},
      {"172.32.0.1", AddressClass::kPublic},
      {"100.128.0.1", AddressClass::kPublic},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"10.0.0.5", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"192.168.1.1", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kSharedCgnat},
      {"100.127.255.255", AddressClass::kSharedCgnat},
      {"169.254.0.1", AddressClass::kLinkLocal},
      {"169.254.170.2", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kCloudMetadata},
      {"168.63.129.16", AddressClass::kCloudMetadata},
      {"100.100.100.200", AddressClass::kCloudMetadata},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"255.255.255.255", AddressClass::kBroadcast},
      {"240.0.0.1", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"198.18.0.1", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
  });
}

TEST(OutboundGuardTest, ClassifiesIpv6Ranges) {
  expectClasses({
      {"2001:4860:4860::8888", AddressClass::kPublic},
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},
      {"fc00::1", AddressClass::kUniqueLocal},
      {"fd12:3456:789a::1", AddressClass::kUniqueLocal},
      {"fd00:ec2::254", AddressClass::kCloudMetadata},
      {"ff02::1", AddressClass::kMulticast},
      {"ff05::1:3", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"2001::1", AddressClass::kReserved},  // Teredo
      {"100::1", AddressClass::kReserved},   // discard-only
      {"64:ff9b:1::a00:1", AddressClass::kPrivate},
  });
}

TEST(OutboundGuardTest, ClassifiesIpv6FormsThatEmbedIpv4ByTheEmbeddedAddress) {
  expectClasses({
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:10.0.0.5", AddressClass::kPrivate},
      {"::ffff:192.168.0.10", AddressClass::kPrivate},
      {"::ffff:100.64.1.1", AddressClass::kSharedCgnat},
      {"::ffff:169.254.169.254", AddressClass::kCloudMetadata},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::ffff:255.255.255.255", AddressClass::kBroadcast},
      {"::ffff:224.0.0.1", AddressClass::kMulticast},
      {"::ffff:240.0.0.1", AddressClass::kReserved},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::127.0.0.1", AddressClass::kLoopback},  // IPv4-compatible (deprecated)
      {"::10.1.2.3", AddressClass::kPrivate},
      {"::ffff:0:192.168.0.1", AddressClass::kPrivate},  // SIIT IPv4-translated
      {"64:ff9b::127.0.0.1", AddressClass::kLoopback},   // NAT64
      {"64:ff9b::10.0.0.1", AddressClass::kPrivate},
      {"64:ff9b::169.254.169.254", AddressClass::kCloudMetadata},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      {"2002:7f00:1::", AddressClass::kLoopback},  // 6to4 of 127.0.0.1
      {"2002:a9fe:a9fe::1", AddressClass::kCloudMetadata},
      {"2002:0808:0808::1", AddressClass::kPublic},
  });
}

TEST(OutboundGuardTest, OnlyPrivateStyleClassesCanBeAllowListed) {
  EXPECT_TRUE(allowListable(AddressClass::kLoopback));
  EXPECT_TRUE(allowListable(AddressClass::kPrivate));
  EXPECT_TRUE(allowListable(AddressClass::kSharedCgnat));
  EXPECT_TRUE(allowListable(AddressClass::kLinkLocal));
  EXPECT_TRUE(allowListable(AddressClass::kUniqueLocal));
  EXPECT_TRUE(allowListable(AddressClass::kReserved));
  EXPECT_FALSE(allowListable(AddressClass::kCloudMetadata));
  EXPECT_FALSE(allowListable(AddressClass::kUnspecified));
  EXPECT_FALSE(allowListable(AddressClass::kMulticast));
  EXPECT_FALSE(allowListable(AddressClass::kBroadcast));
}

TEST(OutboundGuardTest, ParsesTargetsWithBoostUrl) {
  auto t = parseTarget("https://API.OpenAI.com/v1/chat/completions?x=1&y=2#fragment");
  ASSERT_TRUE(t) << t.error().client_message;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->host, "api.openai.com");
  EXPECT_FALSE(t->host_is_ip);
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->path_and_query, "/v1/chat/completions?x=1&y=2");
  EXPECT_EQ(t->host_header, "api.openai.com");
  EXPECT_EQ(t->pool_key, "https://api.openai.com:443");

  auto local = parseTarget("http://LOCALHOST.:11434");
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->host, "localhost");
  EXPECT_EQ(local->port, 11434);
  EXPECT_EQ(local->path_and_query, "/");
  EXPECT_EQ(local->host_header, "localhost:11434");

  auto v6 = parseTarget("https://[2001:DB8:0::1]:8443/openai/deployments/x");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->host_is_ip);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->host_header, "[2001:db8::1]:8443");
  EXPECT_EQ(v6->pool_key, "https://[2001:db8::1]:8443");
}

TEST(OutboundGuardTest, RefusesMalformedAndAmbiguousUrls) {
  for (const char* url : {"not a url",
                          "ftp://example.com/",
                          "file:///etc/passwd",
                          "https:///v1",
                          "https://user:secret@api.openai.com/v1",
                          "https://@api.openai.com/",
                          "https://%6c%6fcalhost/",
                          "https://api.openai.com:0/",
                          "https://api.openai.com:99999/",
                          "https://bad host/",
                          "https://a..b/",
                          // non-canonical IPv4 literals that resolvers turn into 127.0.0.1
                          "https://2130706433/",
                          "https://0x7f000001/",
                          "https://127.1/",
                          "https://0177.0.0.1/",
                          "https://0x7f.0.0.1/"}) {
    auto t = parseTarget(url);
    EXPECT_FALSE(t) << url;
    if (!t) {
      EXPECT_EQ(t.error().code, ErrorCode::kBadRequest) << url;
    }
  }
  EXPECT_TRUE(parseTarget("https://1password.com/"));
  EXPECT_TRUE(parseTarget("https://123.example/"));
}

class GuardPolicyTest : public ::testing::Test {
 protected:
  OutboundGuard guard() const { return OutboundGuard(cfg_); }
  config::UpstreamConfig cfg_;
};

TEST_F(GuardPolicyTest, RefusesEveryNonPublicIpv4LiteralWithAClearMessage) {
  auto g = guard();
  auto r = g.checkUrl("https://10.0.0.5/v1/chat/completions");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.error().openai_code, "upstream_address_refused");
  EXPECT_EQ(r.error().client_message,
            "upstream address 10.0.0.5 is in a private range; allow it with "
            "upstream.allow_private_hosts");
  for (const char* url : {"https://0.0.0.0/",
                          "https://127.0.0.1/",
                          "https://127.9.9.9:8443/",
                          "https://10.1.2.3/",
                          "https://172.16.5.4/",
                          "https://192.168.0.1/",
                          "https://100.64.0.1/",
                          "https://169.254.10.10/",
                          "https://169.254.169.254/latest/meta-data/",
                          "https://168.63.129.16/",
                          "https://100.100.100.200/",
                          "https://224.0.0.251/",
                          "https://255.255.255.255/",
                          "https://240.1.1.1/",
                          "https://198.18.0.1/"}) {
    auto refused = g.checkUrl(url);
    EXPECT_FALSE(refused) << url;
    if (!refused) {
      EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << url;
    }
  }
  EXPECT_TRUE(g.checkUrl("https://8.8.8.8/v1/models"));
}

TEST_F(GuardPolicyTest, RefusesEveryNonPublicIpv6LiteralIncludingEmbeddedIpv4) {
  auto g = guard();
  for (const char* url : {"https://[::]/",
                          "https://[::1]/",
                          "https://[fe80::1]/",
                          "https://[fc00::1]/",
                          "https://[fd00:ec2::254]/latest/meta-data/",
                          "https://[ff02::1]/",
                          "https://[fec0::1]/",
                          "https://[::ffff:127.0.0.1]/",
                          "https://[::ffff:7f00:1]/",
                          "https://[::127.0.0.1]/",
                          "https://[::ffff:169.254.169.254]/",
                          "https://[::ffff:10.0.0.5]/",
                          "https://[64:ff9b::10.0.0.5]/",
                          "https://[64:ff9b::a9fe:a9fe]/",
                          "https://[2002:c0a8:0101::1]/",
                          "https://[2001:db8::1]/"}) {
    auto refused = g.checkUrl(url);
    EXPECT_FALSE(refused) << url;
    if (!refused) {
      EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << url;
    }
  }
  auto mapped = g.checkUrl("https://[::ffff:127.0.0.1]:8443/");
  ASSERT_FALSE(mapped);
  EXPECT_NE(mapped.error().client_message.find("loopback"), std::string::npos);
  EXPECT_TRUE(g.checkUrl("https://[2606:4700:4700::1111]/"));
  EXPECT_TRUE(g.checkUrl("https://[::ffff:8.8.8.8]/"));
}

TEST_F(GuardPolicyTest, RequiresHttpsUnlessTheHostIsAllowedPlainHttp) {
  auto refused = guard().checkUrl("http://api.example.com/v1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().client_message.find("upstream.allow_http_hosts"), std::string::npos);

  cfg_.allow_http_hosts = {"api.example.com", "ollama.internal:11434"};
  auto g = guard();
  EXPECT_TRUE(g.checkUrl("http://api.example.com/v1"));
  EXPECT_TRUE(g.checkUrl("http://API.example.com:8080/v1"));  // no port in the entry: any port
  EXPECT_TRUE(g.checkUrl("http://ollama.internal:11434/"));
  EXPECT_FALSE(g.checkUrl("http://ollama.internal/"));  // the entry names port 11434 only
  EXPECT_FALSE(g.checkUrl("http://other.example.com/"));
}

TEST_F(GuardPolicyTest, AllowPrivateHostsPermitsOnlyTheListedHostAndPort) {
  cfg_.allow_private_hosts = {"10.0.0.5", "[::1]:11434", "127.0.0.1:8080"};
  auto g = guard();
  EXPECT_TRUE(g.checkUrl("https://10.0.0.5/"));
  EXPECT_FALSE(g.checkUrl("https://10.0.0.6/"));
  EXPECT_TRUE(g.checkUrl("https://[::1]:11434/"));
  EXPECT_FALSE(g.checkUrl("https://[::1]:11435/"));
  EXPECT_TRUE(g.checkUrl("https://127.0.0.1:8080/"));
  EXPECT_FALSE(g.checkUrl("https://127.0.0.1:8081/"));
}

TEST_F(GuardPolicyTest, NeverAllowsMetadataUnspecifiedOrMulticastEvenWhenListed) {
  cfg_.allow_private_hosts = {"169.254.169.254", "0.0.0.0", "224.0.0.1", "fd00:ec2::254"};
  auto g = guard();
  for (const char* url : {"https://169.254.169.254/",
                          "https://0.0.0.0/",
                          "https://224.0.0.1/",
                          "https://[fd00:ec2::254]/"}) {
    auto r = g.checkUrl(url);
    ASSERT_FALSE(r) << url;
    EXPECT_NE(r.error().client_message.find("never allowed"), std::string::npos) << url;
  }
}

TEST_F(GuardPolicyTest, RefusesCloudMetadataHostNamesWithoutResolvingThem) {
  auto g = guard();
  for (const char* url : {"https://metadata.google.internal/computeMetadata/v1/",
                          "https://METADATA.GOOGLE.INTERNAL./",
                          "https://metadata/",
                          "https://instance-data/latest/"}) {
    auto r = g.checkUrl(url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << url;
  }
}

TEST_F(GuardPolicyTest, ChecksEveryResolvedAddressAndNamesTheHostInTheMessage) {
  StaticResolver resolver;
  resolver.set("evil.test", {ip("127.0.0.1")});
  resolver.set("mixed.test", {ip("93.184.216.34"), ip("10.0.0.1")});
  resolver.set("good.test", {ip("93.184.216.34"), ip("2606:4700:4700::1111")});
  resolver.set("mapped.test", {ip("::ffff:169.254.169.254")});
  auto g = guard();

  auto evil = testing::runAwaitable(g.check("https://evil.test/v1", resolver, 1s));
  ASSERT_FALSE(evil);
  EXPECT_EQ(evil.error().client_message,
            "upstream host evil.test resolves to 127.0.0.1, which is a loopback address; allow "
            "it with upstream.allow_private_hosts");

  auto mixed = testing::runAwaitable(g.check("https://mixed.test/", resolver, 1s));
  ASSERT_FALSE(mixed);  // one refused address refuses the host
  EXPECT_NE(mixed.error().client_message.find("10.0.0.1"), std::string::npos);

  auto mapped = testing::runAwaitable(g.check("https://mapped.test/", resolver, 1s));
  ASSERT_FALSE(mapped);
  EXPECT_NE(mapped.error().client_message.find("cloud metadata"), std::string::npos);

  auto good = testing::runAwaitable(g.check("https://good.test/v1", resolver, 1s));
  ASSERT_TRUE(good) << good.error().client_message;
  EXPECT_EQ(good->host, "good.test");

  auto unknown = testing::runAwaitable(g.check("https://unknown.test/", resolver, 1s));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUpstreamUnavailable);
}

TEST_F(GuardPolicyTest, ReResolvesAtEveryCheckSoARebindIsCaught) {
  StaticResolver resolver;
  resolver.push("rebind.test", {ip("93.184.216.34")});
  resolver.push("rebind.test", {ip("127.0.0.1")});
  auto g = guard();
  auto saved = testing::runAwaitable(g.check("https://rebind.test/", resolver, 1s));
  ASSERT_TRUE(saved);
  auto at_connect = testing::runAwaitable(g.resolveChecked(*saved, resolver, 1s));
  ASSERT_FALSE(at_connect);
  EXPECT_EQ(at_connect.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(resolver.lookups("rebind.test"), 2u);
}

TEST_F(GuardPolicyTest, SystemResolverResolvesLocalhostToARefusedLoopbackAddress) {
  auto resolver = makeSystemResolver();
  auto r = testing::runAwaitable(guard().check("https://localhost/", *resolver, 2s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().client_message.find("loopback"), std::string::npos);
}

}  // namespace
}  // namespace livery::upstream
