// The HTTP server against real sockets on port 0: limits, timeouts, keep-alive, streaming,
// client-close cancellation and graceful shutdown.
#include "http/server.hpp"

#include <atomic>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/io_threads.hpp"
#include "http/router.hpp"
#include "support/http_client.hpp"

namespace livery::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::TestHttpClient;

net::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.max_body_bytes = 1024;
    cfg_.read_timeout = 1s;
    cfg_.idle_timeout = 5s;
    cfg_.write_timeout = 2s;
    router_.add(Method::kGet, "/fast", [](Exchange&) -> net::awaitable<Response> {
      co_return Response::json(200, R"({"fast":true})");
    });
    router_.add(Method::kPost, "/echo", [](Exchange& ex) -> net::awaitable<Response> {
      // Moves the body out, as the chat pipeline does; the access log must still count it.
      co_return Response::text(200, std::move(ex.request.body));
    });
    router_.add(Method::kGet, "/slow", [](Exchange&) -> net::awaitable<Response> {
      co_await sleepFor(400ms);
      co_return Response::json(200, R"({"slow":true})");
    });
    router_.add(Method::kGet, "/stream", [](Exchange& ex) -> net::awaitable<Response> {
      Headers h;
      h.add("Content-Type", "text/event-stream");
      if (!co_await ex.stream.begin(200, std::move(h))) {
        co_return Response{};
      }
      for (int i = 0; i < 3; ++i) {
        auto line = "data: " + std::to_string(i) + "\n\n";
        if (!co_await ex.stream.write(line)) {
          co_return Response{};
        }
      }
      co_await ex.stream.write("data: [DONE]\n\n");
      co_await ex.stream.end();
      co_return Response{};
    });
    router_.add(Method::kGet,
                "/watched",
                [this](Exchange&) -> net::awaitable<Response> {
                  watched_started_ = true;
                  net::steady_timer t(co_await net::this_coro::executor, 10s);
                  auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
                  if (ec == net::error::operation_aborted) {
                    watched_cancelled_ = true;
                  }
                  co_return Response::json(200, "{}");
                },
                {.name = "watched", .watch_client_close = true});
    router_.add(Method::kGet,
                "/watched-quick",
                [](Exchange&) -> net::awaitable<Response> {
                  net::steady_timer t(co_await net::this_coro::executor, 20ms);
                  co_await t.async_wait(net::as_tuple(net::use_awaitable));
                  co_return Response::json(200, "{\"quick\":true}");
                },
                {.name = "watched-quick", .watch_client_close = true});
    router_.add(Method::kGet, "/throws", [](Exchange&) -> net::awaitable<Response> {
      throw std::runtime_error("boom");
      co_return Response{};
    });
    io_ = std::make_unique<IoThreads>(2);
    log_ = std::make_unique<Logger>(sink_, LogLevel::kInfo, clock_);
    server_ = std::make_unique<Server>(io_->contexts(), cfg_, router_, *log_, metrics_, clock_);
    port_ = server_->listen("127.0.0.1", 0);
    server_->start();
    io_->start();
  }

  void TearDown() override {
    server_->shutdown();
    server_->closeAll();
    io_->release();
    io_->join();
  }

  config::HttpConfig cfg_;
  Router router_;
  SystemClock clock_;
  std::shared_ptr<MemoryLogSink> sink_ = std::make_shared<MemoryLogSink>();
  std::unique_ptr<Logger> log_;
  MetricsRegistry metrics_;
  std::unique_ptr<IoThreads> io_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> watched_started_{false};
  std::atomic<bool> watched_cancelled_{false};
};

TEST_F(ServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(c.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  for (int i = 0;
       i < 50 && got.find("HTTP/1.1 200", got.find("HTTP/1.1 200") + 1) == std::string::npos;
       ++i) {
    got += c.readUntil("}", 100ms);
  }
  std::size_t first = got.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(got.find("HTTP/1.1 200", first + 1), std::string::npos);
  EXPECT_NE(got.find("x-request-id: req_"), std::string::npos);
}

TEST_F(ServerTest, AnswersUnknownRoutesAndMethodsInTheOpenAiShape) {
  TestHttpClient client("127.0.0.1", port_);
  auto r = client.get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find(R"("error":{"message")"), std::string::npos);
  auto m = client.request("DELETE", "/fast");
  EXPECT_EQ(m.status, 405);
}

TEST_F(ServerTest, RejectsADeclaredOversizedBodyWith413BeforeReadingIt) {
  RawConnection c("127.0.0.1", port_);
  // Declares 100 MB but sends none of it: the answer must come without waiting for the body.
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
  auto started = std::chrono::steady_clock::now();
  auto got = c.readUntilClose(3s);
  EXPECT_EQ(testing::statusOf(got), 413);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms);  // well before the read timeout
  EXPECT_NE(got.find("exceeds the limit"), std::string::npos);
}

TEST_F(ServerTest, RejectsAnOversizedChunkedBodyWith413) {
  RawConnection c("127.0.0.1", port_);
  std::string chunk(2000, 'a');
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                     chunk + "\r\n0\r\n\r\n"));
  EXPECT_EQ(testing::statusOf(c.readUntilClose(3s)), 413);
}

TEST_F(ServerTest, AcceptsABodyWithinTheLimit) {
  TestHttpClient client("127.0.0.1", port_);
  auto r = client.post("/echo", std::string(1024, 'b'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1024u);
}

TEST_F(ServerTest, Rejects20KiBOfHeadersWith431) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(c.send("GET /fast HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'h') +
                     "\r\n\r\n"));
  auto got = c.readUntilClose(3s);
  EXPECT_EQ(testing::statusOf(got), 431);
}

