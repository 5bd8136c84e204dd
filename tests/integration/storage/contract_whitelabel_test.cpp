// Contract: domains, branding, assets, prompt versions and routes.

#include <algorithm>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "integration/storage/contract_fixture.hpp"
#include "storage/codec.hpp"

namespace livery::storage::contract {
namespace {

using namespace std::chrono_literals;

// ---- domains -------------------------------------------------------------------------------

TEST_P(StorageContractTest, DomainsMapOneHostToOneTenantCaseInsensitively) {
  auto a = tenant("a");
  auto b = tenant("b");
  must(stores().domains.insert(
      Domain{.host = "AI.Acme.Test", .tenant_id = a.id, .verification_token = "tok"}));
  auto resolved = must(stores().domains.resolve("ai.ACME.test"));
  EXPECT_EQ(resolved.tenant_id, a.id);
  EXPECT_EQ(resolved.host, "ai.acme.test");
  EXPECT_EQ(resolved.status, DomainStatus::kPending);
  EXPECT_EQ(codeOf(stores().domains.insert(Domain{.host = "ai.acme.test", .tenant_id = b.id})),
            ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().domains.get(b.id, "ai.acme.test")), ErrorCode::kNotFound);
  EXPECT_TRUE(must(stores().domains.list(b.id)).empty());
  EXPECT_EQ(codeOf(stores().domains.remove(b.id, "ai.acme.test")), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().domains.resolve("unknown.test")), ErrorCode::kNotFound);
  must(stores().domains.insert(Domain{.host = "b.test", .tenant_id = b.id}));
  EXPECT_EQ(must(stores().domains.listAll(Page{.limit = 1})).size(), 1u);
  EXPECT_EQ(must(stores().domains.listAll(Page{.limit = 1, .after = "ai.acme.test"}))[0].host,
            "b.test");
}

TEST_P(StorageContractTest, DomainStatusFollowsTheVerificationLifecycle) {
  auto a = tenant("a");
  auto b = tenant("b");
  must(stores().domains.insert(Domain{.host = "ai.acme.test", .tenant_id = a.id}));
  // Skipping verification is refused; so is another tenant's attempt.
  EXPECT_EQ(codeOf(stores().domains.setStatus(a.id, "ai.acme.test", DomainStatus::kActive)),
            ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().domains.setStatus(b.id, "ai.acme.test", DomainStatus::kVerified)),
            ErrorCode::kNotFound);
  clock_.advance(10s);
  auto verified = must(stores().domains.setStatus(a.id, "ai.acme.test", DomainStatus::kVerified));
  EXPECT_EQ(verified.status, DomainStatus::kVerified);
  EXPECT_EQ(verified.verified_at, clock_.unixMillis());
  auto active = must(stores().domains.setStatus(a.id, "ai.acme.test", DomainStatus::kActive));
  EXPECT_EQ(active.status, DomainStatus::kActive);
  EXPECT_EQ(active.verified_at, verified.verified_at);
  EXPECT_EQ(must(stores().domains.resolve("ai.acme.test")).status, DomainStatus::kActive);
  must(stores().domains.setStatus(a.id, "ai.acme.test", DomainStatus::kActive));  // no-op
  auto pending = must(stores().domains.setStatus(a.id, "ai.acme.test", DomainStatus::kPending));
  EXPECT_EQ(pending.verified_at, 0);
}

// ---- branding and assets -------------------------------------------------------------------

TEST_P(StorageContractTest, BrandingIsOnePerTenantAndValidatesColours) {
  auto a = tenant("a");
  auto b = tenant("b");
  EXPECT_EQ(codeOf(stores().branding.get(a.id)), ErrorCode::kNotFound);
  must(stores().branding.upsert(Branding{.tenant_id = a.id,
                                         .display_name = "Acme <AI>",
                                         .primary_color = "#112233",
                                         .support_email = "help@acme.test"}));
  clock_.advance(1s);
  must(stores().branding.upsert(
      Branding{.tenant_id = a.id, .display_name = "Acme AI", .primary_color = "#445566"}));
  auto got = must(stores().branding.get(a.id));
  EXPECT_EQ(got.display_name, "Acme AI");
  EXPECT_EQ(got.primary_color, "#445566");
  EXPECT_EQ(got.support_email, "");  // replaced, not merged
  EXPECT_EQ(got.updated_at, clock_.unixMillis());
  EXPECT_EQ(codeOf(stores().branding.get(b.id)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().branding.upsert(
                Branding{.tenant_id = a.id, .primary_color = "red;}body{x:y"})),
            ErrorCode::kBadRequest);
  EXPECT_EQ(codeOf(stores().branding.upsert(Branding{.tenant_id = "tnt_missing"})),
            ErrorCode::kConflict);
  EXPECT_EQ(codeOf(stores().branding.remove(b.id)), ErrorCode::kNotFound);
  must(stores().branding.remove(a.id));
}

