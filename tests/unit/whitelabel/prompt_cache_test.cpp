#include "whitelabel/prompt_cache.hpp"

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace livery::whitelabel {
namespace {

const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'795'822'200)};

Result<std::string> content(std::string text) {
  return text;
}

TEST(PromptCacheTest, CompilesOnceAndReturnsTheSameEntry) {
  PromptCache cache(16);
  int loads = 0;
  auto loader = [&] {
    ++loads;
    return content("Hello {{user}}");
  };
  auto a = cache.getOrCompile("tnt_a", "pv_1", loader);
  auto b = cache.getOrCompile("tnt_a", "pv_1", loader);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.hits(), 1U);
  EXPECT_EQ(cache.misses(), 1U);
  EXPECT_EQ((*a)->render({.user = "u"}), "Hello u");
}

TEST(PromptCacheTest, TenantsSharingAVersionIdNeverShareAnEntry) {
  PromptCache cache(16);
  auto a = cache.getOrCompile("tnt_a", "v1", [] { return content("A prompt"); });
  auto b = cache.getOrCompile("tnt_b", "v1", [] { return content("B prompt"); });
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ((*a)->render({}), "A prompt");
  EXPECT_EQ((*b)->render({}), "B prompt");
  EXPECT_EQ((*b)->owner().tenant_id, "tnt_b");
  EXPECT_EQ(cache.find("tnt_a", "v1")->render({}), "A prompt");
  EXPECT_EQ(cache.find("tnt_c", "v1"), nullptr);
  // Keys are not concatenated: ("tnt_a", "bv1") and ("tnt_ab", "v1") stay apart.
  ASSERT_TRUE(cache.insert("tnt_ab", "v1", "AB"));
  ASSERT_TRUE(cache.insert("tnt_a", "bv1", "A-BV1"));
  EXPECT_EQ(cache.find("tnt_ab", "v1")->render({}), "AB");
  EXPECT_EQ(cache.find("tnt_a", "bv1")->render({}), "A-BV1");
}

TEST(PromptCacheTest, RefusesALessSpecificKey) {
  PromptCache cache(16);
  bool called = false;
  auto loader = [&] {
    called = true;
    return content("x");
  };
  EXPECT_FALSE(cache.getOrCompile("", "v1", loader));
  EXPECT_FALSE(cache.getOrCompile("tnt_a", "", loader));
  EXPECT_FALSE(cache.insert("", "", "x"));
  EXPECT_FALSE(called);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(PromptCacheTest, ActivationAndRollbackTakeEffectOnTheNextLookup) {
  PromptCache cache(16);
  std::map<std::string, std::string> versions = {{"pv_1", "Version one"}, {"pv_2", "Version two"}};
  auto render = [&](const std::string& active) {
    auto e = cache.getOrCompile("tnt_a", active, [&] { return content(versions.at(active)); });
    return e ? (*e)->render({}) : std::string("<error>");
  };
  EXPECT_EQ(render("pv_1"), "Version one");
  EXPECT_EQ(render("pv_2"), "Version two");  // activate v2
  EXPECT_EQ(render("pv_1"), "Version one");  // roll back
  EXPECT_EQ(cache.size(), 2U);
}

TEST(PromptCacheTest, EvictsTheLeastRecentlyUsedBeyondTheBound) {
  PromptCache cache(3);
  for (const char* v : {"v1", "v2", "v3"}) {
    ASSERT_TRUE(cache.insert("t", v, v));
  }
  ASSERT_NE(cache.find("t", "v1"), nullptr);  // v1 is now the most recent
  ASSERT_TRUE(cache.insert("t", "v4", "v4"));
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_EQ(cache.find("t", "v2"), nullptr);
  EXPECT_NE(cache.find("t", "v1"), nullptr);
  EXPECT_NE(cache.find("t", "v3"), nullptr);
  EXPECT_NE(cache.find("t", "v4"), nullptr);
}

TEST(PromptCacheTest, EvictedEntriesStayValidForTheirHolders) {
  PromptCache cache(1);
  auto held = cache.insert("t", "v1", "held");
  ASSERT_TRUE(held);
  ASSERT_TRUE(cache.insert("t", "v2", "other"));
  EXPECT_EQ(cache.find("t", "v1"), nullptr);
  EXPECT_EQ((*held)->render({}), "held");
}

TEST(PromptCacheTest, LoaderAndCompileErrorsAreReturnedAndNotCached) {
  PromptCache cache(4);
  auto failing = cache.getOrCompile("t", "v1", []() -> Result<std::string> {
    return fail(ErrorCode::kNotFound, "no such version");
  });
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().code, ErrorCode::kNotFound);
  auto invalid = cache.getOrCompile("t", "v2", [] { return content("bad \xFF"); });
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::kUnprocessable);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(PromptCacheTest, InsertKeepsTheFirstCompiledVersion) {
  PromptCache cache(4);
  ASSERT_TRUE(cache.insert("t", "v1", "first"));
  auto again = cache.insert("t", "v1", "second");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->render({}), "first");
}

