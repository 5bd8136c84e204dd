// Contract: plans, tenants, operator tokens, API keys, credentials and JWT keys.

#include <set>

#include <fmt/format.h>

#include "integration/storage/contract_fixture.hpp"

namespace livery::storage::contract {
namespace {

using namespace std::chrono_literals;

// ---- plans and tenants ---------------------------------------------------------------------

TEST_P(StorageContractTest, PlansSupportCrudAndRefuseDeletionWhileInUse) {
  Plan pro{.id = "pro",
           .name = "Pro",
           .monthly_token_quota = 1'000'000,
           .rpm = 600,
           .tpm = 90'000,
           .max_api_keys = 50,
           .features = {"jwt", "custom_domains"}};
  must(stores().plans.insert(pro));
  EXPECT_EQ(codeOf(stores().plans.insert(pro)), ErrorCode::kConflict);
  auto got = must(stores().plans.get("pro"));
  EXPECT_EQ(got.monthly_token_quota, 1'000'000u);
  EXPECT_EQ(got.features, (std::vector<std::string>{"jwt", "custom_domains"}));
  pro.rpm = 1200;
  pro.features = {};
  auto updated = must(stores().plans.update(pro));
  EXPECT_EQ(updated.rpm, 1200u);
  EXPECT_TRUE(updated.features.empty());
  EXPECT_EQ(codeOf(stores().plans.update(Plan{.id = "ghost"})), ErrorCode::kNotFound);

  must(stores().tenants.create(Tenant{.slug = "acme", .display_name = "Acme", .plan_id = "pro"}));
  EXPECT_EQ(codeOf(stores().plans.remove("pro")), ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().tenants.create(
                Tenant{.slug = "nope", .display_name = "x", .plan_id = "no-such-plan"})),
            ErrorCode::kConflict);
  must(stores().plans.insert(Plan{.id = "free", .name = "Free"}));
  EXPECT_EQ(must(stores().plans.list()).size(), 2u);
  must(stores().plans.remove("free"));
  EXPECT_EQ(codeOf(stores().plans.get("free")), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, TenantsHaveUniqueSlugsAndRoundTripEveryField) {
  must(stores().plans.insert(Plan{.id = "pro", .name = "Pro"}));
  Tenant t{.slug = "acme",
           .display_name = "Acme Corp",
           .plan_id = "pro",
           .overrides = {.monthly_token_quota = 5'000'000, .rpm = std::nullopt, .tpm = 1000},
           .mock_response_enabled = false,
           .webhook_url = "https://hooks.acme.test/livery"};
  auto created = must(stores().tenants.create(t));
  EXPECT_TRUE(created.id.starts_with("tnt_"));
  EXPECT_EQ(created.revision, 1);
  EXPECT_EQ(created.created_at, clock_.unixMillis());
  auto got = must(stores().tenants.get(created.id));
  EXPECT_EQ(got.slug, "acme");
  EXPECT_EQ(got.plan_id, "pro");
  EXPECT_EQ(got.overrides.monthly_token_quota, 5'000'000u);
  EXPECT_FALSE(got.overrides.rpm.has_value());
  EXPECT_EQ(got.overrides.tpm, 1000u);
  EXPECT_FALSE(got.mock_response_enabled);
  EXPECT_EQ(got.status, TenantStatus::kActive);
  EXPECT_EQ(must(stores().tenants.getBySlug("acme")).id, created.id);

  EXPECT_EQ(codeOf(stores().tenants.create(Tenant{.slug = "acme", .display_name = "Other"})),
            ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().tenants.get("tnt_missing")), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().tenants.count()), 1u);
}

