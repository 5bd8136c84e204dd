#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace livery::testing {

// Unwraps a Result in set-up code of test harnesses; throws (failing the test that uses the
// harness) with the error's messages when there is none.
template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    throw std::runtime_error(std::string(what) + ": " + r.error().client_message + " " +
                             r.error().log_detail);
  }
  return std::move(*r);
}

}  // namespace livery::testing
