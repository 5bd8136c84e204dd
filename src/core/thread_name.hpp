#pragma once

// Names the calling thread (Linux keeps the first 15 bytes), so `top -H`, /proc/<pid>/task/*/comm
// and bench/run_bench.sh's per-thread split can tell the I/O threads from the ledger writer.
// Best effort: a failure changes nothing else.

#include <string>
#include <string_view>

#include <pthread.h>

namespace livery {

inline void nameThisThread(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  (void)pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace livery
