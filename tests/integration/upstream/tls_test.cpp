// The upstream client over TLS against the fake provider with a CA generated at test time:
// a valid certificate connects (with SNI and keep-alive), a wrong host name or an untrusted CA
// is refused, and a server that never completes the handshake hits the connect deadline.
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "core/secret.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_upstream.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"
#include "upstream/http_client.hpp"
#include "upstream/resolver.hpp"

namespace livery::upstream {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

template <class T>
T drive(net::io_context& io, net::awaitable<T> aw) {
  auto fut = net::co_spawn(io, std::move(aw), net::use_future);
  auto deadline = Clock::now() + 20s;
  while (fut.wait_for(0s) != std::future_status::ready) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("coroutine did not finish in time");
    }
    if (io.stopped()) {
      io.restart();
    }
    io.run_one_for(10ms);
  }
  return fut.get();
}

net::awaitable<Result<std::pair<int, std::string>>> get(Client& client, std::string url) {
  Request r;
  r.method = "GET";
  r.url = std::move(url);
  auto res = co_await client.send(std::move(r));
  if (!res) {
    co_return res.error();
  }
  auto body = co_await (*res)->readAll();
  if (!body) {
    co_return body.error();
  }
  co_return std::pair{(*res)->status(), std::move(*body)};
}

class UpstreamTlsTest : public ::testing::Test {
 protected:
  static testing::FakeUpstreamOptions serverOptions(const testing::TestPki& pki) {
    testing::FakeUpstreamOptions o;
    o.tls = testing::TlsIdentity{pki.serverChainPem(), pki.server_key_pem};
    o.openai_keys.clear();  // these tests are about the transport
    return o;
  }

  void SetUp() override {
    testing::writeFile(dir_.file("ca.pem"), pki_.ca_cert_pem);
    cfg_.ca_file = dir_.file("ca.pem");
    cfg_.allow_private_hosts = {"127.0.0.1", "upstream.test", "wrong.test", "localhost"};
    cfg_.connect_timeout = 2s;
    for (const char* name : {"upstream.test", "wrong.test", "localhost"}) {
      resolver_.set(name, {net::ip::make_address("127.0.0.1")});
    }
  }

  std::unique_ptr<HttpClient> makeClient() {
    auto c = HttpClient::create(io_.get_executor(), cfg_, resolver_, metrics_, clock_);
    if (!c) {
      ADD_FAILURE() << c.error().client_message;
      return nullptr;
    }
    return std::move(*c);
  }

  std::string url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(fake_.port()) + "/v1/models";
  }

  net::io_context io_;
  testing::FakeClock clock_;
  MetricsRegistry metrics_;
  StaticResolver resolver_;
  config::UpstreamConfig cfg_;
  testing::TempDir dir_;
  testing::TestPki pki_ = testing::makeTestPki({"localhost", "upstream.test"}, {"127.0.0.1"});
  testing::FakeUpstream fake_{serverOptions(pki_)};
};

TEST_F(UpstreamTlsTest, ConnectsWhenTheCertificateChainsToTheCaAndNamesTheHost) {
  auto client = makeClient();
  for (int i = 0; i < 2; ++i) {
    auto r = drive(io_, get(*client, url("upstream.test")));
    ASSERT_TRUE(r) << r.error().client_message;
    EXPECT_EQ(r->first, 200);
    EXPECT_NE(r->second.find("gpt-4o"), std::string::npos);
  }
  auto recorded = fake_.requests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].sni, "upstream.test");  // SNI is always sent for host names
  EXPECT_EQ(recorded[0].connection_id, recorded[1].connection_id);  // keep-alive over TLS
}

TEST_F(UpstreamTlsTest, VerifiesAnIpLiteralAgainstTheCertificatesIpAddresses) {
  auto client = makeClient();
  auto r = drive(io_, get(*client, url("127.0.0.1")));
  ASSERT_TRUE(r) << r.error().client_message;
  EXPECT_EQ(r->first, 200);
  EXPECT_EQ(fake_.requests().at(0).sni, "");  // RFC 6066: no SNI for IP literals
}

TEST_F(UpstreamTlsTest, RefusesACertificateForAnotherHostName) {
  auto client = makeClient();
  auto r = drive(io_, get(*client, url("wrong.test")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_EQ(r.error().client_message, "upstream TLS handshake failed: hostname mismatch");
  EXPECT_EQ(fake_.requestCount(), 0u);
  EXPECT_EQ(
      metrics_.counter("livery_upstream_connect_failures_total", "", {{"reason", "tls"}}).value(),
      1u);
}

TEST_F(UpstreamTlsTest, RefusesACertificateFromAnUntrustedCa) {
  auto other = testing::makeTestPki({"localhost"}, {"127.0.0.1"});
  testing::writeFile(dir_.file("other-ca.pem"), other.ca_cert_pem);
  cfg_.ca_file = dir_.file("other-ca.pem");
  auto client = makeClient();
  auto r = drive(io_, get(*client, url("upstream.test")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnavailable);
  // The fake presents its chain up to its own (untrusted) root.
  EXPECT_EQ(r.error().client_message,
            "upstream TLS handshake failed: self-signed certificate in certificate chain");
  EXPECT_EQ(fake_.requestCount(), 0u);
}

TEST_F(UpstreamTlsTest, RefusesTheTestCaWhenOnlyTheSystemStoreIsTrusted) {
  cfg_.ca_file.clear();
  auto client = makeClient();
  auto r = drive(io_, get(*client, url("upstream.test")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_NE(r.error().client_message.find("TLS handshake failed"), std::string::npos);
}

TEST_F(UpstreamTlsTest, FailsToStartWhenTheCaFileCannotBeRead) {
  cfg_.ca_file = dir_.file("missing.pem");
  auto c = HttpClient::create(io_.get_executor(), cfg_, resolver_, metrics_, clock_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInternal);
}

TEST_F(UpstreamTlsTest, ConnectTimeoutCoversAHandshakeThatNeverCompletes) {
  // The kernel completes the TCP handshake for a listening socket nobody accepts from, so the
  // TLS ClientHello goes unanswered.
  net::io_context other;
  net::ip::tcp::acceptor silent(other, {net::ip::make_address("127.0.0.1"), 0});
  cfg_.connect_timeout = 300ms;
  auto client = makeClient();
  auto started = Clock::now();
  auto r = drive(
      io_, get(*client, "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port())));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(r.error().client_message, "upstream connect_timeout (300 ms) exceeded");
  EXPECT_LT(Clock::now() - started, 2s);
}

}  // namespace
}  // namespace livery::upstream
