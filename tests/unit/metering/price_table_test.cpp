#include "metering/price_table.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace livery::metering {
namespace {

constexpr std::int64_t kUsd = 1'000'000;  // ModelPrice units per USD/MTok

std::string matched(const PriceTable& t, std::string_view model) {
  auto m = t.find(model);
  return m ? m->model : std::string("<none>");
}

TEST(PriceTableTest, BuiltinCoversTheCommonModels) {
  PriceTable t = PriceTable::builtin();
  for (std::string_view model : {"gpt-4o",
                                 "gpt-4o-mini",
                                 "gpt-4.1",
                                 "gpt-4.1-mini",
                                 "gpt-4.1-nano",
                                 "o1",
                                 "o3-mini",
                                 "text-embedding-3-small",
                                 "text-embedding-3-large",
                                 "claude-3-5-sonnet",
                                 "claude-3-5-haiku",
                                 "claude-sonnet-4",
                                 "claude-3-opus",
                                 "claude-opus-4",
                                 "claude-3-haiku"}) {
    auto m = t.find(model);
    ASSERT_TRUE(m) << model;
    EXPECT_TRUE(m->exact) << model;
    EXPECT_GT(m->price.input, 0) << model;
    EXPECT_GT(m->price.cached_input, 0) << model;
    EXPECT_LE(m->price.cached_input, m->price.input) << model;
  }
  EXPECT_EQ(t.find("gpt-4o")->price, (ModelPrice{2'500'000, 10'000'000, 1'250'000}));
  EXPECT_EQ(t.find("gpt-4o-mini")->price, (ModelPrice{150'000, 600'000, 75'000}));
  EXPECT_EQ(t.find("claude-3-5-sonnet")->price, (ModelPrice{3 * kUsd, 15 * kUsd, 300'000}));
  EXPECT_EQ(t.find("text-embedding-3-small")->price.output, 0);
  EXPECT_FALSE(kBuiltinPricesAsOf.empty());
}

TEST(PriceTableTest, DatedAndDecoratedNamesMatchTheirFamily) {
  PriceTable t = PriceTable::builtin();
  EXPECT_EQ(matched(t, "gpt-4o-2024-08-06"), "gpt-4o");
  EXPECT_EQ(matched(t, "gpt-4o-2024-11-20"), "gpt-4o");
  EXPECT_EQ(matched(t, "gpt-4o-2024-05-13"), "gpt-4o-2024-05-13");  // exact beats prefix
  EXPECT_EQ(matched(t, "gpt-4o-mini-2024-07-18"), "gpt-4o-mini");   // longest prefix
  EXPECT_EQ(matched(t, "gpt-4.1-2025-04-14"), "gpt-4.1");
  EXPECT_EQ(matched(t, "gpt-4.1-mini-2025-04-14"), "gpt-4.1-mini");
  EXPECT_EQ(matched(t, "o3-mini-2025-01-31"), "o3-mini");
  EXPECT_EQ(matched(t, "o1-2024-12-17"), "o1");
  EXPECT_EQ(matched(t, "o1-preview"), "o1");
  EXPECT_EQ(matched(t, "gpt-4-0613"), "gpt-4");
  EXPECT_EQ(matched(t, "gpt-4-turbo-2024-04-09"), "gpt-4-turbo");
  EXPECT_EQ(matched(t, "gpt-4-turbo-preview"), "gpt-4-turbo");
  EXPECT_EQ(matched(t, "gpt-3.5-turbo-0125"), "gpt-3.5-turbo");
  EXPECT_EQ(matched(t, "GPT-4o"), "gpt-4o");
  EXPECT_EQ(matched(t, "openai/gpt-4o-mini"), "gpt-4o-mini");
  EXPECT_EQ(matched(t, "claude-3-5-sonnet-20241022"), "claude-3-5-sonnet");
  EXPECT_EQ(matched(t, "claude-3-5-sonnet-latest"), "claude-3-5-sonnet");
  EXPECT_EQ(matched(t, "claude-3-5-haiku-20241022"), "claude-3-5-haiku");
  EXPECT_EQ(matched(t, "claude-3-7-sonnet-20250219"), "claude-3-7-sonnet");
  EXPECT_EQ(matched(t, "claude-sonnet-4-20250514"), "claude-sonnet-4");
  EXPECT_EQ(matched(t, "claude-sonnet-4-0"), "claude-sonnet-4");
  EXPECT_EQ(matched(t, "claude-sonnet-4-5-20250929"), "claude-sonnet-4-5");
  EXPECT_EQ(matched(t, "claude-opus-4-1-20250805"), "claude-opus-4-1");
  EXPECT_EQ(matched(t, "claude-3-opus-20240229"), "claude-3-opus");
  EXPECT_EQ(matched(t, "anthropic/claude-3-5-haiku-latest"), "claude-3-5-haiku");
  EXPECT_EQ(matched(t, "us.anthropic.claude-3-5-sonnet-20240620-v1:0"), "claude-3-5-sonnet");
  EXPECT_EQ(matched(t, "claude-3-5-sonnet-v2@20241022"), "claude-3-5-sonnet");
  EXPECT_FALSE(t.find("gpt-4o-2024-08-06")->exact);
  EXPECT_TRUE(t.find("gpt-4o")->exact);
}

TEST(PriceTableTest, OtherModelsDoNotBorrowAFamilyPrice) {
  PriceTable t = PriceTable::builtin();
  for (std::string_view model : {"gpt-4o-audio-preview",
                                 "gpt-4o-realtime-preview-2024-10-01",
                                 "gpt-4oo",
                                 "gpt-4o-2024-08-06x",
                                 "gpt-4o-20240806123",
                                 "llama3",
                                 "mistral-large",
                                 "claude",
                                 "claude-3",
                                 "o1x",
                                 "",
                                 "   ",
                                 "gpt-4o-mini-tts",
                                 "text-embedding-3-small-extra"}) {
    EXPECT_FALSE(t.find(model)) << model << " -> " << matched(t, model);
    EXPECT_FALSE(t.costMicroUsd(model, {.prompt_tokens = 1000}));
  }
}

TEST(PriceTableTest, CostIsExactIntegerMicroUsd) {
  ModelPrice gpt4o{2'500'000, 10'000'000, 1'250'000};
  EXPECT_EQ(costMicroUsd(gpt4o, {.prompt_tokens = 1'000'000}), 2'500'000);  // $2.50
  EXPECT_EQ(costMicroUsd(gpt4o, {.completion_tokens = 1'000'000}), 10'000'000);
  EXPECT_EQ(costMicroUsd(gpt4o, {.prompt_tokens = 1000, .completion_tokens = 500}), 2500 + 5000);
  EXPECT_EQ(costMicroUsd(gpt4o, {}), 0);
}

TEST(PriceTableTest, CachedTokensAreBilledAtTheCachedRate) {
  ModelPrice gpt4o{2'500'000, 10'000'000, 1'250'000};
  // 600 uncached x 2.5 + 400 cached x 1.25 + 500 x 10 micro-USD.
  EXPECT_EQ(
      costMicroUsd(gpt4o, {.prompt_tokens = 1000, .completion_tokens = 500, .cached_tokens = 400}),
      1500 + 500 + 5000);
  // Cached tokens are part of prompt_tokens; more cached than prompt is clamped.
  EXPECT_EQ(costMicroUsd(gpt4o, {.prompt_tokens = 100, .cached_tokens = 1000}), 125);
  PriceTable t = PriceTable::builtin();
  EXPECT_EQ(
      t.costMicroUsd("claude-3-5-sonnet-20241022",
                     {.prompt_tokens = 10'000, .completion_tokens = 1000, .cached_tokens = 8000}),
      2000 * 3 + 8000 * 3 / 10 + 1000 * 15);
}

TEST(PriceTableTest, RoundsHalfUpOnceAtTheEnd) {
  ModelPrice mini{150'000, 600'000, 75'000};  // 0.15 / 0.60 / 0.075 micro-USD per token
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 1}), 0);   // 0.15
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 3}), 0);   // 0.45
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 4}), 1);   // 0.60
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 10}), 2);  // 1.5 -> 2
  // Rounding each part would give 0 + 0; summing first gives 0.45 + 0.3 = 0.75 -> 1.
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 7, .cached_tokens = 4}), 1);
  EXPECT_EQ(costMicroUsd(mini, {.prompt_tokens = 1'000'003}), 150'000);  // 150000.45
}

