#pragma once

// A ChatRunner for tests: records every call, answers with a callback, and can yield (to let
// other cases interleave), advance a FakeClock (to fix latencies) or hang until cancelled (to hit
// the case deadline). Single-threaded use (the EvalRunner calls it from one strand).

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "prompts/chat_runner.hpp"
#include "support/fake_clock.hpp"

namespace livery::prompts::testing {

class FakeChatRunner final : public ChatRunner {
 public:
  using Responder = std::function<Result<std::string>(const ChatCall&)>;

  explicit FakeChatRunner(Responder responder) : responder_(std::move(responder)) {}

  net::awaitable<Result<std::string>> complete(ChatCall call) override {
    calls.push_back(call);
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    struct Leave {
      int& n;
      ~Leave() { --n; }
    } leave{in_flight};
    auto ex = co_await net::this_coro::executor;
    for (int i = 0; i < yields; ++i) {
      co_await net::post(ex, net::use_awaitable);
    }
    if (clock != nullptr) {
      clock->advance(latency);
    }
    if (hang_when && hang_when(call)) {
      net::steady_timer forever(ex, std::chrono::hours(1));
      co_await forever.async_wait(net::use_awaitable);  // throws when the deadline cancels it
    }
    co_return responder_(call);
  }

  std::vector<ChatCall> calls;
  int in_flight = 0;
  int max_in_flight = 0;
  int yields = 0;
  livery::testing::FakeClock* clock = nullptr;
  std::chrono::milliseconds latency{0};
  std::function<bool(const ChatCall&)> hang_when;

 private:
  Responder responder_;
};

}  // namespace livery::prompts::testing
