#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "prompts/dataset.hpp"
#include "prompts/layout.hpp"
#include "whitelabel/prompt_template.hpp"

namespace livery::prompts {
namespace {

namespace fs = std::filesystem;

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// examples/prompts-repo is documentation, and documentation that does not parse misleads: every
// tenant folder in it must be a valid prompt, prompt.yaml and golden dataset.
TEST(ExampleRepositoryTest, EveryTenantFolderIsValid) {
  fs::path tenants = fs::path(LIVERY_SOURCE_DIR) / "examples" / "prompts-repo" / "tenants";
  ASSERT_TRUE(fs::is_directory(tenants)) << tenants;
  int folders = 0;
  for (const auto& entry : fs::directory_iterator(tenants)) {
    SCOPED_TRACE(entry.path().string());
    ++folders;
    std::string slug = entry.path().filename().string();
    ASSERT_TRUE(tenantPaths(slug));
    auto prompt = whitelabel::CompiledPrompt::compile(readAll(entry.path() / "prompt.md"), {});
    ASSERT_TRUE(prompt) << prompt.error().client_message;
    EXPECT_TRUE(prompt->unknownVariables().empty());
    auto meta = parsePromptMeta(readAll(entry.path() / "prompt.yaml"));
    ASSERT_TRUE(meta) << meta.error().client_message;
    auto dataset = parseGoldenDataset(readAll(entry.path() / "golden.jsonl"));
    ASSERT_TRUE(dataset) << dataset.error().client_message;
    EXPECT_TRUE(!dataset->usesJudge() || meta->judge);
  }
  EXPECT_GE(folders, 1);
}

}  // namespace
}  // namespace livery::prompts
