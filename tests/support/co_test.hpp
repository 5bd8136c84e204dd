#pragma once

#include <future>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "core/net.hpp"

namespace livery::testing {

// Runs an awaitable to completion on `ctx` from the test thread and returns its value
// (rethrowing its exception).
template <class T>
T runAwaitable(net::io_context& ctx, net::awaitable<T> aw) {
  auto fut = net::co_spawn(ctx, std::move(aw), net::use_future);
  ctx.restart();
  ctx.run();
  return fut.get();
}

template <class T>
T runAwaitable(net::awaitable<T> aw) {
  net::io_context ctx;
  return runAwaitable(ctx, std::move(aw));
}

}  // namespace livery::testing