TEST_P(StorageContractTest, TenantUpdateIsCompareAndSetOnRevision) {
  auto t = tenant("acme");
  clock_.advance(1s);
  t.display_name = "Acme 2";
  auto v2 = must(stores().tenants.update(t, 1));
  EXPECT_EQ(v2.revision, 2);
  EXPECT_EQ(v2.display_name, "Acme 2");
  EXPECT_EQ(v2.updated_at, clock_.unixMillis());
  // A writer still holding revision 1 loses.
  t.display_name = "stale";
  auto stale = stores().tenants.update(t, 1);
  EXPECT_EQ(codeOf(stale), ErrorCode::kConflict);
  EXPECT_EQ(must(stores().tenants.get(t.id)).display_name, "Acme 2");
  // A slug taken by another tenant is a conflict, a missing tenant is not found.
  auto other = tenant("other");
  other.slug = "acme";
  EXPECT_EQ(codeOf(stores().tenants.update(other, other.revision)), ErrorCode::kConflict);
  Tenant ghost{.id = "tnt_ghost", .slug = "ghost", .display_name = "g"};
  EXPECT_EQ(codeOf(stores().tenants.update(ghost, 1)), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, SuspendAndResumeBumpTheRevision) {
  auto t = tenant("acme");
  auto s = must(stores().tenants.suspend(t.id, "abuse: 10x usage spike"));
  EXPECT_EQ(s.status, TenantStatus::kSuspended);
  EXPECT_EQ(s.suspended_reason, "abuse: 10x usage spike");
  EXPECT_EQ(s.revision, 2);
  auto r = must(stores().tenants.resume(t.id));
  EXPECT_EQ(r.status, TenantStatus::kActive);
  EXPECT_EQ(r.suspended_reason, "");
  EXPECT_EQ(r.revision, 3);
  EXPECT_EQ(codeOf(stores().tenants.suspend("tnt_missing", "x")), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, TenantListPagesByIdWithoutGapsOrRepeats) {
  std::set<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.insert(tenant(fmt::format("t{:02}", i)).id);
  }
  std::set<std::string> seen;
  Page page{.limit = 7};
  for (;;) {
    auto batch = must(stores().tenants.list(page));
    for (const auto& t : batch) {
      EXPECT_TRUE(seen.insert(t.id).second) << "repeated " << t.id;
    }
    if (batch.size() < page.limit) {
      break;
    }
    page.after = batch.back().id;
  }
  EXPECT_EQ(seen, ids);
}

TEST_P(StorageContractTest, DeletingATenantRemovesWhatItOwnsButKeepsRecords) {
  auto t = tenant("acme");
  auto keep = tenant("keep");
  apiKey(t, 1);
  apiKey(keep, 1);
  credential(t, "main");
  must(stores().domains.insert(Domain{.host = "ai.acme.test", .tenant_id = t.id}));
  must(stores().routes.upsert(Route{.tenant_id = t.id, .model = "gpt-4o"}));
  auto u = user(t, "a@acme.test");
  must(stores().sessions.insert(Session{.token_hash = {1, 2, 3},
                                        .user_id = u.id,
                                        .tenant_id = t.id,
                                        .kind = "end_user",
                                        .expires_at = clock_.unixMillis() + 3'600'000}));
  UsageRecord usage{.request_id = "req_1", .tenant_id = t.id, .prompt_tokens = 5};
  must(stores().usage.insertBatch(std::span<const UsageRecord>(&usage, 1)));
  must(stores().audit.append(AuditEntry{.actor = "cli", .tenant_id = t.id, .action = "x"}));

  must(stores().tenants.remove(t.id));
  EXPECT_EQ(codeOf(stores().tenants.get(t.id)), ErrorCode::kNotFound);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM api_keys"), 1);  // only keep's
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM credentials"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM domains"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM routes"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM users"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sessions"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM usage_records"), 1);  // the ledger stays
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log"), 1);
  EXPECT_EQ(codeOf(stores().tenants.remove(t.id)), ErrorCode::kNotFound);
}

// ---- operator tokens -----------------------------------------------------------------------

TEST_P(StorageContractTest, OperatorTokensAreFoundByHashAndRevocable) {
  auto tok = must(stores().operator_tokens.insert(OperatorToken{.name = "ci", .hash = {9, 9, 9}}));
  EXPECT_TRUE(tok.id.starts_with("opt_"));
  EXPECT_EQ(must(stores().operator_tokens.getByHash(std::vector<unsigned char>{9, 9, 9})).id,
            tok.id);
  EXPECT_EQ(
      codeOf(stores().operator_tokens.insert(OperatorToken{.name = "dup", .hash = {9, 9, 9}})),
      ErrorCode::kConflict);
  clock_.advance(1s);
  must(stores().operator_tokens.revoke(tok.id));
  const Millis revoked_at = clock_.unixMillis();
  clock_.advance(1s);
  must(stores().operator_tokens.revoke(tok.id));  // idempotent, keeps the first time
  EXPECT_EQ(must(stores().operator_tokens.getByHash(tok.hash)).revoked_at, revoked_at);
  must(stores().operator_tokens.touchLastUsed(tok.id, 500));
  must(stores().operator_tokens.touchLastUsed(tok.id, 400));  // never backwards
  EXPECT_EQ(must(stores().operator_tokens.list()).front().last_used_at, 500);
  EXPECT_EQ(codeOf(stores().operator_tokens.revoke("opt_missing")), ErrorCode::kNotFound);
}

