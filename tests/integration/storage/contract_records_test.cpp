// Contract: audit log, change feed, alerts, users, sessions and conversations.

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "integration/storage/contract_fixture.hpp"

namespace livery::storage::contract {
namespace {

using namespace std::chrono_literals;

// ---- audit ---------------------------------------------------------------------------------

void appendSome(AuditStore& audit, int n, const std::string& tenant = "tnt_a") {
  for (int i = 0; i < n; ++i) {
    must(audit.append(AuditEntry{.actor = "operator:opt_1",
                                 .tenant_id = i % 2 == 0 ? tenant : "",
                                 .action = "key.revoked",
                                 .details_json = fmt::format(R"({{"key":"key_{}"}})", i)}));
  }
}

TEST_P(StorageContractTest, AuditAppendsFormAVerifiableHashChain) {
  auto first = must(stores().audit.append(
      AuditEntry{.actor = "cli", .action = "tenant.created", .details_json = R"({"slug":"a"})"}));
  EXPECT_EQ(first.seq, 1);
  EXPECT_EQ(first.ts, clock_.unixMillis());
  EXPECT_EQ(first.prev_hash, std::string(64, '0'));
  EXPECT_EQ(first.hash, AuditStore::chainHash(first));
  EXPECT_EQ(first.hash.size(), 64u);
  auto second = must(stores().audit.append(AuditEntry{.actor = "cli", .action = "x"}));
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(second.prev_hash, first.hash);
  appendSome(stores().audit, 10);
  auto v = must(stores().audit.verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.checked, 12);
  EXPECT_EQ(v.first_broken_seq, 0);
  auto mine = must(stores().audit.list("tnt_a", 0, 100));
  EXPECT_EQ(mine.size(), 5u);
  for (const auto& e : mine) {
    EXPECT_EQ(e.tenant_id, "tnt_a");
  }
  EXPECT_EQ(must(stores().audit.listAll(10, 100)).size(), 2u);
}

TEST_P(StorageContractTest, AuditVerifyReportsAnEditedRow) {
  appendSome(stores().audit, 8);
  raw(R"(UPDATE audit_log SET details_json = '{"key":"forged"}' WHERE seq = 5)");
  auto v = must(stores().audit.verify());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, 5);
  EXPECT_EQ(v.reason, "hash");
  EXPECT_EQ(v.checked, 4);
}

TEST_P(StorageContractTest, AuditVerifyReportsARehashedRowAtItsSuccessor) {
  appendSome(stores().audit, 8);
  // An attacker who edits row 3 and recomputes its hash breaks the link from row 4.
  auto rows = must(stores().audit.listAll(2, 1));
  ASSERT_EQ(rows.size(), 1u);
  AuditEntry forged = rows[0];
  forged.details_json = R"({"key":"forged"})";
  forged.hash = AuditStore::chainHash(forged);
  raw(fmt::format("UPDATE audit_log SET details_json = '{}', hash = '{}' WHERE seq = 3",
                  forged.details_json,
                  forged.hash));
  auto v = must(stores().audit.verify());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, 4);
  EXPECT_EQ(v.reason, "prev_hash");
}

TEST_P(StorageContractTest, AuditVerifyReportsADeletedRow) {
  appendSome(stores().audit, 8);
  raw("DELETE FROM audit_log WHERE seq = 6");
  auto v = must(stores().audit.verify());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, 6);
  EXPECT_EQ(v.reason, "gap");
}

TEST_P(StorageContractTest, ConcurrentAuditAppendsNeverForkTheChain) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!stores().audit.append(
                AuditEntry{.actor = fmt::format("worker-{}", t), .action = "tick"})) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  auto v = must(stores().audit.verify());
  EXPECT_TRUE(v.ok) << v.reason << " at " << v.first_broken_seq;
  EXPECT_EQ(v.checked, kThreads * kEach);
}

TEST_P(StorageContractTest, AuditHashFieldsCannotBeShiftedAcrossBoundaries) {
  AuditEntry a{.seq = 1, .ts = 2, .actor = "a|b", .tenant_id = "", .action = "x"};
  AuditEntry b{.seq = 1, .ts = 2, .actor = "a", .tenant_id = "b|", .action = "x"};
  EXPECT_NE(AuditStore::chainHash(a), AuditStore::chainHash(b));
}

