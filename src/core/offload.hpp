#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/net.hpp"

namespace livery {

// Runs a blocking callable (SQLite, libpq, KMS, password hashing) on `pool` and resumes the
// awaiting coroutine on its own executor with the result. An exception thrown by `fn` is
// rethrown in the coroutine; data-plane callables return Result<T> instead of throwing.
// `fn` is moved into the pool task, so it must own what it needs or reference objects that
// outlive the await.
template <class F>
net::awaitable<std::invoke_result_t<F&>> offload(net::thread_pool& pool, F fn) {
  using R = std::invoke_result_t<F&>;
  using Slot = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;
  auto initiation = [&pool](auto handler, F f) {
    auto work = net::make_work_guard(net::get_associated_executor(handler));
    net::post(
        pool, [f = std::move(f), handler = std::move(handler), work = std::move(work)]() mutable {
          std::exception_ptr ep;
          Slot slot{};
          try {
            if constexpr (std::is_void_v<R>) {
              f();
              slot = true;
            } else {
              slot.emplace(f());
            }
          } catch (...) {
            ep = std::current_exception();
          }
          auto ex = work.get_executor();
          net::dispatch(ex, [handler = std::move(handler), ep, slot = std::move(slot)]() mutable {
            std::move(handler)(ep, std::move(slot));
          });
          work.reset();
        });
  };
  auto op = net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr, Slot)>(
      std::move(initiation), net::use_awaitable, std::move(fn));
  Slot result = co_await std::move(op);
  if constexpr (!std::is_void_v<R>) {
    co_return std::move(*result);
  }
}

}  // namespace livery
