#pragma once

// Shared helpers for the crypto tests: fixture paths, hex literals, a RandomSource that can be
// told to fail, and a logger that records lines (to grep for planted canary secrets).

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace livery::crypto::testing {

inline std::string fixturePath(std::string_view name) {
  return std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/crypto/" + std::string(name);
}

inline std::vector<unsigned char> unhex(std::string_view hex) {
  auto v = hexDecode(hex);
  EXPECT_TRUE(v.has_value()) << "bad hex literal in test: " << hex;
  return v.value_or(std::vector<unsigned char>{});
}

inline std::span<const unsigned char> bytesOf(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};  // NOLINT
}

// Delegates to the OpenSSL CSPRNG until told to fail.
class ControllableRandom final : public RandomSource {
 public:
  Result<void> fill(std::span<unsigned char> out) override {
    if (failing.load()) {
      return fail(ErrorCode::kInternal, "random number generator failure", "test-induced");
    }
    calls.fetch_add(1);
    return real_.fill(out);
  }
  std::atomic<bool> failing{false};
  std::atomic<int> calls{0};

 private:
  OpenSslRandom real_;
};

// A Logger writing into memory, on a fake clock.
struct CapturingLogger {
  livery::testing::FakeClock clock;
  std::shared_ptr<MemoryLogSink> sink = std::make_shared<MemoryLogSink>();
  Logger logger{sink, LogLevel::kTrace, clock};
  std::string text() const { return sink->joined(); }
};

}  // namespace livery::crypto::testing
