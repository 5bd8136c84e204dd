#include "crypto/dek_cache.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace livery::crypto {
namespace {

using livery::testing::FakeClock;
using namespace std::chrono_literals;

SecretBytes dekOf(char c) {
  return SecretBytes::copyOf(std::string(32, c));
}

struct KeyParts {
  std::string tenant = "tnt_a";
  std::string credential = "cred_1";
  std::string provider = "openai";
  std::string kek_id = "local";
  std::uint32_t version = 1;
  std::vector<unsigned char> wrapped = std::vector<unsigned char>(60, 0x11);
  DekCacheKey key() const {
    return {tenant, credential, provider, kek_id, version, {wrapped.data(), wrapped.size()}};
  }
};

TEST(DekCacheTest, HitsAfterPutAndKeysNeverCollideAcrossCredentials) {
  FakeClock clock;
  DekCache cache({}, clock);
  KeyParts a;
  cache.put(a.key(), dekOf('a'));
  auto hit = cache.get(a.key());
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->reveal(), std::string(32, 'a'));

  // Any differing component is a different entry, even with the same wrapped bytes.
  KeyParts other_tenant = a;
  other_tenant.tenant = "tnt_b";
  KeyParts other_cred = a;
  other_cred.credential = "cred_2";
  KeyParts other_provider = a;
  other_provider.provider = "anthropic";
  KeyParts other_version = a;
  other_version.version = 2;
  KeyParts other_kek = a;
  other_kek.kek_id = "hsm";
  KeyParts other_wrap = a;
  other_wrap.wrapped[59] ^= 1;
  KeyParts shifted = a;  // ("tnt_a","cred_1") vs ("tnt_ac","red_1"): length-prefixed
  shifted.tenant = "tnt_ac";
  shifted.credential = "red_1";
  for (const auto* k : {&other_tenant,
                        &other_cred,
                        &other_provider,
                        &other_version,
                        &other_kek,
                        &other_wrap,
                        &shifted}) {
    EXPECT_EQ(cache.get(k->key()), nullptr);
  }
  auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 7u);
  EXPECT_EQ(s.size, 1u);
}

TEST(DekCacheTest, EntriesExpireAfterMaxAge) {
  FakeClock clock;
  DekCache cache({.max_age = 5min, .max_uses = 1000, .max_entries = 10}, clock);
  KeyParts a;
  cache.put(a.key(), dekOf('a'));
  clock.advance(5min - 1ms);
  EXPECT_NE(cache.get(a.key()), nullptr);
  clock.advance(1ms);
  EXPECT_EQ(cache.get(a.key()), nullptr);
  EXPECT_EQ(cache.stats().size, 0u);
}

TEST(DekCacheTest, EntriesServeAtMostMaxUsesCountingTheUnwrap) {
  FakeClock clock;
  DekCache cache({.max_age = 1h, .max_uses = 3, .max_entries = 10}, clock);
  KeyParts a;
  cache.put(a.key(), dekOf('a'));          // use 1 (the unwrap)
  EXPECT_NE(cache.get(a.key()), nullptr);  // use 2
  EXPECT_NE(cache.get(a.key()), nullptr);  // use 3
  EXPECT_EQ(cache.get(a.key()), nullptr);  // budget spent: back to the KMS
  EXPECT_EQ(cache.stats().size, 0u);
}

TEST(DekCacheTest, CapacityIsBoundedAndLeastRecentlyUsedGoesFirst) {
  FakeClock clock;
  DekCache cache({.max_age = 1h, .max_uses = 1000, .max_entries = 3}, clock, /*shards=*/1);
  std::vector<KeyParts> keys(5);
  for (int i = 0; i < 5; ++i) {
    keys[i].credential = "cred_" + std::to_string(i);
  }
  cache.put(keys[0].key(), dekOf('0'));
  cache.put(keys[1].key(), dekOf('1'));
  cache.put(keys[2].key(), dekOf('2'));
  ASSERT_NE(cache.get(keys[0].key()), nullptr);  // 0 is now the most recent
  cache.put(keys[3].key(), dekOf('3'));          // evicts 1
  EXPECT_EQ(cache.stats().size, 3u);
  EXPECT_EQ(cache.get(keys[1].key()), nullptr);
  EXPECT_NE(cache.get(keys[0].key()), nullptr);
  EXPECT_NE(cache.get(keys[2].key()), nullptr);
  EXPECT_NE(cache.get(keys[3].key()), nullptr);
}

TEST(DekCacheTest, ShardedCacheNeverExceedsMaxEntries) {
  FakeClock clock;
  DekCache cache({.max_age = 1h, .max_uses = 1000, .max_entries = 100}, clock);
  for (int i = 0; i < 1000; ++i) {
    KeyParts k;
    k.credential = "cred_" + std::to_string(i);
    cache.put(k.key(), dekOf('x'));
    ASSERT_LE(cache.stats().size, 100u);
  }
}

TEST(DekCacheTest, AnyZeroLimitDisablesCaching) {
  FakeClock clock;
  for (DekCacheLimits limits : {DekCacheLimits{.max_age = 0s, .max_uses = 10, .max_entries = 10},
                                DekCacheLimits{.max_age = 1h, .max_uses = 0, .max_entries = 10},
                                DekCacheLimits{.max_age = 1h, .max_uses = 10, .max_entries = 0}}) {
    DekCache cache(limits, clock);
    EXPECT_FALSE(cache.enabled());
    KeyParts a;
    cache.put(a.key(), dekOf('a'));
    EXPECT_EQ(cache.get(a.key()), nullptr);
    EXPECT_EQ(cache.stats().size, 0u);
  }
}

