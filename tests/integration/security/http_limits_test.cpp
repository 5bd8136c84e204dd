// Issue 2's HTTP edge cases on the real `livery serve` binary and its real data-plane route
// (tests/integration/http/server_test.cpp covers the same server class in-process on a test
// route; this checks the limits survive the composition root and its configuration): 20 KiB of
// headers get 431, a client sending one byte per second is cut off after the read timeout while
// another is served, a body over the configured maximum gets 413 before it is sent, keep-alive
// serves several requests on one connection, and SIGTERM lets in-flight chat requests (JSON and
// a stream) finish before the process exits 0.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>

#include "integration/soak/live_gateway.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::FakeBehaviour;
using testing::FakeUpstream;
using testing::RawConnection;
using testing::statusOf;

constexpr auto kReadTimeout = 3s;
constexpr std::string_view kChat = "/v1/chat/completions";

std::string chatBody(bool stream) {
  return std::string(R"({"model":"chat","stream":)") + (stream ? "true" : "false") +
         R"(,"messages":[{"role":"user","content":"hello"}]})";
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  HttpLimitsTest()
      : gw(dir.file("data"),
           {"upstream.allow_http_hosts=127.0.0.1",
            "upstream.allow_private_hosts=127.0.0.1",
            "http.read_timeout=3s",
            "http.max_body_bytes=65536",
            "http.drain_timeout=20s"}) {
    auto tenant = gw.createTenant("edges");
    auto cred = gw.addCredential(
        tenant.id, "openai", "sk-fake-openai-key", "main", upstream.baseUrl() + "/v1");
    gw.setRoute(tenant.id, "chat", {testing::deployment("main", cred, "gpt-4o", 0)});
    key = gw.issueKey(tenant.id);
    gw.start(2);
  }

  std::string rawChat(const std::string& body, const std::string& extra = "") const {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + extra + "\r\n" + body;
  }

  testing::HeaderList auth() const {
    return {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
  }

  testing::TempDir dir;
  FakeUpstream upstream;
  testing::LiveGateway gw;
  std::string key;
};

TEST_F(HttpLimitsTest, TwentyKiBOfHeadersGet431) {
  RawConnection c("127.0.0.1", gw.port());
  ASSERT_TRUE(c.send(rawChat(chatBody(false), "X-Big: " + std::string(20 * 1024, 'h') + "\r\n")));
  auto got = c.readUntilClose(5s);
  EXPECT_EQ(statusOf(got), 431) << got;
  EXPECT_NE(got.find(R"("error":{)"), std::string::npos) << got;
  EXPECT_EQ(upstream.requestCount(kChat), 0u);
}

TEST_F(HttpLimitsTest, ABodyOverTheMaximumGets413BeforeItIsSent) {
  RawConnection c("127.0.0.1", gw.port());
  // Only the head: the declared length is over the 64 KiB maximum and no body byte follows.
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     key + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(10 * 1024 * 1024) + "\r\n\r\n"));
  auto got = c.readUntil("}}", 5s);
  EXPECT_EQ(statusOf(got), 413) << got;
  // And a chunked body that grows over the maximum is refused too.
  RawConnection chunked("127.0.0.1", gw.port());
  ASSERT_TRUE(
      chunked.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
                   "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string piece(16 * 1024, 'a');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  for (int i = 0; i < 6; ++i) {
    if (!chunked.send(std::string(size_line) + piece + "\r\n")) {
      break;
    }
  }
  EXPECT_EQ(statusOf(chunked.readUntilClose(5s)), 413);
  EXPECT_EQ(upstream.requestCount(kChat), 0u);
}

