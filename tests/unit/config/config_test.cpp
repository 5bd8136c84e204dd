#include "config/config.hpp"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace livery::config {
namespace {

using testing::TempDir;
using testing::writeFile;

ConfigError loadError(const LoadOptions& o) {
  try {
    load(o);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

TEST(ConfigTest, DefaultsAreTheEmbeddedSetup) {
  auto c = load({});
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, ".livery");
  EXPECT_EQ(c.storage.backend, "sqlite");
  EXPECT_EQ(c.http.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.http.max_header_bytes, 16u * 1024);
  EXPECT_GE(c.resolvedThreads(), 1);
}

TEST(ConfigTest, ReadsNestedKeysFromYaml) {
  TempDir dir;
  writeFile(dir.file("c.yaml"),
            "listen: 0.0.0.0:9000\n"
            "http:\n"
            "  max_body_bytes: 2MiB\n"
            "  read_timeout: 1500ms\n"
            "  trusted_proxies: [10.0.0.0/8, 127.0.0.1/32]\n"
            "metering:\n"
            "  prices:\n"
            "    my-model: {input: 1.5, output: 3, cached_input: 0.5}\n");
  auto c = load({.file = dir.file("c.yaml")});
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.http.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.http.read_timeout, std::chrono::milliseconds(1500));
  ASSERT_EQ(c.http.trusted_proxies.size(), 2u);
  EXPECT_EQ(c.http.trusted_proxies[1], "127.0.0.1/32");
  EXPECT_DOUBLE_EQ(c.metering.prices.at("my-model").output_per_mtok, 3.0);
}

TEST(ConfigTest, UnknownKeyNamesFileKeyAndLine) {
  TempDir dir;
  writeFile(dir.file("c.yaml"), "listen: 127.0.0.1:1\nhttp:\n  max_body_bytez: 5\n");
  auto e = loadError({.file = dir.file("c.yaml")});
  EXPECT_EQ(e.key, "http.max_body_bytez");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.source, dir.file("c.yaml"));
  auto text = e.describe();
  EXPECT_NE(text.find("c.yaml:3"), std::string::npos);
  EXPECT_NE(text.find("http.max_body_bytez"), std::string::npos);
  EXPECT_NE(text.find("unknown key"), std::string::npos);
}

TEST(ConfigTest, WrongTypeIsReportedWithTheKey) {
  TempDir dir;
  writeFile(dir.file("c.yaml"), "threads: many\n");
  auto e = loadError({.file = dir.file("c.yaml")});
  EXPECT_EQ(e.key, "threads");
  EXPECT_EQ(e.line, 1);
  EXPECT_NE(e.message.find("integer"), std::string::npos);

  writeFile(dir.file("d.yaml"), "http:\n  read_timeout: soon\n");
  auto d = loadError({.file = dir.file("d.yaml")});
  EXPECT_EQ(d.key, "http.read_timeout");
  EXPECT_EQ(d.line, 2);

  writeFile(dir.file("e.yaml"), "http: 5\n");
  EXPECT_EQ(loadError({.file = dir.file("e.yaml")}).key, "http");
}

TEST(ConfigTest, UnreadableFileAndSyntaxErrorsAreClear) {
  auto e = loadError({.file = "/nonexistent/livery.yaml"});
  EXPECT_NE(e.describe().find("cannot read"), std::string::npos);
  TempDir dir;
  writeFile(dir.file("bad.yaml"), "listen: [unclosed\n");
  auto s = loadError({.file = dir.file("bad.yaml")});
  EXPECT_NE(s.message.find("YAML syntax error"), std::string::npos);
  EXPECT_GT(s.line, 0);
}

TEST(ConfigTest, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  TempDir dir;
  writeFile(dir.file("c.yaml"), "listen: 127.0.0.1:1000\nthreads: 3\n");
  LoadOptions o{.file = dir.file("c.yaml"),
                .environment = {{"LIVERY_LISTEN", "127.0.0.1:2000"},
                                {"LIVERY_HTTP_MAX_BODY_BYTES", "1KiB"},
                                {"LIVERY_TEST_PG_URL", "ignored"}},
                .flags = {{"listen", "127.0.0.1:3000"}}};
  auto c = load(o);
  EXPECT_EQ(c.listen, "127.0.0.1:3000");
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.http.max_body_bytes, 1024u);
}

TEST(ConfigTest, UnknownEnvironmentVariableIsRejected) {
  auto e = loadError({.environment = {{"LIVERY_HTTP_MAX_BODY", "1"}}});
  EXPECT_EQ(e.key, "LIVERY_HTTP_MAX_BODY");
  EXPECT_EQ(e.source, "environment");
}

TEST(ConfigTest, ValidationCatchesInconsistentSettings) {
  EXPECT_EQ(loadError({.flags = {{"listen", "nope"}}}).key, "listen");
  EXPECT_EQ(loadError({.flags = {{"storage.backend", "mysql"}}}).key, "storage.backend");
  EXPECT_EQ(loadError({.flags = {{"storage.backend", "postgres"}}}).key, "storage.postgres_url");
  EXPECT_EQ(loadError({.flags = {{"limits.backend", "redis"}}}).key, "redis.url");
}

TEST(ConfigTest, ParsesDurationsAndSizes) {
  EXPECT_EQ(parseDuration("30s"), Duration(30'000));
  EXPECT_EQ(parseDuration("250ms"), Duration(250));
  EXPECT_EQ(parseDuration("5m"), Duration(300'000));
  EXPECT_EQ(parseDuration("1.5h"), Duration(5'400'000));
  EXPECT_EQ(parseDuration("12"), Duration(12'000));
  EXPECT_FALSE(parseDuration("5 parsecs"));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_EQ(parseSize("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(parseSize("16KiB"), 16u * 1024);
  EXPECT_EQ(parseSize("4096"), 4096u);
  EXPECT_EQ(parseSize("1MB"), 1'000'000u);
  EXPECT_FALSE(parseSize("lots"));
  EXPECT_FALSE(parseSize("99999999999999999999GiB"));
}

TEST(ConfigTest, DescribeKeysCoversEveryKeyAndHidesSecrets) {
  auto keys = describeKeys();
  bool saw_listen = false;
  for (const auto& [k, d] : keys) {
    if (k == "listen") {
      saw_listen = true;
      EXPECT_NE(d.find("LIVERY_LISTEN"), std::string::npos);
    }
    if (k == "storage.postgres_url") {
      EXPECT_NE(d.find("(secret)"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_listen);
}

}  // namespace
}  // namespace livery::config

namespace livery::config {
namespace {

// config/livery.example.yaml is the documented full file: it must load, and it must mention every
// key the binary knows (a new key without documentation fails here).
TEST(ConfigExampleTest, TheExampleFileLoadsAndDocumentsEveryKey) {
  const std::string path = std::string(LIVERY_SOURCE_DIR) + "/config/livery.example.yaml";
  LoadOptions o;
  o.file = path;
  Config c = load(o);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");

  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& [key, description] : describeKeys()) {
    const auto dot = key.rfind('.');
    const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
    EXPECT_NE(text.find(leaf + ":"), std::string::npos) << key << " is not in " << path;
  }
}

}  // namespace
}  // namespace livery::config
