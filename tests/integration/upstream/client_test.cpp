// The upstream HTTP client against the fake provider on loopback: keep-alive pooling, each
// deadline, resets, truncation, streaming reads, cancellation, large bodies, redirects, the
// outbound guard at connect time (DNS rebinding) and the credential staying out of everything
// but the request head.
#include <array>
#include <future>
#include <thread>

#include <arpa/inet.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "core/secret.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_upstream.hpp"
#include "upstream/http_client.hpp"
#include "upstream/outbound_guard.hpp"
#include "upstream/resolver.hpp"

namespace livery::upstream {
namespace {

using namespace std::chrono_literals;
using testing::FakeBehaviour;
using testing::FakeUpstream;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "sk-fake-openai-key";

// Runs `aw` on `io` from the test thread until it completes. Unlike io.run() it does not wait for
// unrelated pending work (the client's idle-sweep timer), and it fails after `limit`.
template <class T>
T drive(net::io_context& io, net::awaitable<T> aw, std::chrono::milliseconds limit = 20s) {
  auto fut = net::co_spawn(io, std::move(aw), net::use_future);
  auto deadline = Clock::now() + limit;
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

// ASCII case-insensitive compare (header names).
bool iequalsAscii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

net::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
}

// The response and its fully read body (or the error of either step).
struct Exchange {
  Result<ResponsePtr> response = fail(ErrorCode::kInternal, "not sent");
  Result<std::string> body = fail(ErrorCode::kInternal, "not read");
};

net::awaitable<Exchange> sendAndRead(Client& client, Request request) {
  Exchange ex;
  ex.response = co_await client.send(std::move(request));
  if (ex.response) {
    ex.body = co_await (*ex.response)->readAll();
  }
  co_return ex;
}

// Reads a body piece by piece; returns the pieces and the error that ended it, if any.
struct Pieces {
  std::vector<std::string> pieces;
  std::optional<Error> error;
  std::string joined() const {
    std::string all;
    for (const auto& p : pieces) {
      all += p;
    }
    return all;
  }
};

net::awaitable<Pieces> readPieces(Response& response) {
  Pieces out;
  for (;;) {
    auto piece = co_await response.readSome();
    if (!piece) {
      out.error = piece.error();
      co_return out;
    }
    if (piece->empty()) {
      co_return out;
    }
    out.pieces.emplace_back(*piece);
  }
}

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
int listenOnLoopback(int backlog, std::uint16_t& port, sockaddr_in& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));  // NOLINT
  ::listen(fd, backlog);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);  // NOLINT
  port = ntohs(addr.sin_port);
  return fd;
}

// Accepts one connection, reads the request head and `Content-Length` body, then sends `reply`
// with a single send(): everything the client reads arrives in one segment.
class OneWriteServer {
 public:
  explicit OneWriteServer(std::string reply) : reply_(std::move(reply)) {
    sockaddr_in addr{};
    fd_ = listenOnLoopback(1, port_, addr);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneWriteServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) {
      return;
    }
    std::string got;
    std::array<char, 4096> buf{};
    for (;;) {
      auto head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto cl = got.find("Content-Length: ");
        std::size_t want = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= head_end + 4 + want) {
          break;
        }
      }
      auto n = ::recv(c, buf.data(), buf.size(), 0);
      if (n <= 0) {
        ::close(c);
        return;
      }
      got.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(200ms);  // let the client read before the close
    ::close(c);
  }

  std::string reply_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs.