// ---- API keys ------------------------------------------------------------------------------

TEST_P(StorageContractTest, ApiKeysRoundTripAndAreFoundByHash) {
  auto t = tenant("acme");
  auto k = apiKey(t, 1);
  EXPECT_TRUE(k.id.starts_with("key_"));
  auto got = must(stores().api_keys.getByHash(k.hash));
  EXPECT_EQ(got.id, k.id);
  EXPECT_EQ(got.tenant_id, t.id);
  EXPECT_EQ(got.hash, k.hash);
  EXPECT_EQ(got.scopes, (std::vector<std::string>{"gpt-4o"}));
  EXPECT_EQ(got.limits.rpm, 60u);
  EXPECT_EQ(got.limits.monthly_token_quota, 5000u);
  EXPECT_EQ(got.end_user, "user-1");
  EXPECT_EQ(got.created_at, clock_.unixMillis());
  EXPECT_EQ(codeOf(stores().api_keys.getByHash(std::vector<unsigned char>{1})),
            ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().api_keys.insert(k)), ErrorCode::kConflict);  // same id and hash
  ApiKey orphan = k;
  orphan.id.clear();
  orphan.hash = {7, 7};
  orphan.tenant_id = "tnt_missing";
  EXPECT_EQ(codeOf(stores().api_keys.insert(orphan)), ErrorCode::kConflict);
}

TEST_P(StorageContractTest, ApiKeysOfAnotherTenantAreInvisible) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto ka = apiKey(a, 1);
  auto kb = apiKey(b, 1);
  EXPECT_EQ(codeOf(stores().api_keys.get(b.id, ka.id)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().api_keys.revoke(b.id, ka.id)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().api_keys.get(a.id, ka.id)).revoked_at, 0);  // untouched
  auto listed = must(stores().api_keys.list(b.id, Page{}));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, kb.id);
  // A touch naming the wrong tenant does nothing.
  KeyTouch wrong{.tenant_id = b.id, .key_id = ka.id, .at = 123};
  EXPECT_EQ(must(stores().api_keys.touchLastUsed(std::span<const KeyTouch>(&wrong, 1))), 0u);
  EXPECT_EQ(must(stores().api_keys.get(a.id, ka.id)).last_used_at, 0);
}

TEST_P(StorageContractTest, RevokedAndExpiredKeysAreNotActive) {
  auto t = tenant("acme");
  auto live = apiKey(t, 1);
  auto revoked = apiKey(t, 2);
  apiKey(t, 3, clock_.unixMillis() + 60'000);  // expires in a minute
  must(stores().api_keys.revoke(t.id, revoked.id));
  const Millis revoked_at = must(stores().api_keys.get(t.id, revoked.id)).revoked_at;
  EXPECT_EQ(revoked_at, clock_.unixMillis());
  clock_.advance(5s);
  must(stores().api_keys.revoke(t.id, revoked.id));  // idempotent
  EXPECT_EQ(must(stores().api_keys.get(t.id, revoked.id)).revoked_at, revoked_at);
  EXPECT_EQ(must(stores().api_keys.countActive(t.id)), 2u);
  clock_.advance(2min);
  EXPECT_EQ(must(stores().api_keys.countActive(t.id)), 1u);
  std::vector<std::string> active;
  must(stores().api_keys.forEachActive([&](ApiKey&& k) {
    active.push_back(k.id);
    return true;
  }));
  EXPECT_EQ(active, std::vector<std::string>{live.id});
}

TEST_P(StorageContractTest, TouchLastUsedIsBatchedAndNeverMovesBackwards) {
  auto t = tenant("acme");
  auto k1 = apiKey(t, 1);
  auto k2 = apiKey(t, 2);
  std::vector<KeyTouch> touches{{t.id, k1.id, 1000}, {t.id, k2.id, 2000}, {t.id, k1.id, 900}};
  EXPECT_EQ(must(stores().api_keys.touchLastUsed(touches)), 2u);
  EXPECT_EQ(must(stores().api_keys.get(t.id, k1.id)).last_used_at, 1000);
  EXPECT_EQ(must(stores().api_keys.get(t.id, k2.id)).last_used_at, 2000);
}

TEST_P(StorageContractTest, InsertManyLoadsAllOrNothingAndForEachActiveStreamsThemInOrder) {
  auto t = tenant("acme");
  auto u = tenant("umbrella");
  std::vector<ApiKey> keys;
  for (int i = 0; i < 1234; ++i) {
    const std::string material = fmt::format("bulk-{}", i);
    keys.push_back(ApiKey{.id = fmt::format("key_{:06}", i),
                          .tenant_id = i % 3 == 0 ? u.id : t.id,
                          .name = "bulk",
                          .hash = std::vector<unsigned char>(material.begin(), material.end()),
                          .environment = "live",
                          .created_at = 1});
  }
  EXPECT_EQ(must(stores().api_keys.insertMany(keys)), keys.size());
  // A batch with one duplicate inserts nothing.
  std::vector<ApiKey> again{keys[5]};
  again[0].id = "key_fresh";
  std::vector<ApiKey> mixed{ApiKey{.id = "key_new",
                                   .tenant_id = t.id,
                                   .hash = {1, 2, 3, 4},
                                   .environment = "live",
                                   .created_at = 1},
                            again[0]};
  EXPECT_EQ(codeOf(stores().api_keys.insertMany(mixed)), ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().api_keys.get(t.id, "key_new")), ErrorCode::kNotFound);

  must(stores().api_keys.revoke(t.id, "key_000001"));
  std::vector<std::string> streamed;
  auto n = must(stores().api_keys.forEachActive(
      [&](ApiKey&& k) {
        streamed.push_back(k.id);
        return true;
      },
      100));
  EXPECT_EQ(n, keys.size() - 1);
  ASSERT_EQ(streamed.size(), keys.size() - 1);
  EXPECT_TRUE(std::is_sorted(streamed.begin(), streamed.end()));
  EXPECT_EQ(std::count(streamed.begin(), streamed.end(), "key_000001"), 0);
  // The callback can stop the stream.
  std::size_t seen = 0;
  EXPECT_EQ(must(stores().api_keys.forEachActive([&](ApiKey&&) { return ++seen < 10; }, 4)), 10u);
  EXPECT_EQ(must(stores().api_keys.countActive(u.id)), 412u);
}