// ---- change feed ---------------------------------------------------------------------------

TEST_P(StorageContractTest, MutationsRecordChangesInCommitOrder) {
  EXPECT_EQ(must(stores().changes.maxSeq()), 0);
  auto t = tenant("acme");
  auto k = apiKey(t, 1);
  must(stores().api_keys.revoke(t.id, k.id));
  auto c = credential(t, "main");
  must(stores().tenants.suspend(t.id, "x"));
  auto changes = must(stores().changes.since(0, 100));
  std::vector<std::pair<std::string, std::string>> got;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    got.emplace_back(changes[i].kind, changes[i].entity_id);
    EXPECT_EQ(changes[i].tenant_id, t.id);
    if (i > 0) {
      EXPECT_GT(changes[i].seq, changes[i - 1].seq);
    }
  }
  const std::vector<std::pair<std::string, std::string>> want{{"tenant", t.id},
                                                              {"api_key", k.id},
                                                              {"api_key", k.id},
                                                              {"credential", c.id},
                                                              {"tenant", t.id}};
  EXPECT_EQ(got, want);
  const auto max = must(stores().changes.maxSeq());
  EXPECT_EQ(max, changes.back().seq);
  EXPECT_TRUE(must(stores().changes.since(max, 100)).empty());
  EXPECT_EQ(must(stores().changes.since(0, 2)).size(), 2u);
  // A failed mutation records nothing.
  EXPECT_FALSE(stores().api_keys.revoke(t.id, "key_missing"));
  EXPECT_EQ(must(stores().changes.maxSeq()), max);
}

TEST_P(StorageContractTest, ChangeAppendAndPruneWork) {
  auto seq = must(stores().changes.append(Change{.kind = "route", .entity_id = "gpt-4o"}));
  EXPECT_GT(seq, 0);
  clock_.advance(1h);
  auto later = must(stores().changes.append(Change{.kind = "plan", .entity_id = "pro"}));
  EXPECT_GT(later, seq);
  EXPECT_EQ(must(stores().changes.pruneBefore(clock_.unixMillis())), 1);
  auto left = must(stores().changes.since(0, 10));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].seq, later);
  EXPECT_EQ(left[0].ts, clock_.unixMillis());
}

TEST_P(StorageContractTest, ConcurrentChangeWritersProduceAGapFreeReadableFeed) {
  auto t = tenant("acme");
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        const std::string material = fmt::format("w{}-{}", w, i);
        if (!stores().api_keys.insert(
                ApiKey{.tenant_id = t.id,
                       .hash = std::vector<unsigned char>(material.begin(), material.end()),
                       .environment = "live"})) {
          ++failures;
        }
      }
    });
  }
  // A poller reading while writers commit must end up with every change, never skipping one.
  std::set<std::string> seen;
  std::int64_t last = 0;
  auto poll = [&] {
    for (const auto& c : must(stores().changes.since(last, 1000))) {
      EXPECT_GT(c.seq, last);
      last = c.seq;
      if (c.kind == "api_key") {
        seen.insert(c.entity_id);
      }
    }
  };
  const std::size_t target = kThreads * kEach;
  for (int round = 0; round < 20'000 && seen.size() < target && failures.load() == 0; ++round) {
    poll();
  }
  for (auto& th : threads) {
    th.join();
  }
  poll();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEach));
}

// ---- alerts --------------------------------------------------------------------------------

TEST_P(StorageContractTest, AlertsAreListedNewestFirstAndAcknowledgedPerTenant) {
  for (int i = 0; i < 3; ++i) {
    must(stores().alerts.insert(
        Alert{.tenant_id = "tnt_a", .kind = "usage_spike", .message = fmt::format("spike {}", i)}));
    clock_.advance(1s);
  }
  must(stores().alerts.insert(Alert{.tenant_id = "tnt_b", .kind = "credential_refused"}));
  auto a = must(stores().alerts.list("tnt_a"));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].message, "spike 2");
  EXPECT_EQ(codeOf(stores().alerts.acknowledge("tnt_b", a[0].id)), ErrorCode::kNotFound);
  must(stores().alerts.acknowledge("tnt_a", a[0].id));
  EXPECT_EQ(must(stores().alerts.countUnacknowledged("tnt_a")), 2u);
  EXPECT_EQ(must(stores().alerts.list("tnt_a", 10, true)).size(), 2u);
  EXPECT_EQ(must(stores().alerts.listAll()).size(), 4u);
  EXPECT_EQ(must(stores().alerts.listAll(10, true)).size(), 3u);
}