class BlackholeListener {
 public:
  BlackholeListener() {
    sockaddr_in addr{};
    fd_ = listenOnLoopback(0, port_, addr);
    for (int i = 0; i < 3; ++i) {  // fill the queue
      int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(f, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));  // NOLINT
      fillers_.push_back(f);
    }
    std::this_thread::sleep_for(100ms);
  }
  ~BlackholeListener() {
    for (int f : fillers_) {
      ::close(f);
    }
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

class UpstreamClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.allow_http_hosts = {"127.0.0.1", "pinned.test", "rebind.test"};
    cfg_.allow_private_hosts = {"127.0.0.1", "pinned.test"};
    cfg_.connect_timeout = 2s;
    cfg_.first_byte_timeout = 3s;
    cfg_.idle_timeout = 3s;
    cfg_.total_timeout = 10s;
  }

  std::unique_ptr<HttpClient> makeClient() {
    auto c = HttpClient::create(io_.get_executor(), cfg_, resolver_, metrics_, clock_);
    if (!c) {
      ADD_FAILURE() << c.error().client_message;
      return nullptr;
    }
    return std::move(*c);
  }

  std::string url(const std::string& path) const { return fake_.baseUrl() + path; }

  Request chat(bool stream = false, std::string extra = {}) const {
    Request r;
    r.method = "POST";
    r.url = url("/v1/chat/completions");
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::string(R"({"model":"gpt-4o","messages":[{"role":"user","content":"say hi"}])") +
             (stream ? R"(,"stream":true)" : "") + extra + "}";
    r.auth = AuthInjection{"Authorization", "Bearer ", &key_};
    return r;
  }

  std::uint64_t counter(const char* name, Labels labels = {}) {
    return metrics_.counter(name, "", labels).value();
  }

  template <class T>
  T run(net::awaitable<T> aw, std::chrono::milliseconds limit = 20s) {
    return drive(io_, std::move(aw), limit);
  }

  net::io_context io_;
  testing::FakeClock clock_;
  MetricsRegistry metrics_;
  StaticResolver resolver_;
  config::UpstreamConfig cfg_;
  FakeUpstream fake_;
  SecretBytes key_ = SecretBytes::copyOf(kKey);
};

TEST_F(UpstreamClientTest, SendsARequestAndReadsTheWholeJsonResponse) {
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response) << ex.response.error().client_message;
  EXPECT_EQ((*ex.response)->status(), 200);
  EXPECT_EQ((*ex.response)->header("content-type"), "application/json");
  ASSERT_TRUE(ex.body);
  EXPECT_NE(ex.body->find(R"("object":"chat.completion")"), std::string::npos);
  EXPECT_NE(ex.body->find("Hello from the fake upstream."), std::string::npos);
  EXPECT_TRUE((*ex.response)->complete());
  auto recorded = fake_.requests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].method, "POST");
  EXPECT_EQ(recorded[0].target, "/v1/chat/completions");
  EXPECT_EQ(recorded[0].header("host"), "127.0.0.1:" + std::to_string(fake_.port()));
  EXPECT_EQ(recorded[0].body, chat().body);
}

TEST_F(UpstreamClientTest, WritesTheCredentialOnlyIntoTheRequestHead) {
  const std::string canary = "sk-canary-3f9d2c7a1b5e4d60";
  SecretBytes canary_key = SecretBytes::copyOf(canary);
  auto client = makeClient();
  Request r = chat();
  r.auth.key = &canary_key;
  // A caller-supplied header of the same name must not survive next to the injected one.
  r.headers.push_back({"authorization", "Bearer attacker-chosen"});
  auto ex = run(sendAndRead(*client, r));
  ASSERT_TRUE(ex.response);
  EXPECT_EQ((*ex.response)->status(), 401);  // the fake does not know the canary key
  auto recorded = fake_.requests();
  ASSERT_EQ(recorded.size(), 1u);
  std::size_t auth_headers = 0;
  for (const auto& [name, value] : recorded[0].headers) {
    if (iequalsAscii(name, "authorization")) {
      ++auth_headers;
      EXPECT_EQ(value, "Bearer " + canary);
    }
  }
  EXPECT_EQ(auth_headers, 1u);
  for (const auto& h : r.headers) {
    EXPECT_EQ(h.value.find(canary), std::string::npos);
  }
  // Errors and metrics never carry it, whatever fails.
  Request refused = chat();
  refused.url = "https://169.254.169.254/latest/meta-data/";
  refused.auth.key = &canary_key;
  auto blocked = run(client->send(refused));
  ASSERT_FALSE(blocked);
  Request bad_header = chat();
  bad_header.auth.key = &canary_key;
  bad_header.headers.push_back({"X-Bad", "a\r\nInjected: 1"});
  auto invalid = run(client->send(bad_header));
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::kInternal);
  for (const Error& e : {blocked.error(), invalid.error()}) {
    EXPECT_EQ(e.client_message.find(canary), std::string::npos);
    EXPECT_EQ(e.log_detail.find(canary), std::string::npos);
  }
  EXPECT_EQ(metrics_.render().find(canary), std::string::npos);
  EXPECT_EQ(fake_.requestCount(), 1u);  // the invalid request never reached the wire
}