// ---- credentials ---------------------------------------------------------------------------

TEST_P(StorageContractTest, CredentialsRoundTripTheirEnvelopeAndAreTenantScoped) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto c = credential(a, "main");
  EXPECT_TRUE(c.id.starts_with("cred_"));
  EXPECT_EQ(c.revision, 1);
  auto got = must(stores().credentials.get(a.id, c.id));
  EXPECT_EQ(got.envelope.ciphertext, c.envelope.ciphertext);
  EXPECT_EQ(got.envelope.nonce, c.envelope.nonce);
  EXPECT_EQ(got.envelope.tag, c.envelope.tag);
  EXPECT_EQ(got.envelope.wrapped_dek, c.envelope.wrapped_dek);
  EXPECT_EQ(got.envelope.kek_id, "local");
  EXPECT_EQ(got.envelope.kek_version, 1u);
  EXPECT_EQ(got.fingerprint, "sk-…abcd");
  EXPECT_EQ(got.health, CredentialHealth::kUnknown);

  EXPECT_EQ(codeOf(stores().credentials.get(b.id, c.id)), ErrorCode::kNotFound);
  EXPECT_TRUE(must(stores().credentials.list(b.id)).empty());
  EXPECT_EQ(codeOf(stores().credentials.remove(b.id, c.id)), ErrorCode::kNotFound);
  Credential hijack = got;
  hijack.tenant_id = b.id;
  EXPECT_EQ(codeOf(stores().credentials.replace(hijack, 1)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().credentials.updateHealth(b.id, c.id, CredentialHealth::kOk, "")),
            ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().credentials.get(a.id, c.id)).revision, 1);

  must(stores().credentials.updateHealth(
      a.id, c.id, CredentialHealth::kRefused, "401 from provider"));
  must(stores().credentials.touchLastUsed(a.id, c.id, 4242));
  got = must(stores().credentials.get(a.id, c.id));
  EXPECT_EQ(got.health, CredentialHealth::kRefused);
  EXPECT_EQ(got.health_detail, "401 from provider");
  EXPECT_EQ(got.last_used_at, 4242);
  EXPECT_EQ(got.revision, 1);  // health is not a configuration change
  must(stores().credentials.remove(a.id, c.id));
  EXPECT_EQ(codeOf(stores().credentials.get(a.id, c.id)), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, CredentialReplaceIsCompareAndSet) {
  auto t = tenant("acme");
  auto c = credential(t, "main");
  must(stores().credentials.updateHealth(t.id, c.id, CredentialHealth::kOk, "fine"));
  Credential next = c;
  next.label = "rotated";
  next.fingerprint = "sk-…wxyz";
  next.envelope.ciphertext = {0xaa, 0xbb};
  auto v2 = must(stores().credentials.replace(next, 1));
  EXPECT_EQ(v2.revision, 2);
  EXPECT_EQ(v2.label, "rotated");
  EXPECT_EQ(v2.envelope.ciphertext, (std::vector<unsigned char>{0xaa, 0xbb}));
  EXPECT_EQ(v2.health, CredentialHealth::kUnknown);  // a new key is unvalidated
  next.label = "lost update";
  EXPECT_EQ(codeOf(stores().credentials.replace(next, 1)), ErrorCode::kConflict);
  EXPECT_EQ(must(stores().credentials.get(t.id, c.id)).label, "rotated");
}

