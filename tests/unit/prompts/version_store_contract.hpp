#pragma once

// The PromptVersionStore contract suite (prompts/version_store.hpp). Every implementation runs
// it: compile version_store_contract.cpp into the implementation's test binary and instantiate
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, PromptVersionStoreContractTest,
//                            ::testing::Values(PromptVersionStoreFactory{"sqlite", makeStore}));
//
// where makeStore returns a fresh, empty store (with tenants "tnt_a" and "tnt_b" existing, if the
// backend needs tenant rows) that uses the given clock for the times it assigns.

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "prompts/version_store.hpp"
#include "support/fake_clock.hpp"

namespace livery::prompts::testing {

struct PromptVersionStoreFactory {
  std::string name;
  std::function<std::unique_ptr<PromptVersionStore>(const Clock&)> make;
};

inline std::ostream& operator<<(std::ostream& os, const PromptVersionStoreFactory& f) {
  return os << f.name;
}

class PromptVersionStoreContractTest : public ::testing::TestWithParam<PromptVersionStoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(clock_); }

  livery::testing::FakeClock clock_;
  std::unique_ptr<PromptVersionStore> store_;
};

}  // namespace livery::prompts::testing