TEST_F(UpstreamClientTest, ReusesAKeepAliveConnectionOnceTheBodyWasRead) {
  auto client = makeClient();
  for (int i = 0; i < 3; ++i) {
    auto ex = run(sendAndRead(*client, chat()));
    ASSERT_TRUE(ex.response && ex.body);
    EXPECT_EQ(client->idleConnections(), 1u);
  }
  auto recorded = fake_.requests();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].connection_id, recorded[1].connection_id);
  EXPECT_EQ(recorded[1].connection_id, recorded[2].connection_id);
  EXPECT_EQ(fake_.connectionsAccepted(), 1u);
  EXPECT_EQ(counter("livery_upstream_pool_misses_total"), 1u);
  EXPECT_EQ(counter("livery_upstream_pool_hits_total"), 2u);
}

TEST_F(UpstreamClientTest, ClosesAConnectionWhoseResponseWasNotReadToTheEnd) {
  auto client = makeClient();
  {
    auto res = run(client->send(chat()));
    ASSERT_TRUE(res);
    // The head arrived but the body was never read: the connection cannot be reused.
  }
  auto first = fake_.requests().at(0).connection_id;
  EXPECT_TRUE(fake_.waitConnectionClosed(first, 2s));
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response && ex.body);
  EXPECT_NE(fake_.requests().at(1).connection_id, first);
  EXPECT_EQ(fake_.connectionsAccepted(), 2u);
}

TEST_F(UpstreamClientTest, DoesNotPoolAConnectionTheServerAsksToClose) {
  FakeBehaviour close;
  close.close_connection = true;
  fake_.push("/v1/chat/completions", close);
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response && ex.body);
  EXPECT_EQ(client->idleConnections(), 0u);
}

TEST_F(UpstreamClientTest, NeverPoolsAConnectionAfterSwitchingProtocols) {
  FakeBehaviour upgrade = FakeBehaviour::withStatus(101);
  upgrade.body = "";
  fake_.push("/v1/chat/completions", upgrade);
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response);
  EXPECT_EQ((*ex.response)->status(), 101);
  EXPECT_EQ(client->idleConnections(), 0u);
}

TEST_F(UpstreamClientTest, ExpiresIdlePooledConnectionsByTheInjectedClock) {
  auto client = makeClient();
  ASSERT_TRUE(run(sendAndRead(*client, chat())).body);
  auto first = fake_.requests().at(0).connection_id;
  clock_.advance(cfg_.pool_idle_timeout + 1s);
  ASSERT_TRUE(run(sendAndRead(*client, chat())).body);
  EXPECT_NE(fake_.requests().at(1).connection_id, first);
  EXPECT_TRUE(fake_.waitConnectionClosed(first, 2s));
  EXPECT_EQ(counter("livery_upstream_pool_misses_total"), 2u);
}

TEST_F(UpstreamClientTest, KeepsAtMostMaxIdlePerHostConnections) {
  cfg_.max_idle_per_host = 1;
  auto client = makeClient();
  auto two = [](Client& c, Request a, Request b) -> net::awaitable<bool> {
    auto ra = co_await c.send(std::move(a));
    auto rb = co_await c.send(std::move(b));  // ra is unread: needs a second connection
    if (!ra || !rb) {
      co_return false;
    }
    auto ba = co_await (*ra)->readAll();
    auto bb = co_await (*rb)->readAll();
    co_return ba&& bb;
  };
  ASSERT_TRUE(run(two(*client, chat(), chat())));
  EXPECT_EQ(fake_.connectionsAccepted(), 2u);
  EXPECT_EQ(client->idleConnections(), 1u);
  auto recorded = fake_.requests();
  EXPECT_TRUE(fake_.waitConnectionClosed(recorded.at(0).connection_id, 2s));
}