TEST(DekCacheTest, EvictedKeysAreWipedOnceTheLastUserLetsGo) {
  FakeClock clock;
  DekCache cache({.max_age = 1min, .max_uses = 1000, .max_entries = 10}, clock);
  KeyParts a;
  cache.put(a.key(), dekOf('k'));
  std::weak_ptr<const SecretBytes> watch;
  {
    auto in_use = cache.get(a.key());
    ASSERT_NE(in_use, nullptr);
    watch = in_use;
    clock.advance(2min);
    EXPECT_EQ(cache.sweep(), 1u);
    // A request that is still decrypting keeps valid bytes until it is done.
    EXPECT_EQ(in_use->reveal(), std::string(32, 'k'));
  }
  EXPECT_TRUE(watch.expired());  // destroyed, and SecretBytes wipes on destruction
}

TEST(DekCacheTest, InvalidationByCredentialTenantAndKekVersion) {
  FakeClock clock;
  DekCache cache({}, clock);
  KeyParts a1;
  KeyParts a2 = a1;
  a2.credential = "cred_2";
  a2.version = 2;
  KeyParts b1 = a1;
  b1.tenant = "tnt_b";
  for (const auto* k : {&a1, &a2, &b1}) {
    cache.put(k->key(), dekOf('z'));
  }
  EXPECT_EQ(cache.invalidateCredential("tnt_a", "cred_1"), 1u);
  EXPECT_EQ(cache.get(a1.key()), nullptr);
  EXPECT_NE(cache.get(a2.key()), nullptr);
  EXPECT_EQ(cache.invalidateKekVersion("local", 2), 1u);
  EXPECT_EQ(cache.get(a2.key()), nullptr);
  EXPECT_EQ(cache.invalidateTenant("tnt_b"), 1u);
  EXPECT_EQ(cache.stats().size, 0u);
}

TEST(DekCacheTest, ConcurrentGetsAndPutsAreSafe) {
  FakeClock clock;
  DekCache cache({.max_age = 1h, .max_uses = 1'000'000, .max_entries = 64}, clock);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        KeyParts k;
        k.credential = "cred_" + std::to_string((i * 7 + t) % 100);
        char c = static_cast<char>('A' + (i * 7 + t) % 100 % 26);
        if (auto hit = cache.get(k.key())) {
          if (hit->reveal() != std::string(32, c)) {
            ++wrong;
          }
        } else {
          cache.put(k.key(), dekOf(c));
        }
        if (i % 500 == 0) {
          cache.sweep();
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.stats().size, 64u);
}

// Runs `callers` threads that all call getOrUnwrap on `key` at about the same time; `unwrap`
// counts its calls and does not return before every caller has arrived (or 2 s have passed).
struct Burst {
  std::atomic<int> arrived{0};
  std::atomic<int> unwraps{0};
  std::vector<Result<std::shared_ptr<const SecretBytes>>> results;

  void run(DekCache& cache, const DekCacheKey& key, int callers, bool succeed) {
    results.assign(static_cast<std::size_t>(callers),
                   Result<std::shared_ptr<const SecretBytes>>(nullptr));
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
      threads.emplace_back([&, i] {
        ++arrived;
        results[static_cast<std::size_t>(i)] = cache.getOrUnwrap(key, [&]() -> Result<SecretBytes> {
          ++unwraps;
          const auto deadline = std::chrono::steady_clock::now() + 2s;
          while (arrived.load() < callers && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
          }
          std::this_thread::sleep_for(20ms);  // let the others reach the flight
          if (!succeed) {
            return fail(ErrorCode::kUnavailable, "kms down");
          }
          return dekOf('s');
        });
      });
    }
    for (auto& t : threads) {
      t.join();
    }
  }
};

TEST(DekCacheTest, ConcurrentMissesOfOneKeyShareOneUnwrap) {
  FakeClock clock;
  DekCache cache({}, clock);
  KeyParts a;
  Burst burst;
  burst.run(cache, a.key(), 8, true);
  // Whoever came late found either the flight or the cached DEK: one unwrap, whatever the timing.
  EXPECT_EQ(burst.unwraps.load(), 1);
  for (const auto& r : burst.results) {
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->reveal(), std::string(32, 's'));
  }
  auto s = cache.stats();
  EXPECT_EQ(s.shared_unwraps + s.hits, 7u);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_NE(cache.get(a.key()), nullptr);

  // Another credential is another flight.
  KeyParts b = a;
  b.credential = "cred_2";
  Burst other;
  other.run(cache, b.key(), 2, true);
  EXPECT_EQ(other.unwraps.load(), 1);
}

TEST(DekCacheTest, AFailedUnwrapReachesItsWaitersAndIsNotCached) {
  FakeClock clock;
  DekCache cache({}, clock);
  KeyParts a;
  Burst burst;
  burst.run(cache, a.key(), 8, false);
  EXPECT_GE(burst.unwraps.load(), 1);
  for (const auto& r : burst.results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_EQ(cache.get(a.key()), nullptr) << "a failure is not cached";
  int calls = 0;
  auto retried = cache.getOrUnwrap(a.key(), [&]() -> Result<SecretBytes> {
    ++calls;
    return dekOf('r');
  });
  ASSERT_TRUE(retried);
  EXPECT_EQ(calls, 1) << "the next miss unwraps again";
}

TEST(DekCacheTest, WithCachingOffEveryCallUnwrapsItself) {
  FakeClock clock;
  DekCache cache({.max_uses = 1}, clock);
  KeyParts a;
  int calls = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = cache.getOrUnwrap(a.key(), [&]() -> Result<SecretBytes> {
      ++calls;
      return dekOf('x');
    });
    ASSERT_TRUE(r);
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(cache.stats().size, 0u);
}

}  // namespace
}  // namespace livery::crypto
