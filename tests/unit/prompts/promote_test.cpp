#include "prompts/promote.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "prompts/commands.hpp"
#include "prompts/dataset.hpp"
#include "prompts/eval_report.hpp"
#include "prompts/memory_version_store.hpp"
#include "support/fake_clock.hpp"

namespace livery::prompts {
namespace {

class PromoteTest : public ::testing::Test {
 protected:
  storage::PromptVersion create(const std::string& content) {
    NewPromptVersion v;
    v.tenant_id = "tnt_a";
    v.content = content;
    auto created = store_.create(std::move(v));
    EXPECT_TRUE(created);
    return *created;
  }

  // Records an evaluation of `evaluated_content` (by default the version's own) with `v`.
  void evaluate(const storage::PromptVersion& v,
                bool passed,
                std::optional<std::string> evaluated_content = std::nullopt,
                std::optional<std::string> report_version_id = std::nullopt) {
    EvalReport r;
    r.tenant_id = "tnt_a";
    r.version_id = report_version_id.value_or(v.id);
    r.version = v.version;
    r.content_sha256 = sha256Hex(evaluated_content.value_or(v.content));
    r.commit_id = std::string(40, 'a');
    r.cases_total = 2;
    r.cases_passed = passed ? 2 : 1;
    r.passed = passed;
    ASSERT_TRUE(store_.recordEval("tnt_a", v.id, toJson(r), passed));
  }

  std::string activeId() {
    auto active = activeVersion(*store_.list("tnt_a"));
    return active ? active->id : std::string();
  }

  std::string refusal(const std::string& selector) {
    auto r = promoteVersion(store_, "tnt_a", selector);
    EXPECT_FALSE(r);
    if (r) {
      return {};
    }
    EXPECT_EQ(r.error().code, ErrorCode::kConflict);
    return r.error().client_message;
  }

  livery::testing::FakeClock clock_;
  InMemoryPromptVersionStore store_{clock_};
};

TEST_F(PromoteTest, PromotesAVersionWhoseEvaluationOfThatContentPassed) {
  auto v1 = create("one");
  auto v2 = create("two");
  evaluate(v1, true);
  auto first = promoteVersion(store_, "tnt_a", "1");
  ASSERT_TRUE(first) << first.error().client_message;
  EXPECT_FALSE(first->previous);
  EXPECT_EQ(activeId(), v1.id);

  evaluate(v2, true);
  auto second = promoteVersion(store_, "tnt_a", "latest");
  ASSERT_TRUE(second) << second.error().client_message;
  ASSERT_TRUE(second->previous);
  EXPECT_EQ(second->previous->id, v1.id);
  EXPECT_EQ(activeId(), v2.id);

  auto again = promoteVersion(store_, "tnt_a", v2.id);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_active);
}

TEST_F(PromoteTest, RefusesAVersionThatWasNeverEvaluated) {
  auto v1 = create("one");
  evaluate(v1, true);
  ASSERT_TRUE(promoteVersion(store_, "tnt_a", "v1"));
  create("two");
  std::string why = refusal("v2");
  EXPECT_NE(why.find("refusing to promote v2: it has no recorded evaluation"), std::string::npos)
      << why;
  EXPECT_NE(why.find("v1 stays active"), std::string::npos) << why;
  EXPECT_EQ(activeId(), v1.id);
}

TEST_F(PromoteTest, RefusesAFailedEvaluationAndKeepsTheActiveVersion) {
  auto v1 = create("one");
  evaluate(v1, true);
  ASSERT_TRUE(promoteVersion(store_, "tnt_a", "1"));
  auto v2 = create("two");
  evaluate(v2, false);
  std::string why = refusal("2");
  EXPECT_NE(why.find("it failed its evaluation (1/2 cases passed, threshold 100%)"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("v1 stays active"), std::string::npos);
  EXPECT_EQ(activeId(), v1.id);
}

TEST_F(PromoteTest, RefusesAnEvaluationOfOtherContentOrOfAnotherVersion) {
  auto v1 = create("one");
  auto v2 = create("two");
  evaluate(v1, true, std::string("one, edited before the evaluation"));
  EXPECT_NE(refusal("1").find("different content"), std::string::npos);
  // A passing report copied from another version does not count either.
  evaluate(v2, true, std::string("two"), v1.id);
  EXPECT_NE(refusal("2").find("different content"), std::string::npos);
  EXPECT_NE(refusal("2").find("no version is active"), std::string::npos);
  EXPECT_EQ(activeId(), "");
}

TEST_F(PromoteTest, RefusesUnreadableOrInconsistentRecords) {
  auto v1 = create("one");
  ASSERT_TRUE(store_.recordEval("tnt_a", v1.id, "{not json", true));
  EXPECT_NE(refusal("1").find("cannot be read"), std::string::npos);

  evaluate(v1, true);
  // The stored flag says failed while the JSON says passed: the gate stays shut.
  auto list = store_.list("tnt_a");
  ASSERT_TRUE(store_.recordEval("tnt_a", v1.id, (*list)[0].eval_json, false));
  EXPECT_NE(refusal("1").find("failed its evaluation"), std::string::npos);
}

TEST_F(PromoteTest, SelectorsFindVersionsByNumberIdOrLatest) {
  auto v1 = create("one");
  auto v2 = create("two");
  auto list = *store_.list("tnt_a");
  EXPECT_EQ(findVersion(list, "latest")->id, v2.id);
  EXPECT_EQ(findVersion(list, "1")->id, v1.id);
  EXPECT_EQ(findVersion(list, "v2")->id, v2.id);
  EXPECT_EQ(findVersion(list, v1.id)->id, v1.id);
  EXPECT_EQ(findVersion(list, "3").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(findVersion(list, "v").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(findVersion(list, "").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(findVersion({}, "latest").error().code, ErrorCode::kNotFound);
}

TEST_F(PromoteTest, TheCommandExitsNonZeroWhenRefused) {
  auto v1 = create("one");
  evaluate(v1, false);
  std::ostringstream out;
  EXPECT_EQ(promoteCommand({{"tnt_a", "a"}, "1"}, store_, out), kExitBelowThreshold);
  EXPECT_NE(out.str().find("error: refusing to promote v1"), std::string::npos) << out.str();

  std::ostringstream missing;
  EXPECT_EQ(promoteCommand({{"tnt_a", "a"}, "9"}, store_, missing), kExitBadInput);

  evaluate(v1, true);
  std::ostringstream ok;
  EXPECT_EQ(promoteCommand({{"tnt_a", "a"}, "1"}, store_, ok), kExitOk);
  EXPECT_NE(ok.str().find("Promoted v1"), std::string::npos) << ok.str();
}

}  // namespace
}  // namespace livery::prompts
