#include "upstream/resolver.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace livery::upstream {

namespace {

using tcp = net::ip::tcp;

class SystemResolver final : public Resolver {
 public:
  net::awaitable<Result<std::vector<net::ip::address>>> resolve(
      std::string host, std::chrono::milliseconds timeout) override {
    auto ex = co_await net::this_coro::executor;
    // Shared with the lookup's completion handler, which may run after this coroutine has
    // given up (timeout or cancellation): getaddrinfo cannot be interrupted.
    struct Lookup {
      explicit Lookup(const net::any_io_executor& e) : resolver(e), timer(e) {}
      tcp::resolver resolver;
      net::steady_timer timer;
      bool done = false;
      boost::system::error_code ec;
      tcp::resolver::results_type results;
    };
    auto lookup = std::make_shared<Lookup>(ex);
    lookup->timer.expires_after(timeout);
    lookup->resolver.async_resolve(
        host,
        "",
        [lookup](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          lookup->done = true;
          lookup->ec = ec;
          lookup->results = std::move(results);
          lookup->timer.cancel();
        });
    auto [wait_ec] = co_await lookup->timer.async_wait(net::as_tuple(net::use_awaitable));
    if (!lookup->done) {
      lookup->resolver.cancel();
      if (wait_ec == net::error::operation_aborted) {
        co_return fail(ErrorCode::kUpstreamUnavailable, "upstream request cancelled");
      }
      co_return fail(ErrorCode::kUpstreamTimeout,
                     fmt::format("upstream host name lookup exceeded connect_timeout ({} ms)",
                                 timeout.count()),
                     "host=" + host);
    }
    if (lookup->ec) {
      co_return fail(ErrorCode::kUpstreamUnavailable,
                     fmt::format("could not resolve upstream host {}", host),
                     lookup->ec.message());
    }
    std::vector<net::ip::address> out;
    for (const auto& entry : lookup->results) {
      auto addr = entry.endpoint().address();
      bool seen = false;
      for (const auto& a : out) {
        seen = seen || a == addr;
      }
      if (!seen) {
        out.push_back(addr);
      }
    }
    if (out.empty()) {
      co_return fail(ErrorCode::kUpstreamUnavailable,
                     fmt::format("upstream host {} has no addresses", host));
    }
    co_return out;
  }
};

}  // namespace

std::unique_ptr<Resolver> makeSystemResolver() {
  return std::make_unique<SystemResolver>();
}

void StaticResolver::set(const std::string& host, std::vector<net::ip::address> addresses) {
  std::lock_guard lock(mu_);
  auto& e = entries_[host];
  e.answers.clear();
  e.answers.push_back(std::move(addresses));
}

void StaticResolver::push(const std::string& host, std::vector<net::ip::address> addresses) {
  std::lock_guard lock(mu_);
  entries_[host].answers.push_back(std::move(addresses));
}

std::size_t StaticResolver::lookups(const std::string& host) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(host);
  return it == entries_.end() ? 0 : it->second.lookups;
}

net::awaitable<Result<std::vector<net::ip::address>>> StaticResolver::resolve(
    std::string host, std::chrono::milliseconds /*timeout*/) {
  std::vector<net::ip::address> answer;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(host);
    if (it != entries_.end() && !it->second.answers.empty()) {
      ++it->second.lookups;
      answer = it->second.answers.front();
      if (it->second.answers.size() > 1) {
        it->second.answers.erase(it->second.answers.begin());
      }
    }
  }
  if (answer.empty()) {
    co_return fail(ErrorCode::kUpstreamUnavailable,
                   fmt::format("could not resolve upstream host {}", host));
  }
  co_return answer;
}

}  // namespace livery::upstream
