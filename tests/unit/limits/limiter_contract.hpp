#pragma once

// LimiterContractTest: the behaviour every limits::Limiter backend must show. The TEST_Ps live
// in limiter_contract.cpp; each backend's test binary instantiates the suite with a factory
// (in-memory: unit tests; Redis: integration tests labelled needs-redis).

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "limits/limiter.hpp"
#include "support/fake_clock.hpp"

namespace livery::limits::contract {

struct HarnessConfig {
  double burst_seconds = 1.0;
  std::chrono::system_clock::time_point wall_start =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
};

// Owns a backend's limiter and the FakeClock that drives it.
class LimiterHarness {
 public:
  explicit LimiterHarness(const HarnessConfig& config) : clock_(config.wall_start) {}
  virtual ~LimiterHarness() = default;
  LimiterHarness(const LimiterHarness&) = delete;
  LimiterHarness& operator=(const LimiterHarness&) = delete;

  virtual Limiter& limiter() = 0;
  livery::testing::FakeClock& clock() { return clock_; }

 private:
  livery::testing::FakeClock clock_;
};

struct LimiterBackend {
  std::string name;
  // Environment variable naming the service URL (LIVERY_REQUIRE_SERVICE); empty: none needed.
  std::string service_env;
  std::function<std::unique_ptr<LimiterHarness>(const std::string& service_url,
                                                const HarnessConfig& config)>
      make;
};

// gtest prints the parameter of a failing test with this (instead of its bytes).
inline void PrintTo(const LimiterBackend& backend,
                    std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << backend.name;
}

inline std::string backendName(const ::testing::TestParamInfo<LimiterBackend>& info) {
  return info.param.name;
}

class LimiterContractTest : public ::testing::TestWithParam<LimiterBackend> {
 protected:
  void SetUp() override;
  // Recreates the harness with another configuration (the default one is made by SetUp).
  void remake(const HarnessConfig& config);

  Limiter& limiter() { return harness_->limiter(); }
  livery::testing::FakeClock& clock() { return harness_->clock(); }
  // A tenant id unique to this test run, so backends sharing a store never collide.
  const std::string& tenant() const { return tenant_; }
  std::string otherTenant() const { return tenant_ + "-b"; }

 private:
  std::string service_url_;
  std::string tenant_;
  std::unique_ptr<LimiterHarness> harness_;
};

}  // namespace livery::limits::contract
