#include "limits/spike_detector.hpp"

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace livery::limits {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

class SpikeDetectorTest : public ::testing::Test {
 protected:
  // Records `per_hour` evenly spread requests of `tokens` tokens each for `duration`, and
  // returns the alerts raised.
  std::vector<SpikeAlert> feed(const std::string& tenant,
                               int per_hour,
                               hours duration,
                               std::uint64_t tokens = 100) {
    std::vector<SpikeAlert> alerts;
    const milliseconds step(3'600'000 / per_hour);
    const auto count = static_cast<int>(duration.count()) * per_hour;
    for (int i = 0; i < count; ++i) {
      if (auto a = detector_.record(tenant, 1, tokens)) {
        alerts.push_back(*a);
      }
      clock_.advance(step);
    }
    return alerts;
  }
  void idle(hours duration) { clock_.advance(duration); }

  livery::testing::FakeClock clock_;
  SpikeDetector detector_{clock_, SpikeDetectorOptions{}};  // 10×, 1 h vs 24 h, 100 requests
};

TEST_F(SpikeDetectorTest, SteadyTrafficRaisesNoAlert) {
  for (int h = 0; h < 48; ++h) {
    EXPECT_TRUE(feed("tnt_a", h % 2 == 0 ? 150 : 250, hours(1)).empty()) << "hour " << h;
  }
}

TEST_F(SpikeDetectorTest, ATenfoldJumpRaisesExactlyOneAlert) {
  ASSERT_TRUE(feed("tnt_a", 200, hours(25)).empty());
  auto alerts = feed("tnt_a", 2000, hours(3));
  ASSERT_EQ(alerts.size(), 1u);
  const SpikeAlert& a = alerts[0];
  EXPECT_EQ(a.tenant_id, "tnt_a");
  EXPECT_GE(a.factor, 10.0);
  EXPECT_LT(a.factor, 10.5);
  EXPECT_NEAR(a.baseline_requests, 200.0, 10.0);
  EXPECT_GE(a.window_requests, 1990u);
  EXPECT_NEAR(a.baseline_tokens, 20'000.0, 1000.0);
  EXPECT_EQ(a.window, hours(1));
}

TEST_F(SpikeDetectorTest, BelowTheMinimumVolumeRaisesNoAlert) {
  ASSERT_TRUE(feed("tnt_a", 5, hours(25)).empty());
  EXPECT_TRUE(feed("tnt_a", 50, hours(3)).empty());  // 10×, but under 100 requests an hour
}

TEST_F(SpikeDetectorTest, ANinefoldJumpRaisesNoAlert) {
  ASSERT_TRUE(feed("tnt_a", 200, hours(25)).empty());
  EXPECT_TRUE(feed("tnt_a", 1800, hours(3)).empty());
}

TEST_F(SpikeDetectorTest, ATokenSpikeAloneRaisesAnAlert) {
  ASSERT_TRUE(feed("tnt_a", 200, hours(25), 100).empty());
  auto alerts = feed("tnt_a", 200, hours(2), 2000);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].metric, "tokens");
  EXPECT_GE(alerts[0].factor, 10.0);
}

TEST_F(SpikeDetectorTest, ANewTenantIsNotJudgedBeforeAWholeBaseline) {
  EXPECT_TRUE(feed("tnt_new", 5000, hours(2)).empty());
  EXPECT_TRUE(feed("tnt_new", 200, hours(24)).empty());
}

TEST_F(SpikeDetectorTest, ADormantTenantThatBurstsIsFlagged) {
  ASSERT_TRUE(feed("tnt_a", 200, hours(25)).empty());
  idle(hours(48));
  auto alerts = feed("tnt_a", 500, hours(1));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_GE(alerts[0].factor, 10.0);
}

TEST_F(SpikeDetectorTest, RaisesAgainOnlyAfterTheSpikeHasEnded) {
  ASSERT_TRUE(feed("tnt_a", 200, hours(25)).empty());
  EXPECT_EQ(feed("tnt_a", 3000, hours(2)).size(), 1u);
  EXPECT_TRUE(feed("tnt_a", 200, hours(30)).empty());
  EXPECT_EQ(feed("tnt_a", 3000, hours(2)).size(), 1u);
}

TEST_F(SpikeDetectorTest, TenantsHaveTheirOwnBaselines) {
  std::vector<SpikeAlert> alerts;
  for (int h = 0; h < 27; ++h) {
    const int rate_a = h < 25 ? 200 : 4000;
    for (int i = 0; i < 4000; ++i) {
      if (i % (4000 / rate_a) == 0) {
        if (auto a = detector_.record("tnt_a", 1, 100)) {
          alerts.push_back(*a);
        }
      }
      if (i % 20 == 0) {
        if (auto b = detector_.record("tnt_b", 1, 100)) {
          alerts.push_back(*b);
        }
      }
      clock_.advance(milliseconds(900));
    }
  }
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].tenant_id, "tnt_a");
}

TEST(SpikeDetectorBoundsTest, TracksAtMostMaxTenants) {
  livery::testing::FakeClock clock;
  SpikeDetector detector(clock, {.max_tenants = 32, .shards = 4});
  for (int i = 0; i < 1000; ++i) {
    (void)detector.record("tnt_" + std::to_string(i), 1, 1);
    clock.advance(milliseconds(10));
  }
  EXPECT_LE(detector.trackedTenants(), 32u);
  EXPECT_GE(detector.trackedTenants(), 4u);
}

TEST(SpikeDetectorConcurrencyTest, ConcurrentRecordsRaiseOneAlert) {
  livery::testing::FakeClock clock;
  SpikeDetector detector(clock, {});
  for (int i = 0; i < 25 * 200; ++i) {
    (void)detector.record("tnt_a", 1, 100);
    clock.advance(milliseconds(18'000));
  }
  std::atomic<int> alerts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (detector.record("tnt_a", 1, 100)) {
          ++alerts;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(alerts.load(), 1);
}

}  // namespace
}  // namespace livery::limits
