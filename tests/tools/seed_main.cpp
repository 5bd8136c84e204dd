// livery-seed: prepares a data directory for process-level tests, the Node SDK test and the load
// benchmarks, through the same control plane the CLI and the admin API use. Prints one JSON
// document with the tenants and their API keys (secrets: test data only).
//
//   livery-seed --data-dir D --upstream http://127.0.0.1:P [--tenants N] [--plan-tokens Q]
//               [--rpm R] [--keys-per-tenant K] [--bulk-tenants T] [--bulk-keys M]
//               [--limited-rpm R] [--set key=value]...
//
// --bulk-tenants T adds T more tenants ("bulk<i>", each with one sealed OpenAI credential and a
// gpt-4o route) straight through the stores, without the control plane's audit entries, for the
// start-up benchmark (bench/startup.sh); they are not listed in the output. --bulk-keys M adds M
// API keys spread over every tenant (real HMACs; the keys themselves are thrown away). Seeding
// 100,000 tenants is much faster with `--set storage.sqlite_synchronous=normal`.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
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
  long bulk_tenants = std::stol(arg(argc, argv, "--bulk-tenants", "0"));
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
    if (bulk_tenants > 0) {
      // One transaction per row, like the stores' own API: no shortcut around their checks.
      auto started = std::chrono::steady_clock::now();
      const auto fake_key = SecretBytes::copyOf(std::string_view("sk-fake-openai-bulk-key"));
      const std::string fingerprint = fingerprintOf(fake_key.reveal());
      for (long n = 0; n < bulk_tenants; ++n) {
        storage::Tenant t;
        t.slug = "bulk" + std::to_string(n);
        t.display_name = "Bulk tenant " + std::to_string(n);
        t.plan_id = "seed";
        auto created = core->stores->tenants.create(std::move(t));
        if (!created) {
          std::cerr << "bulk tenant: " << created.error().client_message << "\n";
          return 1;
        }
        storage::Credential c;
        c.id = randomId("cred");  // part of the envelope's binding, so known before sealing
        c.tenant_id = created->id;
        c.provider = "openai";
        c.label = "bulk-openai";
        c.base_url = upstream + "/v1";
        c.options_json = "{}";
        c.fingerprint = fingerprint;
        auto sealed = core->vault->seal({c.tenant_id, c.id, c.provider}, fake_key);
        if (!sealed) {
          std::cerr << "bulk credential: " << sealed.error().client_message << "\n";
          return 1;
        }
        c.envelope = std::move(*sealed);
        auto cred = core->stores->credentials.insert(std::move(c));
        if (!cred) {
          std::cerr << "bulk credential: " << cred.error().client_message << "\n";
          return 1;
        }
        storage::Route route;
        route.tenant_id = created->id;
        route.model = "gpt-4o";
        storage::Deployment d;
        d.name = "openai-gpt-4o";
        d.provider = "openai";
        d.model = "gpt-4o";
        d.credential_id = cred->id;
        route.deployments.push_back(std::move(d));
        if (auto r = core->stores->routes.upsert(std::move(route)); !r) {
          std::cerr << "bulk route: " << r.error().client_message << "\n";
          return 1;
        }
        if ((n + 1) % 10'000 == 0) {
          std::cerr << "livery-seed: " << n + 1 << " bulk tenants ("
                    << std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - started)
                           .count()
                    << " s)\n";
        }
      }
    }
    if (bulk_keys > 0) {
      // Many keys for the start-up and authentication benchmarks, spread over every tenant, in
      // batches (their hashes are real HMACs, the keys themselves are thrown away).
      std::vector<std::string> tenant_ids;
      storage::Page page{.limit = storage::kMaxPageSize};
      for (;;) {
        auto list = core->stores->tenants.list(page);
        if (!list) {
          std::cerr << "tenants: " << list.error().client_message << "\n";
          return 1;
        }
        if (list->empty()) {
          break;
        }
        page.after = list->back().id;
        for (auto& t : *list) {
          tenant_ids.push_back(std::move(t.id));
        }
      }
      if (tenant_ids.empty()) {
        std::cerr << "bulk keys: no tenant to give them to\n";
        return 1;
      }
      crypto::OpenSslRandom random;
      IdGenerator ids;
      const auto now = clock.unixMillis();
      std::vector<storage::ApiKey> batch;
      for (long n = 0; n < bulk_keys; ++n) {
        auto secret = crypto::api_key::generate(crypto::TokenKind::kLive, random);
        if (!secret) {
          std::cerr << "bulk keys: " << secret.error().client_message << "\n";
          return 1;
        }
        auto digest = core->hasher->hash(secret->reveal());
        if (!digest) {
          std::cerr << "bulk keys: " << digest.error().client_message << "\n";
          return 1;
        }
        storage::ApiKey k;
        k.id = ids.next("key");
        k.tenant_id = tenant_ids[static_cast<std::size_t>(n) % tenant_ids.size()];
        k.name = "bulk";
        k.hash.assign(digest->begin(), digest->end());
        k.last4 = crypto::api_key::last4(secret->reveal());
        k.environment = "live";
        k.created_at = now;
        batch.push_back(std::move(k));
        if (batch.size() == 5000 || n + 1 == bulk_keys) {
          if (auto r = core->stores->api_keys.insertMany(batch); !r) {
            std::cerr << "bulk keys: " << r.error().client_message << " " << r.error().log_detail
                      << "\n";
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
