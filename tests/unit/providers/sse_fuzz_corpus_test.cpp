// Replays the SSE fuzz target's seed corpus through its entry point in the normal build, so the
// corpus (and every crash input added to it) runs in CI without clang or libFuzzer.

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "unit/providers/golden_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
namespace livery::fuzz {
std::string checkSseInput(const std::uint8_t* data, std::size_t size);
}

namespace livery::providers {
namespace {

namespace fs = std::filesystem;

TEST(SseFuzzCorpusTest, EverySeedHoldsTheInvariants) {
  const fs::path dir = fs::path(LIVERY_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "sse_parser";
  ASSERT_TRUE(fs::is_directory(dir));
  std::size_t seeds = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string bytes = testing::readFile(entry.path());
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());  // NOLINT
    EXPECT_EQ(fuzz::checkSseInput(data, bytes.size()), "") << entry.path().filename();
    EXPECT_EQ(LLVMFuzzerTestOneInput(data, bytes.size()), 0);
    ++seeds;
  }
  EXPECT_GE(seeds, 8U);
}

}  // namespace
}  // namespace livery::providers