TEST(PromptCacheTest, EraseTenantDropsOnlyThatTenant) {
  PromptCache cache(8);
  ASSERT_TRUE(cache.insert("a", "v1", "a1"));
  ASSERT_TRUE(cache.insert("a", "v2", "a2"));
  ASSERT_TRUE(cache.insert("b", "v1", "b1"));
  cache.eraseTenant("a");
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.find("a", "v1"), nullptr);
  EXPECT_NE(cache.find("b", "v1"), nullptr);
}

// Two tenants, 1,000 interleaved requests on 8 threads through a cache small enough to evict
// constantly, with each tenant's active version flipping (activate / roll back) underneath:
// every rendered system prompt carries exactly its own tenant's active prompt.
TEST(PromptCacheTest, ConcurrentRequestsOfTwoTenantsEachGetTheirOwnPrompt) {
  PromptCache cache(2);
  struct Tenant {
    std::string id;
    std::string name;
    std::atomic<int> active{1};
  };
  Tenant tenants[2];
  tenants[0].id = "tnt_alpha";
  tenants[0].name = "Alpha";
  tenants[1].id = "tnt_beta";
  tenants[1].name = "Beta";
  auto prompt_text = [](const std::string& tenant_id, int version) {
    return "You speak for {{tenant_name}} [" + tenant_id + " v" + std::to_string(version) + "].";
  };
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 125;  // 1,000 requests
  std::atomic<int> failures{0};
  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        Tenant& tenant = tenants[(t + i) % 2];
        if (i % 25 == 0) {  // activate the other version (or roll back)
          tenant.active.store(tenant.active.load() == 1 ? 2 : 1);
        }
        int version = tenant.active.load();
        std::string version_id = "pv_" + std::to_string(version);
        auto entry = cache.getOrCompile(tenant.id, version_id, [&]() -> Result<std::string> {
          return prompt_text(tenant.id, version);
        });
        if (!entry) {
          ++failures;
          continue;
        }
        std::string system = composeSystemPrompt(
            "Policy.",
            (*entry)->render({.tenant_name = tenant.name, .user = "u", .model = "m", .now = kNow}),
            "Request system.");
        const Tenant& other = &tenant == &tenants[0] ? tenants[1] : tenants[0];
        std::string expected = "Policy.\n\nYou speak for " + tenant.name + " [" + tenant.id + " v" +
                               std::to_string(version) + "].\n\nRequest system.";
        if (system != expected || system.find(other.id) != std::string::npos ||
            system.find(other.name) != std::string::npos ||
            (*entry)->owner().tenant_id != tenant.id) {
          ++failures;
        }
        ++served;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(served.load(), kThreads * kRequestsPerThread);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(cache.size(), 2U);
}

}  // namespace
}  // namespace livery::whitelabel
