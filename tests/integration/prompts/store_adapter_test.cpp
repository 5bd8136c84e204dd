// The PromptVersionStore contract suite (tests/unit/prompts/version_store_contract.hpp) on the
// product's adapter: app::ControlPlanePromptVersionStore over the ControlPlane and the SQLite
// store, as `livery prompts` uses it. Plus what the adapter adds beyond the contract: audited
// mutations and the store-level evaluation gate.

#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "app/core_services.hpp"
#include "app/prompt_version_store.hpp"
#include "config/config.hpp"
#include "core/log.hpp"
#include "storage/stores.hpp"
#include "support/temp_dir.hpp"
#include "unit/prompts/version_store_contract.hpp"

namespace livery::prompts::testing {
namespace {

// A fresh data directory with tenants "tnt_a" and "tnt_b", and the adapter over it. Owns
// everything the adapter borrows.
class SqliteAdapterStore final : public PromptVersionStore {
 public:
  explicit SqliteAdapterStore(const Clock& clock)
      : logs_(std::make_shared<MemoryLogSink>()), log_(logs_, LogLevel::kWarn, clock) {
    config::Config cfg;
    cfg.data_dir = dir_.file("data");
    cfg.storage.sqlite_synchronous = "normal";
    core_ = app::CoreServices::open(cfg, clock, log_);
    for (const char* id : {"tnt_a", "tnt_b"}) {
      storage::Tenant t;
      t.id = id;
      t.slug = std::string(id).substr(4) + "-tenant";
      t.display_name = id;
      if (auto r = core_->stores->tenants.create(t); !r) {
        throw std::runtime_error("tenant: " + r.error().log_detail);
      }
    }
    adapter_ = std::make_unique<app::ControlPlanePromptVersionStore>(
        *core_->control, nullptr, control::Actor::cli(), &log_);
  }

  Result<std::vector<storage::PromptVersion>> list(std::string_view tenant_id) override {
    return adapter_->list(tenant_id);
  }
  Result<storage::PromptVersion> create(NewPromptVersion version) override {
    return adapter_->create(std::move(version));
  }
  Result<void> recordEval(std::string_view tenant_id,
                          std::string_view version_id,
                          std::string eval_json,
                          bool passed) override {
    return adapter_->recordEval(tenant_id, version_id, std::move(eval_json), passed);
  }
  Result<void> activate(std::string_view tenant_id, std::string_view version_id) override {
    return adapter_->activate(tenant_id, version_id);
  }

  app::CoreServices& core() { return *core_; }

 private:
  livery::testing::TempDir dir_;
  std::shared_ptr<MemoryLogSink> logs_;
  Logger log_;
  std::unique_ptr<app::CoreServices> core_;
  std::unique_ptr<app::ControlPlanePromptVersionStore> adapter_;
};

std::unique_ptr<PromptVersionStore> makeStore(const Clock& clock) {
  return std::make_unique<SqliteAdapterStore>(clock);
}

INSTANTIATE_TEST_SUITE_P(ControlPlaneSqlite,
                         PromptVersionStoreContractTest,
                         ::testing::Values(PromptVersionStoreFactory{"sqlite", makeStore}));

TEST(ControlPlanePromptVersionStoreTest, MutationsAreAuditedAndAFailedEvaluationBlocksActivation) {
  livery::testing::FakeClock clock;
  SqliteAdapterStore store(clock);
  auto v = store.create({"tnt_a",
                         "You are helpful.",
                         "Ana <ana@example.com>",
                         "git 1a2b3c4: x",
                         std::string(40, 'c'),
                         1'790'000'000'000});
  ASSERT_TRUE(v);
  ASSERT_TRUE(store.recordEval("tnt_a", v->id, R"({"format":1,"quote":"REPLY-CANARY"})", false));
  auto refused = store.activate("tnt_a", v->id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnprocessable);
  EXPECT_EQ(store.list("tnt_a")->at(0).status, storage::PromptStatus::kDraft);
  ASSERT_TRUE(store.recordEval("tnt_a", v->id, R"({"format":1})", true));
  ASSERT_TRUE(store.activate("tnt_a", v->id));

  auto events = store.core().stores->audit.list("tnt_a", 0, 100);
  ASSERT_TRUE(events);
  std::string actions;
  for (const auto& e : *events) {
    actions += e.action + " ";
    // The audit carries the verdict, never the report (which quotes replies).
    EXPECT_EQ(e.details_json.find("REPLY-CANARY"), std::string::npos);
  }
  EXPECT_NE(actions.find("prompt.created"), std::string::npos) << actions;
  EXPECT_NE(actions.find("prompt.evaluated"), std::string::npos) << actions;
  EXPECT_NE(actions.find("prompt.activated"), std::string::npos) << actions;
}

// The gate the ControlPlane relies on is checked inside the activation's transaction, so a
// failed evaluation recorded between promote's check and the activation still keeps it out.
TEST(ControlPlanePromptVersionStoreTest, TheStoreRefusesAFailedVersionInsideTheActivation) {
  livery::testing::FakeClock clock;
  SqliteAdapterStore store(clock);
  auto& prompts = store.core().stores->prompts;
  auto never = store.create({"tnt_a", "never evaluated", "", "", "", 0});
  auto failed = store.create({"tnt_a", "failed", "", "", "", 0});
  ASSERT_TRUE(never && failed);
  ASSERT_TRUE(store.recordEval("tnt_a", failed->id, R"({"format":1})", false));
  auto refused = prompts.activate("tnt_a", failed->id, storage::EvalGate::kRefuseFailed);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnprocessable);
  EXPECT_TRUE(prompts.activate("tnt_a", never->id, storage::EvalGate::kRefuseFailed));
  EXPECT_FALSE(prompts.activate("tnt_a", failed->id, storage::EvalGate::kRequirePassed));
  EXPECT_TRUE(prompts.activate("tnt_a", failed->id, storage::EvalGate::kSkip));
}

}  // namespace
}  // namespace livery::prompts::testing