TEST(PriceTableTest, LargeVolumesStayExactAndSaturateInsteadOfOverflowing) {
  ModelPrice opus{15 * kUsd, 75 * kUsd, 1'500'000};
  // 10 billion output tokens = $750,000 = 750,000,000,000 micro-USD.
  EXPECT_EQ(costMicroUsd(opus, {.completion_tokens = 10'000'000'000ULL}), 750'000'000'000LL);
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(costMicroUsd(opus, {.completion_tokens = std::numeric_limits<std::uint64_t>::max()}),
            kMax);
  ModelPrice extreme{1'000'000 * kUsd, 1'000'000 * kUsd, 1'000'000 * kUsd};
  EXPECT_EQ(costMicroUsd(extreme,
                         {.prompt_tokens = std::numeric_limits<std::uint64_t>::max(),
                          .completion_tokens = std::numeric_limits<std::uint64_t>::max()}),
            kMax);
  EXPECT_EQ(costMicroUsd(extreme, {.prompt_tokens = 999'999, .completion_tokens = 999'999}),
            2 * 999'999LL * 1'000'000);
}

TEST(PriceTableTest, ConvertsUsdPerMTokExactly) {
  EXPECT_EQ(microUsdPerMTok(2.5), 2'500'000);
  EXPECT_EQ(microUsdPerMTok(0.075), 75'000);
  EXPECT_EQ(microUsdPerMTok(0.005), 5'000);
  EXPECT_EQ(microUsdPerMTok(0.1 + 0.2), 300'000);  // 0.30000000000000004
  EXPECT_EQ(microUsdPerMTok(0), 0);
  EXPECT_FALSE(microUsdPerMTok(-0.01));
  EXPECT_FALSE(microUsdPerMTok(std::nan("")));
  EXPECT_FALSE(microUsdPerMTok(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(microUsdPerMTok(1e7));
}

TEST(PriceTableTest, ConfigOverridesReplaceAndExtendTheTable) {
  std::map<std::string, config::Price> overrides;
  overrides["gpt-4o"] = {
      .input_per_mtok = 2.0, .output_per_mtok = 8.0, .cached_input_per_mtok = 1.0};
  overrides["My-Local-Llama"] = {
      .input_per_mtok = 0.0, .output_per_mtok = 0.0, .cached_input_per_mtok = 0.0};
  overrides["acme-ft-model"] = {.input_per_mtok = 3.0, .output_per_mtok = 12.0};
  overrides["azure/prod-gpt4o"] = {
      .input_per_mtok = 2.75, .output_per_mtok = 11.0, .cached_input_per_mtok = 1.375};
  auto t = PriceTable::withOverrides(overrides);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find("gpt-4o")->price, (ModelPrice{2 * kUsd, 8 * kUsd, 1 * kUsd}));
  EXPECT_EQ(matched(*t, "gpt-4o-2024-08-06"), "gpt-4o");
  EXPECT_EQ(t->find("gpt-4o-2024-08-06")->price.input,
            2 * kUsd);  // dated names follow the override
  EXPECT_EQ(t->find("my-local-llama")->price, (ModelPrice{}));
  EXPECT_EQ(t->costMicroUsd("MY-LOCAL-LLAMA", {.prompt_tokens = 5000, .completion_tokens = 5000}),
            0);
  // No cached price given: cached tokens cost the input rate (never an under-estimate).
  EXPECT_EQ(t->find("acme-ft-model")->price.cached_input, 3 * kUsd);
  EXPECT_EQ(matched(*t, "acme-ft-model-2025-01-01"), "acme-ft-model");
  EXPECT_EQ(t->find("azure/prod-gpt4o")->price.input, 2'750'000);
  EXPECT_EQ(t->size(), PriceTable::builtin().size() + 3);
  EXPECT_EQ(PriceTable::builtin().find("gpt-4o")->price.input, 2'500'000);  // builtin untouched
}

TEST(PriceTableTest, InvalidOverridesAreRejected) {
  auto bad = [](std::string name, config::Price p) {
    return PriceTable::withOverrides({{std::move(name), p}});
  };
  auto neg = bad("x", {.input_per_mtok = -1});
  ASSERT_FALSE(neg);
  EXPECT_EQ(neg.error().code, ErrorCode::kUnprocessable);
  EXPECT_NE(neg.error().client_message.find("metering.prices.x"), std::string::npos);
  EXPECT_FALSE(bad("x", {.output_per_mtok = std::nan("")}));
  EXPECT_FALSE(bad("x", {.cached_input_per_mtok = std::numeric_limits<double>::infinity()}));
  EXPECT_FALSE(bad("  ", {.input_per_mtok = 1}));
}

}  // namespace
}  // namespace livery::metering
