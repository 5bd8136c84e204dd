// Issue 7: a tenant's volume jumps 10x over its trailing baseline: a webhook arrives with a valid
// signature and, with auto-suspend on, the tenant is suspended.
#include <thread>

#include <gtest/gtest.h>

#include "control/webhooks.hpp"
#include "storage/stores.hpp"
#include "support/fake_clock.hpp"
#include "support/gateway_harness.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;

TEST(SpikeTest, ATenfoldJumpRaisesASignedWebhookAndSuspends) {
  testing::FakeClock clock(std::chrono::system_clock::now());
  testing::FakeUpstream hooks;
  const std::string secret = "operator-webhook-secret";
  testing::GatewayHarness h(
      [&](config::Config& c) {
        c.alerts.window = 1h;
        c.alerts.baseline = 24h;
        c.alerts.min_requests = 20;
        c.alerts.spike_factor = 10;
        c.alerts.auto_suspend = true;
        c.alerts.operator_webhook_url = hooks.baseUrl() + "/hook";
        c.alerts.operator_webhook_secret = secret;
      },
      {},
      &clock);
  auto t = h.createTenant("acme");
  auto key = h.issueKey(t.id);
  auto mock = [&] {
    return h.chat(key,
                  R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                  R"("mock_response":"ok"})");
  };
  // A steady day: 2 requests an hour for 25 hours.
  for (int hour = 0; hour < 25; ++hour) {
    ASSERT_EQ(mock().status, 200);
    clock.advance(30min);
    ASSERT_EQ(mock().status, 200);
    clock.advance(30min);
  }
  EXPECT_EQ(hooks.requestCount(), 0u) << "steady traffic raises nothing";
  // Then 25 requests within one hour: more than 10x the hourly baseline.
  int accepted = 0;
  for (int i = 0; i < 25; ++i) {
    if (mock().status == 200) {
      ++accepted;
    }
    clock.advance(1min);
  }
  ASSERT_TRUE(hooks.waitForRequests(1, 10s)) << h.logs();
  auto delivery = hooks.requests().front();
  EXPECT_EQ(delivery.path, "/hook");
  EXPECT_EQ(delivery.header("x-livery-signature"),
            control::webhookSignature(secret, delivery.body));
  EXPECT_NE(delivery.body.find("usage_spike"), std::string::npos);
  EXPECT_NE(delivery.body.find(t.id), std::string::npos);
  // Auto-suspension: the tenant is refused from now on.
  bool suspended = false;
  for (int i = 0; i < 100 && !suspended; ++i) {
    h.refresh();
    suspended = mock().status == 403;
    if (!suspended) {
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_TRUE(suspended);
  auto alerts = h.gateway().stores().alerts.list(t.id);
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].kind, "usage_spike");
}

}  // namespace
}  // namespace livery
