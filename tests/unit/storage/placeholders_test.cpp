#include "storage/postgres/placeholders.hpp"

#include <gtest/gtest.h>

namespace livery::storage {
namespace {

TEST(PlaceholdersTest, RewritesEachQuestionMarkInOrder) {
  auto r = rewritePlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)");
  EXPECT_EQ(r.sql, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(r.parameters, 3);
}

TEST(PlaceholdersTest, CountsBeyondNine) {
  std::string sql = "VALUES (";
  for (int i = 0; i < 12; ++i) {
    sql += i == 0 ? "?" : ",?";
  }
  sql += ")";
  auto r = rewritePlaceholders(sql);
  EXPECT_EQ(r.parameters, 12);
  EXPECT_NE(r.sql.find("$10,$11,$12)"), std::string::npos);
}

TEST(PlaceholdersTest, IgnoresQuestionMarksInStringLiterals) {
  auto r = rewritePlaceholders("SELECT 'what?', 'it''s ?', ? FROM t");
  EXPECT_EQ(r.sql, "SELECT 'what?', 'it''s ?', $1 FROM t");
  EXPECT_EQ(r.parameters, 1);
}

TEST(PlaceholdersTest, HonoursBackslashEscapesOnlyInEStrings) {
  // In E'…' a \' does not end the literal; in a plain literal a backslash is ordinary.
  auto e = rewritePlaceholders(R"(SELECT E'a\'?b', ?)");
  EXPECT_EQ(e.sql, R"(SELECT E'a\'?b', $1)");
  auto plain = rewritePlaceholders(R"(SELECT 'a\', ?)");
  EXPECT_EQ(plain.sql, R"(SELECT 'a\', $1)");
}

TEST(PlaceholdersTest, IgnoresQuotedIdentifiersAndComments) {
  auto r = rewritePlaceholders(
      "SELECT \"odd?name\", ? -- trailing ?\n FROM t /* block ? /* nested ? */ still ? */ WHERE x "
      "= ?");
  EXPECT_EQ(r.sql,
            "SELECT \"odd?name\", $1 -- trailing ?\n FROM t /* block ? /* nested ? */ still ? */ "
            "WHERE x = $2");
  EXPECT_EQ(r.parameters, 2);
}

TEST(PlaceholdersTest, IgnoresDollarQuotedStrings) {
  auto r = rewritePlaceholders("SELECT $$a ? b$$, $tag$ ? $tag$, ?");
  EXPECT_EQ(r.sql, "SELECT $$a ? b$$, $tag$ ? $tag$, $1");
  EXPECT_EQ(r.parameters, 1);
}

TEST(PlaceholdersTest, LeavesExistingPositionalParametersAlone) {
  auto r = rewritePlaceholders("SELECT $1");
  EXPECT_EQ(r.sql, "SELECT $1");
  EXPECT_EQ(r.parameters, 0);
}

TEST(PlaceholdersTest, SurvivesUnterminatedLiterals) {
  EXPECT_EQ(rewritePlaceholders("SELECT 'abc ?").sql, "SELECT 'abc ?");
  EXPECT_EQ(rewritePlaceholders("SELECT /* ?").sql, "SELECT /* ?");
  EXPECT_EQ(rewritePlaceholders("SELECT \"?").sql, "SELECT \"?");
  EXPECT_EQ(rewritePlaceholders("SELECT $x$ ?").sql, "SELECT $x$ ?");
}

}  // namespace
}  // namespace livery::storage
