#pragma once

// Small helpers shared by the micro-benchmarks of bench/ (header-only: each benchmark is one
// translation unit). Nothing here is used by the gateway itself.
//
//   takeFlag()          reads and removes a benchmark-specific "--name=value" flag before
//                       benchmark::Initialize (which refuses flags it does not know)
//   residentBytes()     the process's resident set size (/proc/self/statm)
//   heapBytes()         bytes handed out by malloc (mallinfo2), for an exact per-object figure
//   threadCpuNanos()    CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID)
//   runCoroutine()      drives one awaitable to completion on a private io_context on the
//                       calling thread (the benchmark thread), rethrowing what escapes it
//   NullStreamWriter    a StreamWriter that discards (stages need an Exchange to run)
//   check()             unwraps a Result in set-up code, throwing with its messages if none
//
// Thread-safety: the free functions are safe from any thread; a NullStreamWriter belongs to one
// benchmark thread.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/net.hpp"
#include "http/exchange.hpp"

namespace livery::bench {

inline std::optional<std::string> takeFlag(int& argc, char** argv, std::string_view name) {
  const std::string prefix = "--" + std::string(name) + "=";
  std::optional<std::string> value;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg.starts_with(prefix)) {
      value = std::string(arg.substr(prefix.size()));
      continue;
    }
    argv[out++] = argv[i];
  }
  argc = out;
  return value;
}

inline std::size_t residentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) {
    return 0;
  }
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) {
    return 0;
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

inline std::size_t heapBytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;  // small blocks in use + mmap'ed large blocks
}

inline std::int64_t threadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline void runCoroutine(net::io_context& io, net::awaitable<void> aw) {
  std::exception_ptr escaped;
  net::co_spawn(io, std::move(aw), [&escaped](std::exception_ptr e) { escaped = std::move(e); });
  io.restart();
  io.run();
  if (escaped) {
    std::rethrow_exception(escaped);
  }
}

inline void runCoroutine(net::awaitable<void> aw) {
  net::io_context io;
  runCoroutine(io, std::move(aw));
}

class NullStreamWriter final : public http::StreamWriter {
 public:
  net::awaitable<Result<void>> begin(int /*status*/, http::Headers /*headers*/) override {
    begun_ = true;
    co_return Result<void>{};
  }
  net::awaitable<Result<void>> write(std::string_view data) override {
    written_ += data.size();
    co_return Result<void>{};
  }
  net::awaitable<Result<void>> end() override { co_return Result<void>{}; }
  bool begun() const noexcept override { return begun_; }
  std::uint64_t bytesWritten() const noexcept override { return written_; }

 private:
  bool begun_ = false;
  std::uint64_t written_ = 0;
};

template <class T>
T check(Result<T> r, const char* what) {
  if (!r) {
    throw std::runtime_error(std::string(what) + ": " + r.error().client_message + " " +
                             r.error().log_detail);
  }
  return std::move(*r);
}

inline void check(const Result<void>& r, const char* what) {
  if (!r) {
    throw std::runtime_error(std::string(what) + ": " + r.error().client_message + " " +
                             r.error().log_detail);
  }
}

}  // namespace livery::bench