TEST_F(UpstreamClientTest, NeverResendsARequestAPooledConnectionDeliveredBeforeItDied) {
  // The provider received the request before the reset and may have billed it: resending it
  // silently would double the tenant's cost without showing up as an attempt.
  auto client = makeClient();
  ASSERT_TRUE(run(sendAndRead(*client, chat())).body);
  fake_.push("/v1/chat/completions", FakeBehaviour::reset());
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_FALSE(ex.response);
  EXPECT_EQ(ex.response.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_EQ(counter("livery_upstream_stale_retries_total"), 0u);
  EXPECT_EQ(fake_.requestCount(), 2u);
  EXPECT_EQ(fake_.connectionsAccepted(), 1u);
}

TEST_F(UpstreamClientTest, ReportsAResetOnAFreshConnectionWithoutRetrying) {
  fake_.push("/v1/chat/completions", FakeBehaviour::reset());
  auto client = makeClient();
  auto res = run(client->send(chat()));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_NE(res.error().client_message.find("reset"), std::string::npos)
      << res.error().client_message;
  EXPECT_EQ(fake_.requestCount(), 1u);
  EXPECT_EQ(counter("livery_upstream_stale_retries_total"), 0u);
}

TEST_F(UpstreamClientTest, ReturnsErrorStatusesAsResponsesWithTheirHeaders) {
  fake_.push("/v1/chat/completions", FakeBehaviour::rateLimited(7));
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response);
  EXPECT_EQ((*ex.response)->status(), 429);
  EXPECT_EQ((*ex.response)->header("Retry-After"), "7");
  ASSERT_TRUE(ex.body);
  EXPECT_NE(ex.body->find("rate_limit_exceeded"), std::string::npos);
}

TEST_F(UpstreamClientTest, NeverFollowsRedirects) {
  fake_.push("/v1/chat/completions",
             FakeBehaviour::redirect("http://169.254.169.254/latest/meta-data/", 302));
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response);
  EXPECT_EQ((*ex.response)->status(), 302);
  EXPECT_EQ((*ex.response)->header("location"), "http://169.254.169.254/latest/meta-data/");
  EXPECT_EQ(fake_.requestCount(), 1u);
}