// ---- users, sessions, conversations --------------------------------------------------------

TEST_P(StorageContractTest, UsersAreUniqueByEmailPerTenantAndKind) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto u = user(a, "Alice@Acme.Test");
  EXPECT_EQ(u.email, "alice@acme.test");
  EXPECT_EQ(must(stores().users.findByEmail(a.id, "end_user", "ALICE@acme.test")).id, u.id);
  EXPECT_EQ(codeOf(stores().users.insert(
                User{.tenant_id = a.id, .kind = "end_user", .email = "alice@acme.test"})),
            ErrorCode::kConflict);
  must(stores().users.insert(User{.tenant_id = a.id, .kind = "admin", .email = "alice@acme.test"}));
  user(b, "alice@acme.test");  // another tenant may have the same address
  EXPECT_EQ(codeOf(stores().users.findByEmail(b.id, "admin", "alice@acme.test")),
            ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().users.get(b.id, u.id)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().users.list(a.id, "", Page{})).size(), 2u);
  EXPECT_EQ(must(stores().users.list(a.id, "admin", Page{})).size(), 1u);
  must(stores().users.setPasswordHash(a.id, u.id, "$argon2id$new"));
  must(stores().users.touchLogin(a.id, u.id, 777));
  auto got = must(stores().users.get(a.id, u.id));
  EXPECT_EQ(got.password_hash, "$argon2id$new");
  EXPECT_EQ(got.last_login_at, 777);
  EXPECT_EQ(codeOf(stores().users.setPasswordHash(b.id, u.id, "x")), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, SessionsExpireAndEndWhenTheirUserIsDisabled) {
  auto t = tenant("acme");
  auto u = user(t, "a@acme.test");
  const std::vector<unsigned char> token{0xde, 0xad, 0xbe, 0xef};
  must(stores().sessions.insert(Session{.token_hash = token,
                                        .user_id = u.id,
                                        .tenant_id = t.id,
                                        .kind = "end_user",
                                        .csrf_token = "csrf",
                                        .expires_at = clock_.unixMillis() + 60'000}));
  EXPECT_EQ(must(stores().sessions.getByHash(token)).user_id, u.id);
  clock_.advance(2min);
  EXPECT_EQ(codeOf(stores().sessions.getByHash(token)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().sessions.pruneExpired()), 1);

  must(stores().sessions.insert(Session{.token_hash = token,
                                        .user_id = u.id,
                                        .tenant_id = t.id,
                                        .kind = "end_user",
                                        .expires_at = clock_.unixMillis() + 60'000}));
  u.disabled = true;
  must(stores().users.update(u));
  EXPECT_EQ(codeOf(stores().sessions.getByHash(token)), ErrorCode::kNotFound);
  must(stores().sessions.insert(Session{.token_hash = {1},
                                        .user_id = u.id,
                                        .tenant_id = t.id,
                                        .kind = "end_user",
                                        .expires_at = clock_.unixMillis() + 60'000}));
  must(stores().sessions.remove(std::vector<unsigned char>{1}));
  EXPECT_EQ(codeOf(stores().sessions.getByHash(std::vector<unsigned char>{1})),
            ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().sessions.removeForUser(t.id, u.id)), 0);
  must(stores().users.remove(t.id, u.id));
  EXPECT_EQ(codeOf(stores().users.get(t.id, u.id)), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, LoginThrottleWindowsCountFailuresAndEnd) {
  auto& t = stores().login_throttle;
  const std::vector<unsigned char> key{0x01, 0x02, 0x03};
  const std::vector<unsigned char> other{0x01, 0x02, 0x04};
  constexpr Millis kWindow = 60'000;
  EXPECT_EQ(codeOf(t.openWindow(key, kWindow)), ErrorCode::kNotFound);
  const Millis first = clock_.unixMillis();
  EXPECT_EQ(must(t.recordFailure(key, kWindow)).failures, 1u);
  clock_.advance(10s);
  auto second = must(t.recordFailure(key, kWindow));
  EXPECT_EQ(second.failures, 2u);
  EXPECT_EQ(second.start, first) << "the window starts at the first failure";
  EXPECT_EQ(must(t.openWindow(key, kWindow)).failures, 2u);
  EXPECT_EQ(codeOf(t.openWindow(other, kWindow)), ErrorCode::kNotFound) << "keys are apart";

  // At the window's end it is no longer open, and the next failure starts a new one.
  clock_.advance(50s);
  EXPECT_EQ(codeOf(t.openWindow(key, kWindow)), ErrorCode::kNotFound);
  auto fresh = must(t.recordFailure(key, kWindow));
  EXPECT_EQ(fresh.failures, 1u);
  EXPECT_EQ(fresh.start, clock_.unixMillis());

  // A success forgets the key; pruning removes windows that ended.
  must(t.reset(key));
  must(t.reset(key));
  EXPECT_EQ(codeOf(t.openWindow(key, kWindow)), ErrorCode::kNotFound);
  must(t.recordFailure(other, kWindow));
  clock_.advance(2min);
  must(t.recordFailure(key, kWindow));
  EXPECT_EQ(must(t.pruneOlderThan(kWindow)), 1);
  EXPECT_EQ(must(t.openWindow(key, kWindow)).failures, 1u);
  EXPECT_EQ(codeOf(t.recordFailure({}, kWindow)), ErrorCode::kBadRequest);
}

TEST_P(StorageContractTest, ConcurrentLoginFailuresAllCount) {
  const std::vector<unsigned char> key{0xaa, 0xbb};
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) {
        if (!stores().login_throttle.recordFailure(key, 3'600'000)) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(must(stores().login_throttle.openWindow(key, 3'600'000)).failures,
            static_cast<std::uint32_t>(kThreads * kEach));
}

TEST_P(StorageContractTest, ConversationsBelongToOneUserOfOneTenant) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto alice = user(a, "alice@a.test");
  auto bob = user(a, "bob@a.test");
  auto mallory = user(b, "mallory@b.test");
  auto c =
      must(stores().conversations.insert(Conversation{.tenant_id = a.id,
                                                      .user_id = alice.id,
                                                      .title = "Plans",
                                                      .model = "gpt-4o",
                                                      .messages_json = R"([{"role":"user"}])"}));
  EXPECT_TRUE(c.id.starts_with("cnv_"));
  EXPECT_EQ(must(stores().conversations.get(a.id, alice.id, c.id)).messages_json,
            R"([{"role":"user"}])");
  EXPECT_EQ(codeOf(stores().conversations.get(a.id, bob.id, c.id)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().conversations.get(b.id, alice.id, c.id)), ErrorCode::kNotFound);
  // A conversation cannot be filed under another tenant's user.
  EXPECT_EQ(
      codeOf(stores().conversations.insert(Conversation{.tenant_id = a.id, .user_id = mallory.id})),
      ErrorCode::kNotFound);
  clock_.advance(1s);
  Conversation edit = c;
  edit.messages_json = "[]";
  edit.title = "Renamed";
  auto updated = must(stores().conversations.update(edit));
  EXPECT_EQ(updated.updated_at, clock_.unixMillis());
  edit.user_id = bob.id;
  EXPECT_EQ(codeOf(stores().conversations.update(edit)), ErrorCode::kNotFound);
  auto listed = must(stores().conversations.list(a.id, alice.id));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].title, "Renamed");
  EXPECT_EQ(listed[0].messages_json, "");
  ConversationStore tiny(db(), clock_, 4);
  EXPECT_EQ(codeOf(tiny.insert(
                Conversation{.tenant_id = a.id, .user_id = alice.id, .messages_json = "[1,2,3]"})),
            ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(codeOf(stores().conversations.remove(a.id, bob.id, c.id)), ErrorCode::kNotFound);
  must(stores().conversations.remove(a.id, alice.id, c.id));
}

}  // namespace
}  // namespace livery::storage::contract
