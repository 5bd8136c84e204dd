#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace livery::testing {

inline std::string envOrEmpty(const char* variable) {
  const char* v = std::getenv(variable);  // NOLINT(concurrency-mt-unsafe): test set-up only
  return v == nullptr ? std::string() : std::string(v);
}

// Under `make test` (LIVERY_REQUIRE_SERVICES=1) a missing service fails the test instead of
// skipping it: nothing skips silently in CI.
inline bool servicesRequired() {
  return envOrEmpty("LIVERY_REQUIRE_SERVICES") == "1";
}

}  // namespace livery::testing

// In a test body (or a void SetUp): binds `var` to the service URL in environment variable
// `name`, or skips / fails the test when it is unset. Example:
//   LIVERY_REQUIRE_SERVICE(pg_url, "LIVERY_TEST_PG_URL");
#define LIVERY_REQUIRE_SERVICE(var, name)                            \
  const std::string var = ::livery::testing::envOrEmpty(name);       \
  if (var.empty()) {                                                 \
    if (::livery::testing::servicesRequired()) {                     \
      FAIL() << name << " is not set but LIVERY_REQUIRE_SERVICES=1"; \
    } else {                                                         \
      GTEST_SKIP() << "set " << name << " to run this test";         \
    }                                                                \
  }
