// Contract: the usage ledger (idempotent batches, scoping, paging, aggregates, concurrency).

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "integration/storage/contract_fixture.hpp"

namespace livery::storage::contract {
namespace {

constexpr Millis kHour = 3'600'000;
constexpr Millis kDay = 24 * kHour;
constexpr Millis kT0 = 1'790'000'000'000;  // a fixed UTC instant (ms)

UsageRecord record(int i, const std::string& tenant, Millis at) {
  return UsageRecord{.request_id = fmt::format("req_{:06}", i),
                     .tenant_id = tenant,
                     .api_key_id = "key_x",
                     .model = "gpt-4o",
                     .prompt_tokens = 10,
                     .completion_tokens = 20,
                     .status = 200,
                     .outcome = "ok",
                     .attempts = 1,
                     .cost_micro_usd = 7,
                     .created_at = at};
}

// A deterministic spread of records over three days, three tenants, keys, users and models.
std::vector<UsageRecord> dataset() {
  std::mt19937_64 rng(20260101);
  const std::vector<std::string> tenants{"tnt_a", "tnt_b", "tnt_c"};
  const std::vector<std::string> keys{"key_1", "key_2", "key_3", "key_4"};
  const std::vector<std::string> users{"", "u1", "u2"};
  const std::vector<std::string> models{"gpt-4o", "claude-sonnet", "llama3"};
  std::vector<UsageRecord> out;
  for (int i = 0; i < 900; ++i) {
    UsageRecord u;
    u.request_id = fmt::format("req_{:05}", i);
    u.tenant_id = tenants[rng() % tenants.size()];
    u.api_key_id = keys[rng() % keys.size()];
    u.end_user = users[rng() % users.size()];
    u.model = models[rng() % models.size()];
    u.deployment = u.model + "-dep";
    u.provider = "openai";
    u.prompt_tokens = rng() % 5000;
    u.completion_tokens = rng() % 2000;
    u.cached_tokens = rng() % 100;
    u.reasoning_tokens = rng() % 50;
    u.latency_ms = static_cast<std::uint32_t>(rng() % 10'000);
    u.ttft_ms = static_cast<std::uint32_t>(rng() % 1000);
    u.status = rng() % 10 == 0 ? 429 : 200;
    u.outcome = u.status == 200 ? "ok" : "error";
    u.attempts = static_cast<std::uint32_t>(1 + rng() % 3);
    u.cost_micro_usd = static_cast<std::int64_t>(rng() % 100'000);
    u.streamed = rng() % 2 == 0;
    u.created_at = kT0 + static_cast<Millis>(rng() % (3 * kDay));
    out.push_back(std::move(u));
  }
  return out;
}

using Expected = std::map<std::string, UsageTotals>;

Expected expectedTotals(const std::vector<UsageRecord>& data,
                        const std::function<bool(const UsageRecord&)>& keep,
                        const std::function<std::string(const UsageRecord&)>& key) {
  Expected m;
  for (const auto& u : data) {
    if (!keep(u)) {
      continue;
    }
    auto& t = m[key(u)];
    t.key = key(u);
    ++t.requests;
    t.prompt_tokens += u.prompt_tokens;
    t.completion_tokens += u.completion_tokens;
    t.cached_tokens += u.cached_tokens;
    t.reasoning_tokens += u.reasoning_tokens;
    t.cost_micro_usd += u.cost_micro_usd;
  }
  return m;
}

void expectTotals(const std::vector<UsageTotals>& got, const Expected& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& g : got) {
    auto it = want.find(g.key);
    ASSERT_NE(it, want.end()) << "unexpected group " << g.key;
    EXPECT_EQ(g.requests, it->second.requests) << g.key;
    EXPECT_EQ(g.prompt_tokens, it->second.prompt_tokens) << g.key;
    EXPECT_EQ(g.completion_tokens, it->second.completion_tokens) << g.key;
    EXPECT_EQ(g.cached_tokens, it->second.cached_tokens) << g.key;
    EXPECT_EQ(g.reasoning_tokens, it->second.reasoning_tokens) << g.key;
    EXPECT_EQ(g.cost_micro_usd, it->second.cost_micro_usd) << g.key;
  }
}

TEST_P(StorageContractTest, UsageBatchesAreIdempotentOnRequestId) {
  std::vector<UsageRecord> batch;
  for (int i = 0; i < 120; ++i) {
    batch.push_back(record(i, "tnt_a", kT0 + i));
  }
  EXPECT_EQ(must(stores().usage.insertBatch(batch)), 120u);
  EXPECT_EQ(must(stores().usage.insertBatch(batch)), 0u);  // a replayed batch
  // Half old, half new: only the new ones count; the old rows keep their first values.
  std::vector<UsageRecord> mixed;
  for (int i = 60; i < 180; ++i) {
    auto u = record(i, "tnt_a", kT0 + i);
    u.prompt_tokens = 999;
    mixed.push_back(u);
  }
  EXPECT_EQ(must(stores().usage.insertBatch(mixed)), 60u);
  EXPECT_EQ(must(stores().usage.count(UsageFilter{.tenant_id = "tnt_a"})), 180u);
  EXPECT_EQ(must(stores().usage.get("tnt_a", "req_000070")).prompt_tokens, 10u);
  EXPECT_EQ(must(stores().usage.get("tnt_a", "req_000170")).prompt_tokens, 999u);
  // Duplicates within one batch are harmless too.
  std::vector<UsageRecord> twice{record(500, "tnt_a", kT0), record(500, "tnt_a", kT0)};
  EXPECT_EQ(must(stores().usage.insertBatch(twice)), 1u);
}

// Batches are split into multi-row statements of power-of-two sizes; every size lands whole.
TEST_P(StorageContractTest, UsageBatchesOfEverySizeLandWhole) {
  int next = 0;
  std::uint64_t total = 0;
  for (int size : {1, 2, 3, 31, 33, 63, 64, 65, 127, 130}) {
    std::vector<UsageRecord> batch;
    for (int i = 0; i < size; ++i, ++next) {
      auto u = record(next, "tnt_a", kT0 + next);
      u.prompt_tokens = static_cast<std::uint64_t>(next);
      batch.push_back(u);
    }
    EXPECT_EQ(must(stores().usage.insertBatch(batch)), static_cast<std::size_t>(size)) << size;
    total += static_cast<std::uint64_t>(size);
    ASSERT_EQ(must(stores().usage.count(UsageFilter{.tenant_id = "tnt_a"})), total) << size;
    // The last row of the batch carries its own values, not a neighbour's.
    const auto& last = batch.back();
    EXPECT_EQ(must(stores().usage.get("tnt_a", last.request_id)).prompt_tokens, last.prompt_tokens)
        << size;
  }
}

TEST_P(StorageContractTest, UsageRecordsRoundTripEveryField) {
  const auto data = dataset();
  must(stores().usage.insertBatch(std::span<const UsageRecord>(data.data(), 1)));
  const auto& want = data[0];
  auto got = must(stores().usage.get(want.tenant_id, want.request_id));
  EXPECT_EQ(got.api_key_id, want.api_key_id);
  EXPECT_EQ(got.end_user, want.end_user);
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.deployment, want.deployment);
  EXPECT_EQ(got.provider, want.provider);
  EXPECT_EQ(got.prompt_tokens, want.prompt_tokens);
  EXPECT_EQ(got.completion_tokens, want.completion_tokens);
  EXPECT_EQ(got.cached_tokens, want.cached_tokens);
  EXPECT_EQ(got.reasoning_tokens, want.reasoning_tokens);
  EXPECT_EQ(got.latency_ms, want.latency_ms);
  EXPECT_EQ(got.ttft_ms, want.ttft_ms);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.outcome, want.outcome);
  EXPECT_EQ(got.attempts, want.attempts);
  EXPECT_EQ(got.cost_micro_usd, want.cost_micro_usd);
  EXPECT_EQ(got.streamed, want.streamed);
  EXPECT_EQ(got.created_at, want.created_at);
  // A record without a time is stamped now; one without a tenant is refused.
  auto untimed = record(1, "tnt_a", 0);
  must(stores().usage.insertBatch(std::span<const UsageRecord>(&untimed, 1)));
  EXPECT_EQ(must(stores().usage.get("tnt_a", untimed.request_id)).created_at, clock_.unixMillis());
  auto orphan = record(2, "", kT0);
  EXPECT_EQ(codeOf(stores().usage.insertBatch(std::span<const UsageRecord>(&orphan, 1))),
            ErrorCode::kBadRequest);
}

TEST_P(StorageContractTest, UsageReadsAreScopedToOneTenantUnlessAllTenantsIsExplicit) {
  const auto data = dataset();
  must(stores().usage.insertBatch(data));
  const auto& b_record = *std::find_if(
      data.begin(), data.end(), [](const UsageRecord& u) { return u.tenant_id == "tnt_b"; });
  EXPECT_EQ(codeOf(stores().usage.get("tnt_a", b_record.request_id)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().usage.getAnyTenant(b_record.request_id)).tenant_id, "tnt_b");
  EXPECT_EQ(codeOf(stores().usage.count(UsageFilter{})), ErrorCode::kBadRequest);
  EXPECT_EQ(codeOf(stores().usage.list(UsageFilter{}, {}, 10)), ErrorCode::kBadRequest);
  EXPECT_EQ(codeOf(stores().usage.totals(UsageFilter{}, UsageGroup::kModel)),
            ErrorCode::kBadRequest);
  auto page = must(stores().usage.list(UsageFilter{.tenant_id = "tnt_a"}, {}, kMaxPageSize));
  for (const auto& u : page.records) {
    EXPECT_EQ(u.tenant_id, "tnt_a");
  }
  const auto a_count =
      std::count_if(data.begin(), data.end(), [](const auto& u) { return u.tenant_id == "tnt_a"; });
  EXPECT_EQ(page.records.size(), static_cast<std::size_t>(a_count));
  EXPECT_EQ(must(stores().usage.count(UsageFilter{.all_tenants = true})), data.size());
}

TEST_P(StorageContractTest, UsageListPagesThroughAFilteredRangeExactlyOnceInOrder) {
  auto data = dataset();
  // Several records share a timestamp: the cursor must still not skip or repeat them.
  for (std::size_t i = 0; i < 40; ++i) {
    data[i].created_at = kT0 + kDay;
  }
  must(stores().usage.insertBatch(data));
  const UsageFilter filter{
      .tenant_id = "tnt_b", .model = "gpt-4o", .from = kT0 + kHour * 6, .to = kT0 + kDay * 2};
  std::vector<std::string> want;
  for (const auto& u : data) {
    if (u.tenant_id == "tnt_b" && u.model == "gpt-4o" && u.created_at >= filter.from &&
        u.created_at < filter.to) {
      want.push_back(u.request_id);
    }
  }
  ASSERT_GT(want.size(), 20u);
  std::vector<std::string> got;
  UsageCursor cursor;
  Millis last_time = 0;
  for (;;) {
    auto page = must(stores().usage.list(filter, cursor, 7));
    for (const auto& u : page.records) {
      EXPECT_GE(u.created_at, last_time);
      last_time = u.created_at;
      got.push_back(u.request_id);
    }
    if (!page.next) {
      break;
    }
    cursor = *page.next;
  }
  std::sort(want.begin(), want.end());
  std::vector<std::string> got_sorted = got;
  std::sort(got_sorted.begin(), got_sorted.end());
  EXPECT_EQ(got_sorted, want);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
  EXPECT_EQ(must(stores().usage.count(filter)), want.size());
}

TEST_P(StorageContractTest, UsageTotalsMatchSumsComputedHere) {
  const auto data = dataset();
  must(stores().usage.insertBatch(data));
  auto all = [](const UsageRecord&) {
    return true;
  };
  auto is_a = [](const UsageRecord& u) {
    return u.tenant_id == "tnt_a";
  };
  const UsageFilter everyone{.all_tenants = true};
  const UsageFilter tenant_a{.tenant_id = "tnt_a"};

  expectTotals(must(stores().usage.totals(everyone, UsageGroup::kTenant)),
               expectedTotals(data, all, [](const auto& u) { return u.tenant_id; }));
  expectTotals(must(stores().usage.totals(tenant_a, UsageGroup::kApiKey)),
               expectedTotals(data, is_a, [](const auto& u) { return u.api_key_id; }));
  expectTotals(must(stores().usage.totals(tenant_a, UsageGroup::kEndUser)),
               expectedTotals(data, is_a, [](const auto& u) { return u.end_user; }));
  expectTotals(must(stores().usage.totals(tenant_a, UsageGroup::kModel)),
               expectedTotals(data, is_a, [](const auto& u) { return u.model; }));
  auto bucket = [](Millis size) {
    return [size](const UsageRecord& u) {
      return std::to_string(u.created_at / size * size);
    };
  };
  expectTotals(must(stores().usage.totals(tenant_a, UsageGroup::kHour)),
               expectedTotals(data, is_a, bucket(kHour)));
  expectTotals(must(stores().usage.totals(everyone, UsageGroup::kDay)),
               expectedTotals(data, all, bucket(kDay)));
  // A time window and a key filter narrow the sums.
  const UsageFilter window{
      .tenant_id = "tnt_a", .api_key_id = "key_2", .from = kT0 + kDay, .to = kT0 + 2 * kDay};
  expectTotals(must(stores().usage.totals(window, UsageGroup::kModel)),
               expectedTotals(
                   data,
                   [&](const UsageRecord& u) {
                     return is_a(u) && u.api_key_id == "key_2" && u.created_at >= window.from &&
                            u.created_at < window.to;
                   },
                   [](const auto& u) { return u.model; }));
  // Buckets come back in time order.
  auto days = must(stores().usage.totals(everyone, UsageGroup::kDay));
  for (std::size_t i = 1; i < days.size(); ++i) {
    EXPECT_LT(std::stoll(days[i - 1].key), std::stoll(days[i].key));
  }
}

TEST_P(StorageContractTest, TokenSumsBootstrapQuotasPerTenantAndPerKey) {
  const auto data = dataset();
  must(stores().usage.insertBatch(data));
  const Millis since = kT0 + kDay + 12345;
  std::map<std::string, std::uint64_t> by_tenant;
  std::map<std::string, std::uint64_t> by_key;
  std::uint64_t a_key1 = 0;
  for (const auto& u : data) {
    if (u.created_at >= since) {
      by_tenant[u.tenant_id] += u.prompt_tokens + u.completion_tokens;
      by_key[u.api_key_id] += u.prompt_tokens + u.completion_tokens;
      if (u.tenant_id == "tnt_a" && u.api_key_id == "key_1") {
        a_key1 += u.prompt_tokens + u.completion_tokens;
      }
    }
  }
  EXPECT_EQ(must(stores().usage.tenantTokensSince("tnt_a", since)), by_tenant["tnt_a"]);
  EXPECT_EQ(must(stores().usage.keyTokensSince("tnt_a", "key_1", since)), a_key1);
  EXPECT_EQ(must(stores().usage.tenantTokensSince("tnt_none", since)), 0u);
  std::map<std::string, std::uint64_t> streamed;
  EXPECT_EQ(
      must(stores().usage.forEachTokenSum(
          UsageGroup::kTenant,
          since,
          [&](const UsageTotals& t) { streamed[t.key] = t.prompt_tokens + t.completion_tokens; })),
      by_tenant.size());
  EXPECT_EQ(streamed, by_tenant);
  streamed.clear();
  must(stores().usage.forEachTokenSum(UsageGroup::kApiKey, since, [&](const UsageTotals& t) {
    streamed[t.key] = t.prompt_tokens + t.completion_tokens;
  }));
  EXPECT_EQ(streamed, by_key);
}

TEST_P(StorageContractTest, ConcurrentWritersLoseNoRowsAndCountSharedRequestsOnce) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 100;
  constexpr int kShared = 50;  // request ids every thread also writes (a retried flush)
  std::atomic<std::size_t> inserted{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<UsageRecord> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          batch.push_back(record(((t * kBatches) + b) * kPerBatch + i, "tnt_a", kT0 + i));
        }
        for (int s = 0; s < kShared / kBatches; ++s) {
          auto shared = record(0, "tnt_a", kT0);
          shared.request_id = fmt::format("shared_{}", b * (kShared / kBatches) + s);
          batch.push_back(shared);
        }
        auto r = stores().usage.insertBatch(batch);
        if (!r) {
          errors[static_cast<std::size_t>(t)] = errorText(r);
          return;
        }
        inserted += *r;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const auto& e : errors) {
    EXPECT_EQ(e, "");
  }
  const std::size_t expected = kThreads * kBatches * kPerBatch + kShared;
  EXPECT_EQ(inserted.load(), expected);
  EXPECT_EQ(must(stores().usage.count(UsageFilter{.tenant_id = "tnt_a"})), expected);
}

}  // namespace
}  // namespace livery::storage::contract