TEST_P(StorageContractTest, KekRewrapSwapsOnlyTheWrappedDekAndIsResumable) {
  auto a = tenant("a");
  auto b = tenant("b");
  std::vector<Credential> old;
  for (int i = 0; i < 5; ++i) {
    old.push_back(credential(i % 2 == 0 ? a : b, fmt::format("c{}", i), 1));
  }
  credential(a, "already-new", 2);
  EXPECT_EQ(must(stores().credentials.countByKek("local", 1)), 5u);
  EXPECT_EQ(must(stores().credentials.countByKek("local", 2)), 1u);
  EXPECT_EQ(must(stores().credentials.countByKek("pkcs11", 1)), 0u);

  // Rewrap two, "crash", then resume: the remaining ones are exactly the unwrapped ones.
  auto first = must(stores().credentials.listByKekVersionBelow(2, 2));
  ASSERT_EQ(first.size(), 2u);
  for (const auto& c : first) {
    Envelope rewrapped = c.envelope;
    rewrapped.wrapped_dek = std::vector<unsigned char>(40, 0x44);
    rewrapped.kek_version = 2;
    rewrapped.ciphertext = {0xde, 0xad};  // must be ignored: payloads are not touched
    rewrapped.kek_id = "other";           // likewise
    EXPECT_EQ(must(stores().credentials.casUpdateEnvelope(c.id, c.revision, rewrapped)),
              c.revision + 1);
  }
  auto rest = must(stores().credentials.listByKekVersionBelow(2, 100));
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_EQ(must(stores().credentials.countByKek("local", 2)), 3u);
  const auto& done = first[0];
  auto after = must(stores().credentials.get(done.tenant_id, done.id));
  EXPECT_EQ(after.envelope.wrapped_dek, std::vector<unsigned char>(40, 0x44));
  EXPECT_EQ(after.envelope.kek_version, 2u);
  EXPECT_EQ(after.envelope.ciphertext, done.envelope.ciphertext);
  EXPECT_EQ(after.envelope.nonce, done.envelope.nonce);
  EXPECT_EQ(after.envelope.tag, done.envelope.tag);
  EXPECT_EQ(after.envelope.kek_id, "local");
  // Paging by id from a cursor.
  auto page2 = must(stores().credentials.listByKekVersionBelow(2, 100, rest[0].id));
  EXPECT_EQ(page2.size(), 2u);
}

TEST_P(StorageContractTest, ARewrapRacingAReplaceNeverResurrectsTheOldKey) {
  auto t = tenant("acme");
  auto c = credential(t, "main", 1);
  // The rewrap job read revision 1; meanwhile the tenant replaced the key.
  Credential replaced = c;
  replaced.envelope.ciphertext = {0x01};
  must(stores().credentials.replace(replaced, 1));
  Envelope rewrapped = c.envelope;
  rewrapped.kek_version = 2;
  EXPECT_EQ(codeOf(stores().credentials.casUpdateEnvelope(c.id, 1, rewrapped)),
            ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().credentials.casUpdateEnvelope("cred_missing", 1, rewrapped)),
            ErrorCode::kNotFound);
  // And a replace holding the pre-rewrap revision loses against a rewrap.
  auto current = must(stores().credentials.get(t.id, c.id));
  must(stores().credentials.casUpdateEnvelope(c.id, current.revision, rewrapped));
  EXPECT_EQ(codeOf(stores().credentials.replace(current, current.revision)), ErrorCode::kConflict);
}

// ---- JWT keys ------------------------------------------------------------------------------

