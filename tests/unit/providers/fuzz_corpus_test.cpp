// Replays the fuzz targets' seed corpora through their entry points in the normal build, so the
// corpora (and every crash input added to them) run in CI without clang or libFuzzer.

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "unit/providers/golden_support.hpp"

namespace livery::fuzz {
std::string checkSseInput(const std::uint8_t* data, std::size_t size);
int sseParserFuzzOne(const std::uint8_t* data, std::size_t size);
std::string checkChatInput(const std::uint8_t* data, std::size_t size);
int chatRequestFuzzOne(const std::uint8_t* data, std::size_t size);
}  // namespace livery::fuzz

namespace livery::providers {
namespace {

namespace fs = std::filesystem;

template <class Check, class Entry>
void replay(std::string_view corpus, Check check, Entry entry, std::size_t min_seeds) {
  const fs::path dir = fs::path(LIVERY_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / corpus;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::size_t seeds = 0;
  for (const auto& file : fs::directory_iterator(dir)) {
    std::string bytes = testing::readFile(file.path());
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());  // NOLINT
    EXPECT_EQ(check(data, bytes.size()), "") << file.path().filename();
    EXPECT_EQ(entry(data, bytes.size()), 0);
    ++seeds;
  }
  EXPECT_GE(seeds, min_seeds);
}

TEST(FuzzCorpusTest, EverySseSeedHoldsTheInvariants) {
  replay("sse_parser", fuzz::checkSseInput, fuzz::sseParserFuzzOne, 8);
}

TEST(FuzzCorpusTest, EveryChatRequestSeedHoldsTheInvariants) {
  replay("chat_request", fuzz::checkChatInput, fuzz::chatRequestFuzzOne, 30);
}

}  // namespace
}  // namespace livery::providers
