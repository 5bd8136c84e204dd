#include "prompts/layout.hpp"

#include <string>

#include <gtest/gtest.h>

namespace livery::prompts {
namespace {

std::string metaError(const std::string& yaml) {
  auto meta = parsePromptMeta(yaml);
  EXPECT_FALSE(meta) << yaml;
  return meta ? std::string() : meta.error().client_message;
}

TEST(PromptMetaTest, ParsesEverySetting) {
  auto meta = parsePromptMeta(R"(
description: Support assistant for Acme
eval:
  model: gpt-4o-mini
  threshold: 0.9
  concurrency: 8
  case_timeout_s: 30
  temperature: 0
  max_tokens: 512
judge:
  model: anthropic/claude-sonnet
  temperature: 0.2
  max_tokens: 128
)");
  ASSERT_TRUE(meta) << meta.error().client_message;
  EXPECT_EQ(meta->description, "Support assistant for Acme");
  EXPECT_EQ(meta->model, "gpt-4o-mini");
  EXPECT_DOUBLE_EQ(meta->threshold, 0.9);
  EXPECT_EQ(meta->concurrency, 8U);
  EXPECT_EQ(meta->case_timeout, std::chrono::seconds(30));
  EXPECT_EQ(meta->temperature, 0.0);
  EXPECT_EQ(meta->max_tokens, 512U);
  ASSERT_TRUE(meta->judge);
  EXPECT_EQ(meta->judge->model, "anthropic/claude-sonnet");
  EXPECT_DOUBLE_EQ(meta->judge->temperature, 0.2);
  EXPECT_EQ(meta->judge->max_tokens, 128U);
}

TEST(PromptMetaTest, DefaultsRequireEveryCaseToPass) {
  auto meta = parsePromptMeta("eval:\n  model: gpt-4o\n");
  ASSERT_TRUE(meta) << meta.error().client_message;
  EXPECT_DOUBLE_EQ(meta->threshold, 1.0);
  EXPECT_EQ(meta->concurrency, 4U);
  EXPECT_EQ(meta->case_timeout, std::chrono::seconds(60));
  EXPECT_FALSE(meta->temperature);
  EXPECT_FALSE(meta->judge);
}

TEST(PromptMetaTest, ErrorsNameTheLineAndTheProblem) {
  EXPECT_NE(metaError("description: x\n").find("'eval' section"), std::string::npos);
  EXPECT_NE(metaError("eval:\n  threshold: 1\n").find("eval.model is required"), std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\n  threshhold: 0.5\n")
                .find("line 3: unknown key 'threshhold' in eval"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\n  threshold: 1.5\n").find("line 3: eval.threshold"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\n  threshold: 0\n").find("greater than 0"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\n  concurrency: 64\n").find("1 to 16"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\n  case_timeout_s: 2.5\n").find("integer"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: \"gpt 4o; rm -rf\"\n").find("model name"),
            std::string::npos);
  EXPECT_NE(metaError("eval:\n  model: gpt-4o\njudge:\n  temperature: 0\n").find("judge.model"),
            std::string::npos);
  EXPECT_NE(metaError("eval: [unclosed\n").find("prompt.yaml line"), std::string::npos);
  EXPECT_NE(metaError("extra: 1\neval:\n  model: m\n").find("line 1: unknown key 'extra'"),
            std::string::npos);
  metaError("");
  metaError("- a\n- b\n");
  metaError("eval:\n  model: [a, b]\n");
}

TEST(PromptMetaTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '[');
  std::string message = metaError("eval: " + deep + "\n");
  EXPECT_FALSE(message.empty());
}

TEST(TenantPathsTest, BuildsTheLayoutForValidSlugsOnly) {
  auto p = tenantPaths("acme-eu");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dir, "tenants/acme-eu");
  EXPECT_EQ(p->prompt, "tenants/acme-eu/prompt.md");
  EXPECT_EQ(p->meta, "tenants/acme-eu/prompt.yaml");
  EXPECT_EQ(p->dataset, "tenants/acme-eu/golden.jsonl");
  for (const char* bad : {"", "a", "../acme", "acme/x", "Acme", "acme.", "-acme", "xn--acme"}) {
    SCOPED_TRACE(bad);
    auto r = tenantPaths(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  }
}

}  // namespace
}  // namespace livery::prompts
