#include "prompts/dataset.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace livery::prompts {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/prompts/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kCase =
    R"({"id":"c","messages":[{"role":"user","content":"hi"}],"assert":[{"type":"contains","value":"a"}]})";

TEST(GoldenDatasetTest, ParsesCasesWithTheirLinesMessagesAndAssertions) {
  std::string text = fixture("datasets/valid.jsonl");
  auto ds = parseGoldenDataset(text);
  ASSERT_TRUE(ds) << ds.error().client_message;
  ASSERT_EQ(ds->cases.size(), 3U);
  EXPECT_EQ(ds->cases[0].id, "greets");
  EXPECT_EQ(ds->cases[0].line, 1U);
  EXPECT_EQ(ds->cases[0].description, "A greeting names the brand");
  EXPECT_EQ(ds->cases[1].line, 3U);  // the blank line 2 is skipped
  EXPECT_EQ(ds->cases[1].user, "ana-42");
  ASSERT_EQ(ds->cases[1].messages.size(), 4U);
  EXPECT_EQ(ds->cases[1].messages[2], (ChatMessage{"assistant", "Our catalogue."}));
  EXPECT_EQ(ds->cases[1].assertions[1].kind, AssertionKind::kJudge);
  EXPECT_EQ(ds->cases[2].assertions.size(), 3U);
  EXPECT_TRUE(ds->usesJudge());
  EXPECT_EQ(ds->sha256, sha256Hex(text));
  EXPECT_EQ(ds->sha256.size(), 64U);
}

TEST(GoldenDatasetTest, AcceptsCrlfLineEndings) {
  auto ds = parseGoldenDataset(
      kCase + "\r\n\r\n" +
      R"({"id":"d","messages":[{"role":"user","content":"hi"}],"assert":[{"type":"contains","value":"a"}]})" +
      "\r\n");
  ASSERT_TRUE(ds) << ds.error().client_message;
  EXPECT_EQ(ds->cases.size(), 2U);
  EXPECT_EQ(ds->cases[1].line, 3U);
  EXPECT_FALSE(ds->usesJudge());
}

TEST(GoldenDatasetTest, ReportsEveryProblemWithItsLineNumber) {
  auto ds = parseGoldenDataset(fixture("datasets/malformed.jsonl"), "tenants/acme/golden.jsonl");
  ASSERT_FALSE(ds);
  EXPECT_EQ(ds.error().code, ErrorCode::kUnprocessable);
  const std::string& m = ds.error().client_message;
  for (const char* expected : {
           "tenants/acme/golden.jsonl: 10 problems:",
           "line 2: not valid JSON",
           "line 3: \"id\" must be a string of 1 to 128 characters",
           "line 5: duplicate id 'dup'",
           "line 6: \"assert\" must be a non-empty array",
           "line 7: unknown key 'asert'",
           "line 8: messages[0]: \"role\" must be",
           "line 9: \"messages\" needs at least one user message",
           "line 10: assert[1]: regex: invalid regex",
           "line 11: a case must be a JSON object",
           "line 13: messages[0]: \"content\" must be a string",
       }) {
    EXPECT_NE(m.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << m;
  }
  EXPECT_EQ(m.find("line 1:"), std::string::npos) << m;
  EXPECT_EQ(m.find("line 4:"), std::string::npos) << m;
}

TEST(GoldenDatasetTest, AnEmptyDatasetIsAProblem) {
  for (const char* text : {"", "\n\n", "   \n"}) {
    auto ds = parseGoldenDataset(text);
    ASSERT_FALSE(ds);
    EXPECT_NE(ds.error().client_message.find("no cases"), std::string::npos);
  }
}

TEST(GoldenDatasetTest, BoundsCasesLinesMessagesAndProblems) {
  DatasetLimits limits;
  limits.max_cases = 2;
  std::string three;
  for (int i = 0; i < 3; ++i) {
    three +=
        R"({"id":"c)" + std::to_string(i) +
        R"(","messages":[{"role":"user","content":"hi"}],"assert":[{"type":"contains","value":"a"}]})" +
        "\n";
  }
  auto ds = parseGoldenDataset(three, "golden.jsonl", limits);
  ASSERT_FALSE(ds);
  EXPECT_NE(ds.error().client_message.find("line 3: more than 2 cases"), std::string::npos);

  limits = {};
  limits.max_line_bytes = 50;
  ds = parseGoldenDataset(kCase, "golden.jsonl", limits);
  ASSERT_FALSE(ds);
  EXPECT_NE(ds.error().client_message.find("longer than 50 bytes"), std::string::npos);

  limits = {};
  limits.max_messages = 1;
  ds = parseGoldenDataset(
      R"({"id":"c","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}],"assert":[{"type":"contains","value":"a"}]})",
      "golden.jsonl",
      limits);
  ASSERT_FALSE(ds);
  EXPECT_NE(ds.error().client_message.find("more than 1 messages"), std::string::npos);

  limits = {};
  limits.max_problems = 2;
  ds = parseGoldenDataset("x\ny\nz\nw\n", "golden.jsonl", limits);
  ASSERT_FALSE(ds);
  EXPECT_NE(ds.error().client_message.find("4 problems"), std::string::npos);
  EXPECT_NE(ds.error().client_message.find("(2 more not shown)"), std::string::npos);
}

TEST(GoldenDatasetTest, RejectsInvalidUtf8) {
  std::string bad =
      R"({"id":"c","messages":[{"role":"user","content":"\xff"}],"assert":[{"type":"contains","value":"a"}]})";
  bad[bad.find("\\xff")] = static_cast<char>(0xff);
  auto ds = parseGoldenDataset(bad);
  ASSERT_FALSE(ds);
  EXPECT_NE(ds.error().client_message.find("line 1: not valid JSON"), std::string::npos);
}

TEST(GoldenDatasetTest, Sha256MatchesAKnownVector) {
  // FIPS 180-2 example "abc".
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace livery::prompts