TEST_P(StorageContractTest, AssetsAreContentAddressedPerTenant) {
  auto a = tenant("a");
  auto b = tenant("b");
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  auto asset = must(stores().assets.put(a.id, "image/png", png));
  EXPECT_EQ(asset.hash, sha256Hex(png));
  EXPECT_EQ(asset.bytes, png);
  clock_.advance(1s);
  auto again = must(stores().assets.put(a.id, "image/png", png));  // idempotent
  EXPECT_EQ(again.created_at, asset.created_at);
  auto got = must(stores().assets.get(a.id, asset.hash));
  EXPECT_EQ(got.bytes, png);  // binary-safe, NULs included
  EXPECT_EQ(got.content_type, "image/png");
  EXPECT_EQ(codeOf(stores().assets.get(b.id, asset.hash)), ErrorCode::kNotFound);
  auto listed = must(stores().assets.list(a.id));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].bytes.empty());
  AssetStore tiny(db(), clock_, 8);
  EXPECT_EQ(codeOf(tiny.put(a.id, "image/png", png)), ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(codeOf(stores().assets.remove(b.id, asset.hash)), ErrorCode::kNotFound);
  must(stores().assets.remove(a.id, asset.hash));
}

// ---- prompts -------------------------------------------------------------------------------

PromptVersion draft(const Tenant& t, const std::string& content) {
  return PromptVersion{.tenant_id = t.id, .content = content, .author = "alice", .note = "n"};
}

TEST_P(StorageContractTest, PromptVersionsAreNumberedPerTenant) {
  auto a = tenant("a");
  auto b = tenant("b");
  EXPECT_EQ(must(stores().prompts.create(draft(a, "v1"))).version, 1);
  EXPECT_EQ(must(stores().prompts.create(draft(a, "v2"))).version, 2);
  EXPECT_EQ(must(stores().prompts.create(draft(b, "b1"))).version, 1);
  auto v3 = must(stores().prompts.create(draft(a, "v3")));
  EXPECT_EQ(v3.version, 3);
  EXPECT_EQ(v3.status, PromptStatus::kDraft);
  EXPECT_EQ(must(stores().prompts.getVersion(a.id, 2)).content, "v2");
  auto listed = must(stores().prompts.list(a.id));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].version, 3);  // newest first
  EXPECT_EQ(codeOf(stores().prompts.get(b.id, v3.id)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().prompts.create(draft(Tenant{.id = "tnt_missing"}, "x"))),
            ErrorCode::kConflict);
}

TEST_P(StorageContractTest, ConcurrentPromptCreationStaysGapFree) {
  auto t = tenant("acme");
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::int64_t> versions;
  std::vector<std::string> errors;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        auto v = stores().prompts.create(draft(t, fmt::format("{}-{}", i, j)));
        std::lock_guard lock(mu);
        if (v) {
          versions.push_back(v->version);
        } else {
          errors.push_back(errorText(v));
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::sort(versions.begin(), versions.end());
  std::vector<std::int64_t> expected(kThreads * kEach);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(versions, expected);
}

TEST_P(StorageContractTest, ActivationPassesTheEvalGateAndMovesTheTenantPointerAtomically) {
  auto t = tenant("acme");
  auto other = tenant("other");
  auto v1 = must(stores().prompts.create(draft(t, "v1")));
  auto v2 = must(stores().prompts.create(draft(t, "v2")));
  EXPECT_EQ(codeOf(stores().prompts.active(t.id)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().prompts.activate(t.id, v1.id)), ErrorCode::kUnprocessable);
  must(stores().prompts.recordEval(t.id, v1.id, R"({"score":0.97})", true));
  EXPECT_EQ(codeOf(stores().prompts.recordEval(other.id, v1.id, "{}", true)), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().prompts.activate(other.id, v1.id)), ErrorCode::kNotFound);

  auto active = must(stores().prompts.activate(t.id, v1.id));
  EXPECT_EQ(active.status, PromptStatus::kActive);
  auto tenant_now = must(stores().tenants.get(t.id));
  EXPECT_EQ(tenant_now.active_prompt_id, v1.id);
  EXPECT_EQ(tenant_now.revision, 2);
  EXPECT_EQ(must(stores().prompts.active(t.id)).eval_json, R"({"score":0.97})");

  must(stores().prompts.recordEval(t.id, v2.id, R"({"score":0.99})", true));
  clock_.advance(1s);
  must(stores().prompts.activate(t.id, v2.id));
  EXPECT_EQ(must(stores().tenants.get(t.id)).active_prompt_id, v2.id);
  EXPECT_EQ(must(stores().prompts.get(t.id, v1.id)).status, PromptStatus::kRetired);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM prompt_versions WHERE status = 'active'"), 1);
  // The other tenant is untouched.
  EXPECT_EQ(must(stores().tenants.get(other.id)).active_prompt_id, "");
  // An operator override can skip the gate.
  auto v3 = must(stores().prompts.create(draft(t, "v3")));
  must(stores().prompts.activate(t.id, v3.id, EvalGate::kSkip));
  EXPECT_EQ(must(stores().prompts.active(t.id)).id, v3.id);
}

