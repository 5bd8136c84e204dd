#include "prompts/json_schema.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace livery::prompts {
namespace {

namespace json = boost::json;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/prompts/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e + "\n";
  }
  return out;
}

// tests/fixtures/prompts/schemas.jsonl: one schema per line with instances that must validate
// (or fail with a message containing `error`), or a `compile_error` the schema must produce.
TEST(JsonSchemaTest, FixturesBehaveAsDocumented) {
  std::istringstream lines(fixture("schemas.jsonl"));
  std::string line;
  int schemas = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    json::object fx = json::parse(line).as_object();
    std::string name(fx.at("name").as_string());
    SCOPED_TRACE(name);
    ++schemas;
    auto schema = JsonSchema::compile(fx.at("schema"));
    if (const json::value* expected = fx.if_contains("compile_error")) {
      ASSERT_FALSE(schema) << "compiled but should not";
      EXPECT_EQ(schema.error().code, ErrorCode::kUnprocessable);
      EXPECT_NE(schema.error().client_message.find(std::string(expected->as_string())),
                std::string::npos)
          << schema.error().client_message;
      continue;
    }
    ASSERT_TRUE(schema) << schema.error().client_message;
    for (const auto& c : fx.at("cases").as_array()) {
      const json::object& co = c.as_object();
      auto errors = schema->validate(co.at("instance"));
      SCOPED_TRACE(json::serialize(co.at("instance")));
      if (co.at("valid").as_bool()) {
        EXPECT_TRUE(errors.empty()) << joined(errors);
      } else {
        ASSERT_FALSE(errors.empty());
        if (const json::value* msg = co.if_contains("error")) {
          EXPECT_NE(joined(errors).find(std::string(msg->as_string())), std::string::npos)
              << joined(errors);
        }
      }
    }
  }
  EXPECT_GE(schemas, 35);
}

TEST(JsonSchemaTest, CollectsSeveralErrorsUpToTheLimit) {
  auto schema = JsonSchema::compile(json::parse(
      R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["c"]})"));
  ASSERT_TRUE(schema);
  auto errors = schema->validate(json::parse(R"({"a":1,"b":2})"));
  EXPECT_EQ(errors.size(), 3U) << joined(errors);

  SchemaLimits limits;
  limits.max_errors = 1;
  auto small = JsonSchema::compile(json::parse(R"({"items":{"type":"string"}})"), limits);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->validate(json::parse("[1,2,3,4]")).size(), 1U);
}

TEST(JsonSchemaTest, RejectsSchemasNestedDeeperThanTheLimit) {
  std::string deep = R"({"type":"string"})";
  for (int i = 0; i < 40; ++i) {
    deep = R"({"properties":{"a":)" + deep + "}}";
  }
  json::parse_options opts;
  opts.max_depth = 200;
  auto schema = JsonSchema::compile(json::parse(deep, {}, opts));
  ASSERT_FALSE(schema);
  EXPECT_NE(schema.error().client_message.find("nested deeper than"), std::string::npos);
}

TEST(JsonSchemaTest, RejectsSchemasWithTooManySubschemas) {
  json::object props;
  for (int i = 0; i < 3000; ++i) {
    props["p" + std::to_string(i)] = json::object{{"type", "string"}};
  }
  auto schema = JsonSchema::compile(json::object{{"properties", props}});
  ASSERT_FALSE(schema);
  EXPECT_NE(schema.error().client_message.find("subschemas"), std::string::npos);
}

// a0 = allOf[a1, a1], a1 = allOf[a2, a2] ... : acyclic, but 2^30 applications. The step budget
// stops it quickly and the instance is reported invalid, never valid.
TEST(JsonSchemaTest, ExponentialRefFanOutHitsTheStepBudget) {
  json::object defs;
  for (int i = 0; i < 30; ++i) {
    std::string next = "#/$defs/a" + std::to_string(i + 1);
    defs["a" + std::to_string(i)] = json::object{
        {"allOf", json::array{json::object{{"$ref", next}}, json::object{{"$ref", next}}}}};
  }
  defs["a30"] = json::object{{"type", "string"}};
  auto schema = JsonSchema::compile(json::object{{"$defs", defs}, {"$ref", "#/$defs/a0"}});
  ASSERT_TRUE(schema) << schema.error().client_message;
  auto start = std::chrono::steady_clock::now();
  auto errors = schema->validate(json::value("fine"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(joined(errors).find("exceeded its budget"), std::string::npos) << joined(errors);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

// std::regex (valijson's engine) needs exponential time here; RE2 is linear.
TEST(JsonSchemaTest, CatastrophicPatternRunsInLinearTime) {
  auto schema = JsonSchema::compile(json::parse(R"({"type":"string","pattern":"^(a+)+$"})"));
  ASSERT_TRUE(schema);
  std::string hostile(100'000, 'a');
  hostile += 'b';
  auto start = std::chrono::steady_clock::now();
  auto errors = schema->validate(json::value(hostile));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(errors.size(), 1U);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(JsonSchemaTest, DeepInstancesAgainstARecursiveSchemaStayBounded) {
  auto schema = JsonSchema::compile(json::parse(R"({"items":{"$ref":"#"}})"));
  ASSERT_TRUE(schema);
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  json::parse_options opts;
  opts.max_depth = 2000;
  auto errors = schema->validate(json::parse(deep, {}, opts));
  ASSERT_FALSE(errors.empty());  // the recursion cap is reached: reported, never a crash or pass
  EXPECT_NE(joined(errors).find("budget"), std::string::npos);
}

TEST(JsonSchemaTest, CompiledSchemasAreSharedAcrossCopies) {
  auto schema = JsonSchema::compile(json::parse(R"({"type":"string"})"));
  ASSERT_TRUE(schema);
  JsonSchema copy = *schema;
  EXPECT_TRUE(copy.validate(json::value("x")).empty());
  EXPECT_FALSE(copy.validate(json::value(1)).empty());
}

}  // namespace
}  // namespace livery::prompts
