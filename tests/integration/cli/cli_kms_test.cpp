// `livery kms rewrap` is resumable: killed (SIGKILL) in the middle, it leaves every credential
// decryptable, and a second run finishes the job (issue 3, "Done when").
#include <csignal>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "control/control_plane.hpp"
#include "integration/cli/cli_fixture.hpp"
#include "storage/stores.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::CliEnv;

std::string keyFor(int i) {
  return "sk-rewrap-kill-" + std::to_string(1'000'000 + i);
}

// Rows per KEK version, read in-process.
std::uint64_t rowsOn(const CliEnv& env, std::uint32_t version) {
  auto core = env.open();
  auto n = core->stores->credentials.countByKek(core->kms->kekId(), version);
  return n ? *n : 0;
}

TEST(CliKmsTest, SigkillDuringRewrapThenRewrapAgainLeavesEveryCredentialDecryptable) {
  // Full fsync per row: the rewrap commits one transaction per credential, slowly enough to be
  // killed in the middle, and exactly like production.
  CliEnv env(0, "storage:\n  sqlite_synchronous: full\n");
  constexpr int kTenants = 4;
  constexpr int kPerTenant = 400;
  std::vector<std::pair<std::string, std::string>> creds;  // (tenant id, credential id)
  {
    // Set-up without an fsync per row (it is not what the test is about).
    auto core = env.open([](config::Config& c) { c.storage.sqlite_synchronous = "normal"; });
    for (int t = 0; t < kTenants; ++t) {
      auto tenant = core->control->createTenant(control::Actor::cli(),
                                                {"tenant-" + std::to_string(t), "", ""});
      ASSERT_TRUE(tenant);
      for (int i = 0; i < kPerTenant; ++i) {
        control::CredentialSpec spec;
        spec.provider = "openai";
        auto c = core->control->addCredential(
            control::Actor::cli(),
            tenant->id,
            spec,
            SecretBytes::copyOf(keyFor(static_cast<int>(creds.size()))));
        ASSERT_TRUE(c) << c.error().client_message;
        creds.emplace_back(tenant->id, c->id);
      }
    }
  }
  ASSERT_EQ(env.run({"kms", "rotate"}).code, 0);

  auto rewrap = env.start({"kms", "rewrap"});
  ASSERT_TRUE(rewrap->waitForOutput("rewrap: ", 60s)) << rewrap->err();
  rewrap->signal(SIGKILL);
  EXPECT_EQ(rewrap->waitExit(10s), 128 + SIGKILL);
  // The kill landed in the middle: some rows are on the new version, some still on the old.
  const auto old_rows = rowsOn(env, 1);
  const auto new_rows = rowsOn(env, 2);
  ASSERT_GT(old_rows, 0u) << "the rewrap finished before the kill; the test proves nothing";
  EXPECT_GT(new_rows, 0u);
  EXPECT_EQ(old_rows + new_rows, creds.size());
  // Half-way is a valid state: everything decrypts already.
  auto mid = env.json({"kms", "verify"});
  EXPECT_TRUE(mid.at("ok").as_bool());
  EXPECT_EQ(mid.at("decrypted").as_int64(), static_cast<std::int64_t>(creds.size()));
  EXPECT_EQ(env.run({"kms", "retire", "1"}).code, 1);  // rows still use it

  // Restart: the second run does the rest and nothing twice.
  auto again = env.json({"kms", "rewrap"});
  EXPECT_EQ(again.at("rewrapped").as_int64(), static_cast<std::int64_t>(old_rows));
  EXPECT_EQ(again.at("remaining").as_int64(), 0);
  EXPECT_EQ(rowsOn(env, 1), 0u);
  EXPECT_EQ(env.run({"kms", "retire", "1"}).code, 0);

  // Every credential decrypts, to exactly its own key, with version 1 destroyed.
  {
    auto core = env.open();
    for (std::size_t i = 0; i < creds.size(); ++i) {
      auto key = core->control->openCredential(creds[i].first, creds[i].second);
      ASSERT_TRUE(key) << creds[i].second << ": " << key.error().client_message;
      ASSERT_EQ(key->reveal(), keyFor(static_cast<int>(i)));
    }
  }
  auto verify = env.json({"kms", "verify"});
  EXPECT_TRUE(verify.at("ok").as_bool());
  // The killed process left the audit chain intact.
  auto audit = env.run({"audit", "verify"});
  EXPECT_EQ(audit.code, 0) << audit.err;
}

}  // namespace
}  // namespace livery