TEST_P(StorageContractTest, RollbackStepsBackThroughPreviouslyActiveVersions) {
  auto t = tenant("acme");
  std::vector<PromptVersion> v;
  for (int i = 1; i <= 4; ++i) {
    v.push_back(must(stores().prompts.create(draft(t, fmt::format("v{}", i)))));
  }
  EXPECT_EQ(codeOf(stores().prompts.rollback(t.id)), ErrorCode::kNotFound);
  for (int i : {0, 2, 3}) {  // v2 is never activated
    must(stores().prompts.activate(t.id, v[static_cast<std::size_t>(i)].id, EvalGate::kSkip));
    clock_.advance(1s);
  }
  EXPECT_EQ(must(stores().prompts.rollback(t.id)).id, v[2].id);
  EXPECT_EQ(must(stores().tenants.get(t.id)).active_prompt_id, v[2].id);
  EXPECT_EQ(must(stores().prompts.rollback(t.id)).id, v[0].id);  // skips never-active v2
  EXPECT_EQ(codeOf(stores().prompts.rollback(t.id)), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().prompts.active(t.id)).id, v[0].id);
}

// ---- routes --------------------------------------------------------------------------------

TEST_P(StorageContractTest, RoutesResolveToTheTenantsOwnThenTheOperatorDefault) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto cred = credential(a, "openai");
  must(stores().routes.upsert(
      Route{.tenant_id = "",
            .model = "gpt-4o",
            .deployments = {{.name = "default-openai", .provider = "openai", .model = "gpt-4o"}}}));
  must(stores().routes.upsert(Route{
      .tenant_id = a.id,
      .model = "gpt-4o",
      .deployments = {
          {.name = "a-openai", .provider = "openai", .model = "gpt-4o", .credential_id = cred.id},
          {.name = "a-local", .provider = "ollama", .model = "llama3", .priority = 1}}}));
  auto ra = must(stores().routes.resolve(a.id, "gpt-4o"));
  EXPECT_EQ(ra.tenant_id, a.id);
  ASSERT_EQ(ra.deployments.size(), 2u);
  EXPECT_EQ(ra.deployments[0].credential_id, cred.id);
  EXPECT_EQ(ra.deployments[1].priority, 1);
  auto rb = must(stores().routes.resolve(b.id, "gpt-4o"));
  EXPECT_EQ(rb.tenant_id, "");
  EXPECT_EQ(rb.deployments[0].name, "default-openai");
  EXPECT_EQ(codeOf(stores().routes.resolve(b.id, "claude")), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().routes.get(b.id, "gpt-4o")), ErrorCode::kNotFound);
  EXPECT_EQ(must(stores().routes.list("")).size(), 1u);
  EXPECT_EQ(must(stores().routes.list(a.id)).size(), 1u);
  EXPECT_EQ(must(stores().routes.listAll(10)).size(), 2u);
  auto second = must(stores().routes.listAll(1, "", "gpt-4o"));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].tenant_id, a.id);
  // Upsert replaces.
  must(stores().routes.upsert(Route{.tenant_id = a.id, .model = "gpt-4o"}));
  EXPECT_TRUE(must(stores().routes.get(a.id, "gpt-4o")).deployments.empty());
  EXPECT_EQ(codeOf(stores().routes.remove(b.id, "gpt-4o")), ErrorCode::kNotFound);
  must(stores().routes.remove(a.id, "gpt-4o"));
  EXPECT_EQ(must(stores().routes.resolve(a.id, "gpt-4o")).tenant_id, "");
}

TEST_P(StorageContractTest, ARouteCannotUseAnotherTenantsCredential) {
  auto a = tenant("a");
  auto b = tenant("b");
  auto a_cred = credential(a, "openai");
  auto r = stores().routes.upsert(
      Route{.tenant_id = b.id,
            .model = "gpt-4o",
            .deployments = {{.name = "x", .provider = "openai", .credential_id = a_cred.id}}});
  EXPECT_EQ(codeOf(r), ErrorCode::kNotFound);
  EXPECT_EQ(codeOf(stores().routes.upsert(Route{
                .tenant_id = "",
                .model = "gpt-4o",
                .deployments = {{.name = "x", .provider = "openai", .credential_id = a_cred.id}}})),
            ErrorCode::kBadRequest);
  EXPECT_EQ(codeOf(stores().routes.upsert(Route{.tenant_id = "tnt_missing", .model = "m"})),
            ErrorCode::kNotFound);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM routes"), 0);
}

}  // namespace
}  // namespace livery::storage::contract
