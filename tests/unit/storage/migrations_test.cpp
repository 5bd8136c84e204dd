#include "storage/migrations.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace livery::storage {
namespace {

std::set<std::string> objects(std::string_view sql, const std::string& pattern) {
  std::set<std::string> names;
  const std::string text(sql);
  const std::regex re(pattern, std::regex::icase);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

std::string all(Dialect d) {
  std::string sql;
  for (const auto& m : embeddedMigrations(d)) {
    sql += m.sql;
  }
  return sql;
}

TEST(MigrationsTest, BothDialectsEmbedTheSameVersionsInOrder) {
  const auto sqlite = embeddedMigrations(Dialect::kSqlite);
  const auto postgres = embeddedMigrations(Dialect::kPostgres);
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
    EXPECT_EQ(sqlite[i].name, postgres[i].name);
    EXPECT_FALSE(sqlite[i].sql.empty());
  }
}

// The two schemas are written by hand; this catches a table, column or index added to one
// dialect and forgotten in the other.
TEST(MigrationsTest, DialectsDefineTheSameTablesIndexesAndColumns) {
  const std::string sqlite = all(Dialect::kSqlite);
  const std::string postgres = all(Dialect::kPostgres);
  const std::string table = R"(CREATE TABLE (\w+))";
  const std::string index = R"(CREATE (?:UNIQUE )?INDEX (\w+))";
  const std::string column = R"(\n  (\w+)\s+(?:TEXT|INTEGER|BIGINT|BLOB|BYTEA))";
  EXPECT_EQ(objects(sqlite, table), objects(postgres, table));
  EXPECT_EQ(objects(sqlite, index), objects(postgres, index));
  EXPECT_EQ(objects(sqlite, column), objects(postgres, column));
  EXPECT_GE(objects(sqlite, table).size(), 18u);
  EXPECT_GE(objects(sqlite, column).size(), 80u);  // the pattern really matches columns
}

TEST(MigrationsTest, SchemaCoversEveryModelTable) {
  const auto tables = objects(all(Dialect::kSqlite), R"(CREATE TABLE (\w+))");
  for (const char* t : {"plans",
                        "tenants",
                        "operator_tokens",
                        "api_keys",
                        "credentials",
                        "jwt_keys",
                        "domains",
                        "branding",
                        "assets",
                        "prompt_versions",
                        "routes",
                        "usage_records",
                        "alerts",
                        "audit_log",
                        "changes",
                        "users",
                        "sessions",
                        "conversations"}) {
    EXPECT_TRUE(tables.count(t)) << t;
  }
}

}  // namespace
}  // namespace livery::storage