TEST_F(UpstreamClientTest, TimesOutConnectingToAHostThatDropsSyns) {
  BlackholeListener blackhole;
  cfg_.connect_timeout = 300ms;
  auto client = makeClient();
  Request r = chat();
  r.url = "http://127.0.0.1:" + std::to_string(blackhole.port()) + "/v1/models";
  auto started = Clock::now();
  auto res = run(client->send(r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(res.error().client_message, "upstream connect_timeout (300 ms) exceeded");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(counter("livery_upstream_connect_failures_total", {{"reason", "timeout"}}), 1u);
}

TEST_F(UpstreamClientTest, ReportsARefusedConnection) {
  std::uint16_t closed_port = 0;
  {
    FakeUpstream gone;
    closed_port = gone.port();
  }
  auto client = makeClient();
  Request r = chat();
  r.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/v1/models";
  auto res = run(client->send(r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_EQ(res.error().client_message, "upstream connection refused");
  EXPECT_EQ(counter("livery_upstream_connect_failures_total", {{"reason", "refused"}}), 1u);
}

TEST_F(UpstreamClientTest, TimesOutWaitingForTheResponseHead) {
  cfg_.first_byte_timeout = 200ms;
  fake_.push("/v1/chat/completions", FakeBehaviour::delayHead(3s));
  auto client = makeClient();
  auto started = Clock::now();
  auto res = run(client->send(chat()));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(res.error().client_message,
            "upstream sent no response head within first_byte_timeout (200 ms)");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(counter("livery_upstream_timeouts_total", {{"deadline", "first_byte"}}), 1u);
}

TEST_F(UpstreamClientTest, TimesOutWhenAStreamStallsLongerThanTheIdleTimeout) {
  cfg_.idle_timeout = 200ms;
  fake_.push("/v1/chat/completions", FakeBehaviour::delayEvents(3s));
  auto client = makeClient();
  auto flow = [](Client& c, Request r) -> net::awaitable<Pieces> {
    auto res = co_await c.send(std::move(r));
    if (!res) {
      co_return Pieces{{}, res.error()};
    }
    co_return co_await readPieces(**res);
  };
  auto started = Clock::now();
  auto pieces = run(flow(*client, chat(true)));
  ASSERT_TRUE(pieces.error);
  EXPECT_FALSE(pieces.pieces.empty());  // the first event arrived before the stall
  EXPECT_EQ(pieces.error->code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(pieces.error->client_message,
            "upstream response stalled for longer than idle_timeout (200 ms)");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(counter("livery_upstream_timeouts_total", {{"deadline", "idle"}}), 1u);
}

TEST_F(UpstreamClientTest, TimesOutWhenTheWholeExchangeExceedsTheTotalTimeout) {
  cfg_.total_timeout = 600ms;
  cfg_.idle_timeout = 2s;
  // 20 bytes every 50 ms: every read makes progress, but the body takes seconds.
  fake_.push("/v1/chat/completions", FakeBehaviour::trickle(20, 50ms));
  auto client = makeClient();
  auto started = Clock::now();
  auto ex = run(sendAndRead(*client, chat()));
  const Error& e = ex.response ? ex.body.error() : ex.response.error();
  EXPECT_EQ(e.code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(e.client_message, "upstream exchange exceeded total_timeout (600 ms)");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(counter("livery_upstream_timeouts_total", {{"deadline", "total"}}), 1u);
}

TEST_F(UpstreamClientTest, ReportsATruncatedBody) {
  fake_.push("/v1/chat/completions", FakeBehaviour::closeAfter(250));
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response) << ex.response.error().client_message;
  ASSERT_FALSE(ex.body);
  EXPECT_EQ(ex.body.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_EQ(ex.body.error().client_message,
            "upstream closed the connection before the response was complete");
  EXPECT_EQ(client->idleConnections(), 0u);
}

TEST_F(UpstreamClientTest, ReportsAStreamThatFailsMidway) {
  fake_.push("/v1/chat/completions", FakeBehaviour::failMidStream(2));
  auto client = makeClient();
  auto flow = [](Client& c, Request r) -> net::awaitable<Pieces> {
    auto res = co_await c.send(std::move(r));
    if (!res) {
      co_return Pieces{{}, res.error()};
    }
    co_return co_await readPieces(**res);
  };
  auto pieces = run(flow(*client, chat(true)));
  ASSERT_TRUE(pieces.error);
  EXPECT_EQ(pieces.error->code, ErrorCode::kUpstreamUnavailable);
  EXPECT_NE(pieces.joined().find("chat.completion.chunk"), std::string::npos);
  EXPECT_EQ(pieces.joined().find("[DONE]"), std::string::npos);
}

TEST_F(UpstreamClientTest, StreamsAChunkedSseBodyPieceByPiece) {
  fake_.setReply("one two three four five", 5);
  FakeBehaviour slow;
  slow.event_delay = 30ms;  // each event arrives on its own
  fake_.push("/v1/chat/completions", slow);
  auto client = makeClient();
  auto flow = [](Client& c, Request r) -> net::awaitable<std::pair<Pieces, bool>> {
    auto res = co_await c.send(std::move(r));
    if (!res) {
      co_return std::pair{Pieces{{}, res.error()}, false};
    }
    auto pieces = co_await readPieces(**res);
    co_return std::pair{pieces, (*res)->complete()};
  };
  auto [pieces, complete] =
      run(flow(*client, chat(true, R"(,"stream_options":{"include_usage":true})")));
  ASSERT_FALSE(pieces.error) << pieces.error->client_message;
  EXPECT_TRUE(complete);
  // role + 5 content + finish + usage + [DONE] = 9 events, none merged by the chunked decoder.
  EXPECT_GE(pieces.pieces.size(), 9u);
  std::string all = pieces.joined();
  EXPECT_EQ(all.rfind("data: [DONE]\n\n"), all.size() - 14);
  EXPECT_NE(all.find(R"("content":"one )"), std::string::npos);
  EXPECT_NE(all.find(R"("choices":[],"usage":{"prompt_tokens":2,"completion_tokens":5)"),
            std::string::npos);
  EXPECT_EQ(all.find("\r\n"), std::string::npos);  // chunk framing was removed
  EXPECT_EQ(client->idleConnections(), 1u);
}

TEST_F(UpstreamClientTest, HandsOutEveryChunkThatArrivedTogetherAsOnePiece) {
  // Beast's parser stops at each chunk boundary; handing out one chunk per read would cost the
  // gateway one client write (one syscall, one packet) per SSE event.
  std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    std::string event = "data: {\"n\":" + std::to_string(i) + "}\n\n";
    reply += fmt::format("{:x}\r\n{}\r\n", event.size(), event);
    expected += event;
  }
  reply += "0\r\n\r\n";
  OneWriteServer server(reply);
  auto client = makeClient();
  Request r = chat(true);
  r.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/chat/completions";
  auto flow = [](Client& c, Request req) -> net::awaitable<Pieces> {
    auto res = co_await c.send(std::move(req));
    if (!res) {
      co_return Pieces{{}, res.error()};
    }
    co_return co_await readPieces(**res);
  };
  auto pieces = run(flow(*client, r));
  ASSERT_FALSE(pieces.error) << pieces.error->client_message;
  EXPECT_EQ(pieces.joined(), expected);
  EXPECT_EQ(pieces.pieces.size(), 1u);
}

TEST_F(UpstreamClientTest, SendsAOneMebibyteRequestBody) {
  auto client = makeClient();
  Request r = chat();
  r.url = url("/v1/embeddings");
  std::string input;
  input.reserve(1 << 20);
  while (input.size() + 5 <= (1u << 20)) {
    input += "word ";
  }
  r.body = R"({"model":"text-embedding-3-small","input":")" + input + R"("})";
  auto ex = run(sendAndRead(*client, r));
  ASSERT_TRUE(ex.response && ex.body);
  EXPECT_EQ((*ex.response)->status(), 200);
  EXPECT_NE(ex.body->find(R"("prompt_tokens":)" + std::to_string(input.size() / 5)),
            std::string::npos);
  EXPECT_EQ(fake_.requests().at(0).body.size(), r.body.size());
}

TEST_F(UpstreamClientTest, BoundsAWholeBodyReadByMaxResponseBytes) {
  cfg_.max_response_bytes = 64;
  auto client = makeClient();
  auto ex = run(sendAndRead(*client, chat()));
  ASSERT_TRUE(ex.response);
  ASSERT_FALSE(ex.body);
  EXPECT_EQ(ex.body.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_NE(ex.body.error().client_message.find("max_response_bytes"), std::string::npos);
}

TEST_F(UpstreamClientTest,
       CancellingTheAwaitingCoroutineClosesTheConnectionWhileWaitingForTheHead) {
  using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
  fake_.push("/v1/chat/completions", FakeBehaviour::hang());
  auto client = makeClient();
  auto flow = [](Client& c, Request r) -> net::awaitable<std::size_t> {
    auto outcome = co_await (c.send(std::move(r)) || sleepFor(200ms));
    co_return outcome.index();
  };
  auto started = Clock::now();
  EXPECT_EQ(run(flow(*client, chat())), 1u);  // the timer won; send() was cancelled
  EXPECT_LT(Clock::now() - started, 1s);
  ASSERT_EQ(fake_.requestCount(), 1u);
  EXPECT_TRUE(fake_.waitConnectionClosed(fake_.requests()[0].connection_id, 1s));
  EXPECT_EQ(client->idleConnections(), 0u);
}

TEST_F(UpstreamClientTest, CancellingTheAwaitingCoroutineClosesTheConnectionMidStream) {
  fake_.push("/v1/chat/completions", FakeBehaviour::delayEvents(10s));
  auto client = makeClient();
  net::cancellation_signal cancel;
  auto flow = [](Client& c, Request r) -> net::awaitable<Pieces> {
    auto res = co_await c.send(std::move(r));
    if (!res) {
      co_return Pieces{{}, res.error()};
    }
    co_return co_await readPieces(**res);
  };
  auto fut = net::co_spawn(
      io_, flow(*client, chat(true)), net::bind_cancellation_slot(cancel.slot(), net::use_future));
  // Let the stream start, then cancel as the gateway does when its client goes away.
  net::steady_timer later(io_, 300ms);
  later.async_wait([&cancel](const boost::system::error_code&) {
    cancel.emit(net::cancellation_type::terminal);
  });
  auto started = Clock::now();
  while (fut.wait_for(0s) != std::future_status::ready && Clock::now() - started < 5s) {
    io_.run_one_for(10ms);
  }
  ASSERT_EQ(fut.wait_for(0s), std::future_status::ready);
  auto pieces = fut.get();
  EXPECT_LT(Clock::now() - started, 1s);
  ASSERT_TRUE(pieces.error);
  EXPECT_EQ(pieces.error->client_message, "upstream request cancelled");
  EXPECT_FALSE(pieces.pieces.empty());
  ASSERT_EQ(fake_.requestCount(), 1u);
  EXPECT_TRUE(fake_.waitConnectionClosed(fake_.requests()[0].connection_id, 1s));
}

TEST_F(UpstreamClientTest, AbortClosesTheConnection) {
  fake_.push("/v1/chat/completions", FakeBehaviour::delayEvents(10s));
  auto client = makeClient();
  auto res = run(client->send(chat(true)));
  ASSERT_TRUE(res);
  (*res)->abort();
  EXPECT_TRUE(fake_.waitConnectionClosed(fake_.requests().at(0).connection_id, 1s));
  auto after = run((*res)->readSome());
  EXPECT_FALSE(after);
}

TEST_F(UpstreamClientTest, RefusesAPrivateAddressBeforeConnecting) {
  cfg_.allow_private_hosts.clear();
  auto client = makeClient();
  auto res = run(client->send(chat()));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(res.error().client_message,
            "upstream address 127.0.0.1 is a loopback address; allow it with "
            "upstream.allow_private_hosts");
  EXPECT_EQ(fake_.connectionsAccepted(), 0u);
  EXPECT_EQ(counter("livery_upstream_connect_failures_total", {{"reason", "guard"}}), 1u);
}

TEST_F(UpstreamClientTest, RefusesADnsRebindAtConnectTime) {
  std::string rebind_url = "http://rebind.test:" + std::to_string(fake_.port()) + "/v1/models";
  resolver_.push("rebind.test", {net::ip::make_address("93.184.216.34")});  // when saved
  resolver_.push("rebind.test", {net::ip::make_address("127.0.0.1")});      // when used
  auto client = makeClient();
  auto saved = run(client->guard().check(rebind_url, resolver_, 1s));
  ASSERT_TRUE(saved) << saved.error().client_message;
  Request r = chat();
  r.method = "GET";
  r.body.clear();
  r.url = rebind_url;
  auto res = run(client->send(r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(res.error().client_message,
            "upstream host rebind.test resolves to 127.0.0.1, which is a loopback address; "
            "allow it with upstream.allow_private_hosts");
  EXPECT_EQ(fake_.connectionsAccepted(), 0u);
  EXPECT_EQ(resolver_.lookups("rebind.test"), 2u);
}

TEST_F(UpstreamClientTest, ConnectsToThePinnedAddressAndKeepsTheHostName) {
  resolver_.set("pinned.test", {net::ip::make_address("127.0.0.1")});
  auto client = makeClient();
  Request r = chat();
  r.method = "GET";
  r.body.clear();
  r.url = "http://pinned.test:" + std::to_string(fake_.port()) + "/v1/models";
  auto ex = run(sendAndRead(*client, r));
  ASSERT_TRUE(ex.response) << ex.response.error().client_message;
  EXPECT_EQ((*ex.response)->status(), 200);
  EXPECT_EQ(fake_.requests().at(0).header("host"), "pinned.test:" + std::to_string(fake_.port()));
  EXPECT_EQ(fake_.requests().at(0).header("content-length"), "");  // GET without a body
}

}  // namespace
}  // namespace livery::upstream