TEST_F(ServerTest, CutsOffASlowClientWhileServingOthers) {
  RawConnection slow("127.0.0.1", port_);
  std::string request =
      "GET /fast HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(60, 'p') + "\r\n\r\n";
  std::atomic<bool> cut{false};
  std::thread trickler([&] {
    for (char ch : request) {
      if (!slow.send(std::string_view(&ch, 1))) {
        cut = true;
        return;
      }
      std::this_thread::sleep_for(100ms);  // 10 bytes/s: never completes within the 1 s timeout
      if (cut) {
        return;
      }
    }
  });
  // Meanwhile another client is served normally and promptly.
  TestHttpClient other("127.0.0.1", port_);
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(other.get("/fast").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    std::this_thread::sleep_for(100ms);
  }
  auto got = slow.readUntilClose(3s);
  cut = true;
  trickler.join();
  EXPECT_EQ(testing::statusOf(got), 408);
}

TEST_F(ServerTest, RejectsAmbiguousFraming) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"));
  EXPECT_EQ(testing::statusOf(c.readUntilClose(2s)), 400);
}

TEST_F(ServerTest, RejectsMalformedRequestsWith400) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  EXPECT_EQ(testing::statusOf(c.readUntilClose(2s)), 400);
}

TEST_F(ServerTest, HonoursExpect100Continue) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(c.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.readUntil("\r\n\r\n", 2s);
  EXPECT_EQ(testing::statusOf(interim), 100);
  ASSERT_TRUE(c.send("hello"));
  auto got = c.readUntil("hello", 2s);
  EXPECT_NE(got.find("200 OK"), std::string::npos);
}

TEST_F(ServerTest, StreamsChunkedResponses) {
  TestHttpClient client("127.0.0.1", port_);
  std::vector<std::string> pieces;
  auto r = client.stream("GET", "/stream", {}, {}, [&](std::string_view d) {
    pieces.emplace_back(d);
    return true;
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("transfer-encoding"), "chunked");
  EXPECT_EQ(r.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n");
  // The connection is reusable after a streamed response.
  EXPECT_EQ(client.get("/fast").status, 200);
}

TEST_F(ServerTest, CancelsTheHandlerWhenTheClientGoesAway) {
  {
    RawConnection c("127.0.0.1", port_);
    ASSERT_TRUE(c.send("GET /watched HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (int i = 0; i < 200 && !watched_started_; ++i) {
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(watched_started_);
  }  // client closes here
  for (int i = 0; i < 200 && !watched_cancelled_; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(watched_cancelled_);
}

// The watch is armed per request on one connection: bytes of a pipelined request arriving while a
// watched handler runs are not a disconnect, and the next requests are served normally.
TEST_F(ServerTest, PipelinedRequestsDuringAWatchedHandlerAreNotADisconnect) {
  RawConnection c("127.0.0.1", port_);
  ASSERT_TRUE(
      c.send("GET /watched-quick HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /watched-quick HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = c.readUntil("\"fast\"", 5s);
  std::size_t oks = 0;
  for (auto pos = got.find("HTTP/1.1 200"); pos != std::string::npos;
       pos = got.find("HTTP/1.1 200", pos + 1)) {
    ++oks;
  }
  EXPECT_EQ(oks, 3u) << got;
  EXPECT_NE(got.find("\"quick\":true"), got.rfind("\"quick\":true")) << "two watched answers";
}

TEST_F(ServerTest, AnswersAHandlerExceptionWith500AndKeepsServing) {
  TestHttpClient client("127.0.0.1", port_);
  EXPECT_EQ(client.get("/throws").status, 500);
  EXPECT_EQ(client.get("/fast").status, 200);
  EXPECT_NE(sink_->joined().find("handler_exception"), std::string::npos);
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinishAndClosesIdleConnections) {
  RawConnection idle("127.0.0.1", port_);
  ASSERT_TRUE(idle.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(idle.readUntil("}", 2s).find("200 OK"), std::string::npos);

  RawConnection busy("127.0.0.1", port_);
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Wait until the slow request is being handled (and the idle one is back to idle).
  for (int i = 0; i < 500 && !(server_->openConnections() == 2 && server_->inFlightRequests() == 1);
       ++i) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(server_->inFlightRequests(), 1u);
  server_->shutdown();
  EXPECT_TRUE(idle.closedWithin(2s));
  auto got = busy.readUntilClose(3s);
  EXPECT_EQ(testing::statusOf(got), 200);
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
  EXPECT_NE(got.find(R"({"slow":true})"), std::string::npos);
  EXPECT_EQ(server_->inFlightRequests(), 0u);
}

TEST_F(ServerTest, WritesOneAccessLogLinePerRequestAndCountsMetrics) {
  TestHttpClient client("127.0.0.1", port_);
  ASSERT_EQ(client.get("/fast", {{"x-request-id", "client-abc"}}).status, 200);
  ASSERT_EQ(client.post("/echo", std::string(777, 'e')).status, 200);
  client.close();
  for (int i = 0; i < 100 && sink_->joined().find(R"("bytes_in":777)") == std::string::npos; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  auto logs = sink_->joined();
  EXPECT_NE(logs.find(R"("event":"request")"), std::string::npos);
  EXPECT_NE(logs.find(R"("client_request_id":"client-abc")"), std::string::npos);
  EXPECT_NE(logs.find(R"("route":"/fast","path":"/fast","status":200)"), std::string::npos);
  EXPECT_NE(logs.find(R"("bytes_in":777,)"), std::string::npos) << logs;
  auto text = metrics_.render();
  EXPECT_NE(text.find(R"(livery_http_requests_total{route="/fast",status="200"})"),
            std::string::npos);
  EXPECT_NE(text.find("livery_http_request_duration_seconds_bucket"), std::string::npos);
}

}  // namespace
}  // namespace livery::http