TEST_P(StorageContractTest, JwtKeysAreMatchedByKidOnlyWithinTheirTenant) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto secret = credential(a, "hs256-secret");
  auto k = must(stores().jwt_keys.insert(JwtKey{.tenant_id = a.id,
                                                .kid = "k1",
                                                .algorithm = "HS256",
                                                .hmac_credential_id = secret.id,
                                                .issuer = "https://a.test"}));
  must(stores().jwt_keys.insert(
      JwtKey{.tenant_id = a.id, .kid = "k2", .algorithm = "RS256", .public_pem = "-----BEGIN"}));
  EXPECT_EQ(must(stores().jwt_keys.findByKid(a.id, "k1")).id, k.id);
  EXPECT_EQ(must(stores().jwt_keys.findByKid(a.id, "k1")).hmac_credential_id, secret.id);
  EXPECT_EQ(must(stores().jwt_keys.findByKid(a.id, "k2")).hmac_credential_id, "");
  EXPECT_EQ(codeOf(stores().jwt_keys.findByKid(b.id, "k1")), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().jwt_keys.get(b.id, k.id)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().jwt_keys.list(a.id)).size(), 2u);
  EXPECT_EQ(codeOf(stores().jwt_keys.insert(
                JwtKey{.tenant_id = a.id, .kid = "k1", .algorithm = "HS256"})),
            ErrorCode::kConflict);
  // The same kid in another tenant is fine; another tenant's credential is not.
  must(stores().jwt_keys.insert(JwtKey{.tenant_id = b.id, .kid = "k1", .algorithm = "ES256"}));
  EXPECT_EQ(codeOf(stores().jwt_keys.insert(JwtKey{.tenant_id = b.id,
                                                   .kid = "steal",
                                                   .algorithm = "HS256",
                                                   .hmac_credential_id = secret.id})),
            ErrorCode::kConflict);
  // A credential backing a JWT key cannot be deleted from under it.
  EXPECT_EQ(codeOf(stores().credentials.remove(a.id, secret.id)), ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().jwt_keys.remove(b.id, k.id)), ErrorCode::kNotFound);
  must(stores().jwt_keys.remove(a.id, k.id));
  must(stores().credentials.remove(a.id, secret.id));
}

}  // namespace
}  // namespace livery::storage::contract

namespace livery::storage::contract {

// ---- bulk loaders (start-up index loading) ---------------------------------------------------

TEST_P(StorageContractTest, BulkLoadersPageThroughEveryTenantsRowsExactlyOnce) {
  auto a = tenant("bulk-a");
  auto b = tenant("bulk-b");
  std::set<std::string> creds;
  for (int i = 0; i < 5; ++i) {
    creds.insert(credential(a, "a" + std::to_string(i)).id);
    creds.insert(credential(b, "b" + std::to_string(i)).id);
  }
  std::set<std::string> seen;
  Page page{.limit = 3};
  for (;;) {
    auto batch = must(stores().credentials.listAll(page));
    if (batch.empty()) {
      break;
    }
    for (const auto& c : batch) {
      EXPECT_TRUE(seen.insert(c.id).second) << "seen twice: " << c.id;
      EXPECT_FALSE(c.envelope.ciphertext.empty());
    }
    page.after = batch.back().id;
  }
  EXPECT_EQ(seen, creds);

  Branding br;
  br.tenant_id = a.id;
  br.display_name = "A";
  must(stores().branding.upsert(br));
  br.tenant_id = b.id;
  br.display_name = "B";
  must(stores().branding.upsert(br));
  auto all_branding = must(stores().branding.listAll({.limit = 10}));
  ASSERT_EQ(all_branding.size(), 2u);
  EXPECT_LT(all_branding[0].tenant_id, all_branding[1].tenant_id);

  PromptVersion draft;
  draft.tenant_id = b.id;
  draft.content = "be kind";
  draft.author = "test";
  auto v1 = must(stores().prompts.create(draft));
  EXPECT_TRUE(
      must(stores().prompts.listActiveAll({.limit = 10})).empty());  // drafts are not active
  must(stores().prompts.activate(b.id, v1.id, EvalGate::kSkip));
  auto active = must(stores().prompts.listActiveAll({.limit = 10}));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].tenant_id, b.id);
  EXPECT_EQ(active[0].content, "be kind");

  JwtKey k;
  k.tenant_id = a.id;
  k.kid = "k1";
  k.algorithm = "RS256";
  k.public_pem = "pem";
  must(stores().jwt_keys.insert(k));
  auto keys = must(stores().jwt_keys.listAll({.limit = 10}));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].tenant_id, a.id);
}

}  // namespace livery::storage::contract
