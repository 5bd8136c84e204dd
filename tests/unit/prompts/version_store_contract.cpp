#include "unit/prompts/version_store_contract.hpp"

#include <set>

namespace livery::prompts::testing {
namespace {

NewPromptVersion draft(std::string tenant, std::string content, std::string commit = {}) {
  NewPromptVersion v;
  v.tenant_id = std::move(tenant);
  v.content = std::move(content);
  v.author = "Ana <ana@example.com>";
  v.note = "git abc1234: change";
  v.commit_id = std::move(commit);
  return v;
}

TEST_P(PromptVersionStoreContractTest, CreateNumbersVersionsPerTenantAndNeverActivates) {
  auto v1 = store_->create(draft("tnt_a", "one", std::string(40, 'a')));
  auto v2 = store_->create(draft("tnt_a", "two"));
  auto b1 = store_->create(draft("tnt_b", "other"));
  ASSERT_TRUE(v1 && v2 && b1);
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(b1->version, 1);
  EXPECT_NE(v1->id, v2->id);
  EXPECT_EQ(v1->tenant_id, "tnt_a");
  EXPECT_EQ(v1->content, "one");
  EXPECT_EQ(v1->author, "Ana <ana@example.com>");
  EXPECT_EQ(v1->note, "git abc1234: change");
  EXPECT_EQ(v1->commit_id, std::string(40, 'a'));
  EXPECT_EQ(v1->status, storage::PromptStatus::kDraft);
  EXPECT_TRUE(v1->eval_json.empty());
  EXPECT_FALSE(v1->eval_passed);

  auto list = store_->list("tnt_a");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ((*list)[0].version, 1);
  EXPECT_EQ((*list)[1].version, 2);
  for (const auto& v : *list) {
    EXPECT_NE(v.status, storage::PromptStatus::kActive);
  }
  auto none = store_->list("tnt_nobody");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(PromptVersionStoreContractTest, CreatedAtIsTheGivenTimeOrTheClock) {
  NewPromptVersion given = draft("tnt_a", "one");
  given.created_at = 1'700'000'000'000;
  EXPECT_EQ(store_->create(given)->created_at, 1'700'000'000'000);
  EXPECT_EQ(store_->create(draft("tnt_a", "two"))->created_at, clock_.unixMillis());
}

TEST_P(PromptVersionStoreContractTest, ACommitIsImportedOncePerTenant) {
  const std::string commit(40, 'c');
  ASSERT_TRUE(store_->create(draft("tnt_a", "one", commit)));
  auto dup = store_->create(draft("tnt_a", "one again", commit));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->create(draft("tnt_b", "one", commit)));  // another tenant's repo history
  EXPECT_TRUE(store_->create(draft("tnt_a", "manual")));       // empty commit ids never collide
  EXPECT_TRUE(store_->create(draft("tnt_a", "manual 2")));
}

TEST_P(PromptVersionStoreContractTest, RecordEvalReplacesTheVersionsEvaluation) {
  auto v = store_->create(draft("tnt_a", "one"));
  ASSERT_TRUE(store_->recordEval("tnt_a", v->id, R"({"passed":false})", false));
  ASSERT_TRUE(store_->recordEval("tnt_a", v->id, R"({"passed":true})", true));
  auto list = store_->list("tnt_a");
  EXPECT_EQ((*list)[0].eval_json, R"({"passed":true})");
  EXPECT_TRUE((*list)[0].eval_passed);
  EXPECT_EQ((*list)[0].content, "one");
  EXPECT_EQ(store_->recordEval("tnt_a", "pv_missing", "{}", true).error().code,
            ErrorCode::kNotFound);
}

TEST_P(PromptVersionStoreContractTest, ActivateKeepsExactlyOneActiveVersion) {
  auto v1 = store_->create(draft("tnt_a", "one"));
  auto v2 = store_->create(draft("tnt_a", "two"));
  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(store_->activate("tnt_a", v1->id));
  ASSERT_TRUE(store_->activate("tnt_a", v1->id));  // again: no-op
  ASSERT_TRUE(store_->activate("tnt_a", v2->id));
  auto list = store_->list("tnt_a");
  EXPECT_EQ((*list)[0].status, storage::PromptStatus::kRetired);
  EXPECT_EQ((*list)[1].status, storage::PromptStatus::kActive);
  EXPECT_EQ((*list)[1].activated_at, clock_.unixMillis());
  ASSERT_TRUE(store_->activate("tnt_a", v1->id));  // roll back
  list = store_->list("tnt_a");
  EXPECT_EQ((*list)[0].status, storage::PromptStatus::kActive);
  EXPECT_EQ((*list)[1].status, storage::PromptStatus::kRetired);
}

TEST_P(PromptVersionStoreContractTest, TenantsNeverSeeOrTouchEachOthersVersions) {
  auto a = store_->create(draft("tnt_a", "a's prompt"));
  auto b = store_->create(draft("tnt_b", "b's prompt"));
  EXPECT_EQ(store_->activate("tnt_b", a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->recordEval("tnt_b", a->id, "{}", true).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->activate("tnt_b", b->id));
  for (const auto& v : *store_->list("tnt_a")) {
    EXPECT_EQ(v.tenant_id, "tnt_a");
    EXPECT_NE(v.status, storage::PromptStatus::kActive);
    EXPECT_TRUE(v.eval_json.empty());
  }
  ASSERT_EQ(store_->list("tnt_b")->size(), 1U);
}

}  // namespace
}  // namespace livery::prompts::testing
