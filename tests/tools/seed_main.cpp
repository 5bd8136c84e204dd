// livery-seed: prepares a data directory for process-level tests, the Node SDK test and the load
// benchmarks, through the same control plane the CLI and the admin API use. Prints one JSON
// document with the tenants and their API keys (secrets: test data only).
//
//   livery-seed --data-dir D --upstream http://127.0.0.1:P [--tenants N] [--plan-tokens Q]
//               [--rpm R] [--keys-per-tenant K] [--bulk-keys M] [--limited-rpm R]
//               [--set key=value]...
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/api_key.hpp"
#include "storage/stores.hpp"

namespace {

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) {
      return argv[i + 1];
    }
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace livery;  // NOLINT(google-build-using-namespace): a small tool
  std::string data_dir = arg(argc, argv, "--data-dir", ".livery");
  std::string upstream = arg(argc, argv, "--upstream", "http://127.0.0.1:18000");
  int tenants = std::stoi(arg(argc, argv, "--tenants", "1"));
  auto quota = std::stoull(arg(argc, argv, "--plan-tokens", "0"));
  auto rpm = static_cast<std::uint32_t>(std::stoul(arg(argc, argv, "--rpm", "0")));
  int keys_per_tenant = std::stoi(arg(argc, argv, "--keys-per-tenant", "1"));
  long bulk_keys = std::stol(arg(argc, argv, "--bulk-keys", "0"));
  // The last tenant gets this requests-per-minute override (rate-limit tests); 0: none.
  auto limited_rpm = static_cast<std::uint32_t>(std::stoul(arg(argc, argv, "--limited-rpm", "0")));

  // --set key=value (repeatable): any configuration key, e.g. a PostgreSQL backend.
  config::LoadOptions lo;
  lo.flags.emplace_back("data_dir", data_dir);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--set") {
      std::string kv = argv[i + 1];
      auto eq = kv.find('=');
      if (eq != std::string::npos) {
        lo.flags.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      }
    }
  }
  config::Config cfg;
  try {
    cfg = config::load(lo);
  } catch (const config::ConfigError& e) {
    std::cerr << "livery-seed: " << e.describe() << "\n";
    return 2;
  }
  SystemClock clock;
  Logger log(std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock);
  try {
    auto core = app::CoreServices::open(cfg, clock, log, true);
    auto& cp = *core->control;
    auto actor = control::Actor::cli();
    storage::Plan plan;
    plan.id = "seed";
    plan.name = "Seed plan";
    plan.monthly_token_quota = quota;
    plan.rpm = rpm;
    if (auto p = cp.createPlan(actor, plan); !p && p.error().code != ErrorCode::kConflict) {
      std::cerr << "plan: " << p.error().client_message << "\n";
      return 1;
    }
    boost::json::array out;
    for (int i = 0; i < tenants; ++i) {
      auto slug = "tenant" + std::to_string(i);
      auto t = cp.createTenant(actor, {slug, "Tenant " + std::to_string(i), "seed"});
      if (!t) {
        std::cerr << "tenant: " << t.error().client_message << "\n";
        return 1;
      }
      auto key = SecretBytes::copyOf(std::string_view("sk-fake-openai-key"));
      auto c =
          cp.addCredential(actor, t->id, {"openai", "seed-openai", upstream + "/v1", "{}"}, key);
      auto ak = SecretBytes::copyOf(std::string_view("sk-ant-fake-anthropic-key"));
      auto ca = cp.addCredential(actor, t->id, {"anthropic", "seed-anthropic", upstream, "{}"}, ak);
      if (!c || !ca) {
        std::cerr << "credential failed\n";
        return 1;
      }
      for (const char* model : {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}) {
        storage::Deployment d;
        d.provider = "openai";
        d.model = model;
        d.credential_id = c->id;
        (void)cp.setRoute(actor, t->id, model, {d});
      }
      storage::Deployment d;
      d.provider = "anthropic";
      d.model = "claude-sonnet-4-20250514";
      d.credential_id = ca->id;
      (void)cp.setRoute(actor, t->id, "claude-sonnet", {d});
      if (limited_rpm != 0 && i + 1 == tenants) {
        control::TenantPatch patch;
        storage::PlanOverrides o;
        o.rpm = limited_rpm;
        patch.overrides = o;
        (void)cp.updateTenant(actor, t->id, patch);
      }
      boost::json::array keys;
      for (int k = 0; k < keys_per_tenant; ++k) {
        control::KeySpec spec;
        spec.name = "seed-" + std::to_string(k);
        auto issued = cp.issueApiKey(actor, t->id, spec);
        if (!issued) {
          std::cerr << "key: " << issued.error().client_message << "\n";
          return 1;
        }
        keys.emplace_back(std::string(issued->secret.reveal()));
      }
      boost::json::object o{{"id", t->id}, {"slug", slug}, {"keys", keys}};
      out.emplace_back(std::move(o));
    }
    if (bulk_keys > 0) {
      // Many keys for the start-up and authentication benchmarks, spread over the tenants, in
      // batches (their hashes are real HMACs, the keys themselves are thrown away).
      crypto::OpenSslRandom random;
      std::vector<storage::ApiKey> batch;
      auto list = core->stores->tenants.list({.limit = 10'000});
      for (long n = 0; n < bulk_keys; ++n) {
        auto secret = crypto::api_key::generate(crypto::TokenKind::kLive, random);
        auto digest = core->hasher->hash(secret->reveal());
        storage::ApiKey k;
        k.tenant_id = (*list)[static_cast<std::size_t>(n) % list->size()].id;
        k.name = "bulk";
        k.hash.assign(digest->begin(), digest->end());
        k.last4 = crypto::api_key::last4(secret->reveal());
        k.environment = "live";
        batch.push_back(std::move(k));
        if (batch.size() == 5000 || n + 1 == bulk_keys) {
          if (auto r = core->stores->api_keys.insertMany(batch); !r) {
            std::cerr << "bulk keys: " << r.error().client_message << "\n";
            return 1;
          }
          batch.clear();
        }
      }
    }
    boost::json::object root{{"tenants", out}};
    std::cout << boost::json::serialize(root) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "livery-seed: " << e.what() << "\n";
    return 1;
  }
}
