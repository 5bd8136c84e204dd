#include "prompts/memory_version_store.hpp"

#include <thread>
#include <vector>

#include "unit/prompts/version_store_contract.hpp"

namespace livery::prompts::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(InMemory,
                         PromptVersionStoreContractTest,
                         ::testing::Values(PromptVersionStoreFactory{
                             "InMemory", [](const Clock& clock) {
                               return std::make_unique<InMemoryPromptVersionStore>(clock);
                             }}));

TEST(InMemoryPromptVersionStoreTest, ConcurrentCreatesGetDistinctNumbers) {
  livery::testing::FakeClock clock;
  InMemoryPromptVersionStore store(clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store] {
      for (int i = 0; i < 50; ++i) {
        NewPromptVersion v;
        v.tenant_id = "tnt_a";
        v.content = "x";
        ASSERT_TRUE(store.create(std::move(v)));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto list = store.list("tnt_a");
  ASSERT_EQ(list->size(), 200U);
  for (std::size_t i = 0; i < list->size(); ++i) {
    EXPECT_EQ((*list)[i].version, static_cast<std::int64_t>(i + 1));
  }
}

}  // namespace
}  // namespace livery::prompts::testing