TEST_F(HttpLimitsTest, AClientSendingOneBytePerSecondIsCutOffWhileOthersAreServed) {
  RawConnection slow("127.0.0.1", gw.port());
  const std::string request = rawChat(chatBody(false));
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::thread trickler([&] {
    for (char ch : request) {
      if (stop || !slow.send(std::string_view(&ch, 1))) {
        return;
      }
      sent.fetch_add(1);
      for (int i = 0; i < 10 && !stop; ++i) {
        std::this_thread::sleep_for(100ms);  // one byte per second
      }
    }
  });
  // Meanwhile another client's chat requests are answered promptly.
  testing::TestHttpClient other("127.0.0.1", gw.port());
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = other.request("POST", kChat, chatBody(false), auth(), 10s);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    std::this_thread::sleep_for(250ms);
  }
  auto got = slow.readUntilClose(kReadTimeout + 5s);
  const auto cut_after = std::chrono::steady_clock::now() - t0;
  stop = true;
  trickler.join();
  EXPECT_EQ(statusOf(got), 408) << got;
  EXPECT_GE(cut_after, kReadTimeout - 200ms);
  EXPECT_LT(cut_after, kReadTimeout + 3s);
  EXPECT_LT(static_cast<std::size_t>(sent.load()), request.size());
  EXPECT_EQ(upstream.requestCount(kChat), 4u);  // the slow request never went upstream
}

TEST_F(HttpLimitsTest, KeepAliveServesPipelinedRequestsOnOneConnection) {
  RawConnection c("127.0.0.1", gw.port());
  ASSERT_TRUE(c.send(rawChat(chatBody(false)) + rawChat(chatBody(false)) +
                     rawChat(chatBody(false), "Connection: close\r\n")));
  auto got = c.readUntilClose(15s);
  std::size_t answers = 0;
  for (auto at = got.find("HTTP/1.1 200"); at != std::string::npos;
       at = got.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 3u) << got;
  // The gateway's own upstream connection is kept alive too.
  auto recorded = upstream.requests();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].connection_id, recorded[2].connection_id);
}

TEST_F(HttpLimitsTest, SigtermLetsInFlightChatRequestsFinishThenExitsZero) {
  upstream.push(std::string(kChat), FakeBehaviour::delayHead(1500ms));
  auto slow_stream = FakeBehaviour::delayEvents(300ms);
  upstream.push(std::string(kChat), slow_stream);
  testing::HttpResult plain;
  testing::HttpResult streamed;
  std::string plain_error;
  std::string streamed_error;
  std::thread a([&] {
    try {
      plain = testing::TestHttpClient("127.0.0.1", gw.port())
                  .request("POST", kChat, chatBody(false), auth(), 20s);
    } catch (const std::exception& e) {
      plain_error = e.what();
    }
  });
  ASSERT_TRUE(upstream.waitForRequests(1, 10s));
  std::thread b([&] {
    try {
      streamed = testing::TestHttpClient("127.0.0.1", gw.port())
                     .stream(
                         "POST",
                         kChat,
                         chatBody(true),
                         auth(),
                         [](std::string_view) { return true; },
                         20s);
    } catch (const std::exception& e) {
      streamed_error = e.what();
    }
  });
  ASSERT_TRUE(upstream.waitForRequests(2, 10s));
  gw.process().signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(gw.process().running()) << "exited while requests were in flight";
  // No new connection is served while draining.
  bool refused = false;
  try {
    auto r = testing::TestHttpClient("127.0.0.1", gw.port()).request("GET", "/healthz", {}, {}, 2s);
    refused = r.status != 200;
  } catch (const std::exception&) {
    refused = true;
  }
  EXPECT_TRUE(refused) << "a new connection was served after SIGTERM";
  a.join();
  b.join();
  EXPECT_EQ(plain_error, "");
  EXPECT_EQ(streamed_error, "");
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_NE(plain.body.find("\"chat.completion\""), std::string::npos) << plain.body;
  EXPECT_EQ(streamed.status, 200) << streamed.body;
  EXPECT_NE(streamed.body.find("data: [DONE]"), std::string::npos) << streamed.body;
  EXPECT_EQ(gw.process().waitExit(20s), 0) << gw.output().substr(0, 3000);
}

}  // namespace
}  // namespace livery
