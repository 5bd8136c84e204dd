// `livery credential …` (a tenant's provider keys) and `livery kms …` (the KEK lifecycle). See
// cli_support.hpp for the conventions.
//
// A provider key never appears on the command line (it would land in shell history and in
// /proc/<pid>/cmdline): it is read from --key-file, from a pipe, or from the terminal with the
// echo off, into SecretBytes, and leaves this process only sealed by the vault or inside the
// one validation request to the provider. Output shows fingerprints ("sk-…abcd") only.
#include <algorithm>
#include <exception>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/json_model.hpp"
#include "app/cli_support.hpp"
#include "app/core_services.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/metrics.hpp"
#include "crypto/envelope.hpp"
#include "crypto/vault.hpp"
#include "providers/registry.hpp"
#include "storage/stores.hpp"
#include "upstream/http_client.hpp"
#include "upstream/resolver.hpp"

namespace livery::app::cli {

namespace json = boost::json;

namespace {

// ---- validation against the provider ---------------------------------------------------------

// Bounds of the one validation request (tighter than the gateway's request deadlines: a key
// check is a small GET).
constexpr auto kProbeFirstByte = std::chrono::seconds(15);
constexpr auto kProbeTotal = std::chrono::seconds(30);
constexpr std::size_t kProbeMaxBody = 8 * 1024 * 1024;

struct ProbeVerdict {
  bool ok = false;
  storage::CredentialHealth health = storage::CredentialHealth::kUnknown;
  std::string message;  // client-safe: never the key, never provider text that could carry it
  std::size_t models = 0;
};

storage::CredentialHealth healthOf(providers::ModelsProbe::Outcome o) {
  using O = providers::ModelsProbe::Outcome;
  switch (o) {
    case O::kOk:
      return storage::CredentialHealth::kOk;
    case O::kKeyRefused:
    case O::kNoPermission:
      return storage::CredentialHealth::kRefused;
    case O::kUnavailable:
      return storage::CredentialHealth::kUnreachable;
    case O::kRateLimited:
    case O::kUnexpected:
      return storage::CredentialHealth::kUnknown;
  }
  return storage::CredentialHealth::kUnknown;
}

// Sends the list-models request and reads the verdict. `client`, `adapter` and `verdict` outlive
// the io_context run that drives this coroutine (validateKey below); the request holds a borrowed
// pointer to the key, which lives in validateKey's caller.
net::awaitable<void> probeOnce(upstream::HttpClient& client,
                               upstream::Request request,
                               const providers::ProviderAdapter& adapter,
                               ProbeVerdict& verdict) {
  {
    auto sent = co_await client.send(std::move(request));
    if (!sent) {
      verdict.health = storage::CredentialHealth::kUnreachable;
      verdict.message = "could not reach the provider: " + sent.error().client_message;
    } else {
      auto& response = **sent;
      auto body = co_await response.readAll();
      if (!body) {
        verdict.health = storage::CredentialHealth::kUnreachable;
        verdict.message = "the provider's answer broke off: " + body.error().client_message;
      } else {
        providers::UpstreamReply reply{response.status(),
                                       *body,
                                       response.header("retry-after"),
                                       response.header("retry-after-ms")};
        auto probe = adapter.parseListModelsResponse(reply);
        verdict.ok = probe.outcome == providers::ModelsProbe::Outcome::kOk;
        verdict.health = healthOf(probe.outcome);
        verdict.models = probe.model_count;
        verdict.message =
            probe.message.empty() ? std::string(providers::toString(probe.outcome)) : probe.message;
        verdict.message += " (HTTP " + std::to_string(response.status()) + ")";
      }
    }
  }
}

// Checks `key` with the provider's cheapest authenticated call (list models) through the same
// upstream client and outbound guard the gateway uses, on a private io_context.
ProbeVerdict validateKey(Invocation& inv,
                         const std::string& provider,
                         const std::string& base_url,
                         const std::string& options_json,
                         const SecretBytes& key) {
  ProbeVerdict verdict;
  providers::ProviderRegistry registry;
  providers::registerBuiltinProviders(registry);
  const auto* adapter = registry.find(provider);
  if (adapter == nullptr) {
    verdict.message = "no adapter for provider '" + printable(provider) + "'";
    return verdict;
  }
  auto built = adapter->buildListModelsRequest(providers::Target{base_url, "", options_json});
  if (!built) {
    verdict.message = "the credential's settings are invalid: " + built.error().client_message;
    return verdict;
  }
  upstream::Request request;
  request.method = built->method;
  request.url = built->url;
  for (auto& [name, value] : built->headers) {
    request.headers.push_back({name, value});
  }
  request.body = built->body;
  if (!key.empty()) {
    request.auth = upstream::AuthInjection{built->auth.header, built->auth.prefix, &key};
  }

  auto cfg = inv.config().upstream;
  cfg.first_byte_timeout = std::min<config::Duration>(cfg.first_byte_timeout, kProbeFirstByte);
  cfg.idle_timeout = std::min<config::Duration>(cfg.idle_timeout, kProbeFirstByte);
  cfg.total_timeout = std::min<config::Duration>(cfg.total_timeout, kProbeTotal);
  cfg.max_response_bytes = std::min(cfg.max_response_bytes, kProbeMaxBody);
  net::io_context io;
  MetricsRegistry metrics;
  auto resolver = upstream::makeSystemResolver();
  auto client =
      upstream::HttpClient::create(io.get_executor(), cfg, *resolver, metrics, inv.clock());
  if (!client) {
    verdict.message = "cannot create the upstream client: " + client.error().client_message;
    return verdict;
  }
  std::exception_ptr escaped;
  auto& http = **client;
  net::co_spawn(io,
                probeOnce(http, std::move(request), *adapter, verdict),
                [&escaped, &http](const std::exception_ptr& e) {
                  escaped = e;
                  // On every path, so no pooled connection or sweep timer keeps io.run() going.
                  http.shutdown();
                });
  io.run();
  if (escaped) {
    verdict = ProbeVerdict{};
    verdict.message = "the key check failed unexpectedly";
  }
  return verdict;
}

// ---- helpers ---------------------------------------------------------------------------------

Result<std::string> optionsJson(const std::vector<std::string>& pairs) {
  json::object o;
  for (const auto& kv : pairs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::kBadRequest,
                  "--option expects KEY=VALUE, got '" + printable(kv) + "'");
    }
    auto k = kv.substr(0, eq);
    auto v = kv.substr(eq + 1);
    if (v == "true" || v == "false") {
      o[k] = v == "true";
    } else if (!v.empty() && v.size() < 19 &&
               std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      o[k] = std::stoull(v);
    } else {
      o[k] = v;
    }
  }
  return json::serialize(o);
}

std::string providerList() {
  providers::ProviderRegistry registry;
  providers::registerBuiltinProviders(registry);
  std::string out;
  for (auto n : registry.names()) {
    out += (out.empty() ? "" : ", ") + std::string(n);
  }
  return out;
}

bool knownProvider(std::string_view p) {
  providers::ProviderRegistry registry;
  providers::registerBuiltinProviders(registry);
  return registry.find(p) != nullptr;
}

void defineTenantOption(CLI::App& c) {
  c.add_option("--tenant")->description("Tenant slug or id")->required();
}

void defineKeySource(CLI::App& c) {
  c.add_option("--key-file")
      ->description("Read the provider key from this file (default: stdin, or a hidden prompt)")
      ->check(CLI::ExistingFile);
  c.add_flag("--skip-validation")
      ->description("Store the key without checking it with the provider");
  // Accepted only to refuse it with a clear message (a key must not be on the command line).
  c.add_option("--key")->group("");
}

// Reads the key and refuses the ways it must not arrive.
Result<SecretBytes> readProviderKey(Invocation& inv, std::string_view provider) {
  auto key = readSecret(inv,
                        "Provider key for " + std::string(provider) + " (input hidden): ",
                        inv.text("--key-file"));
  if (!key) {
    return key;
  }
  // Even Ollama needs a non-empty value: the vault seals 1 to 65536 bytes.
  if (key->empty()) {
    return fail(ErrorCode::kBadRequest,
                "no key given: pipe it on stdin or use --key-file (never on the command line)");
  }
  return key;
}

int refuseKeyOnCommandLine(Invocation& inv) {
  return inv.usageError(
      "--key is not accepted: a key on the command line lands in shell history and "
      "/proc. Pipe it on stdin, type it at the prompt, or use --key-file");
}

std::string healthDetail(Invocation& inv, const ProbeVerdict& v) {
  return (v.ok ? "validated at " : "check failed at ") + formatTime(inv.clock().unixMillis()) +
         ": " + v.message;
}

void printCredential(Invocation& inv, const storage::Credential& c, std::string_view verb) {
  if (inv.json()) {
    auto o = api::toJson(c);
    o["tenant_id"] = c.tenant_id;
    inv.printJson(o);
    return;
  }
  inv.out() << verb << " credential " << c.id << " (" << c.provider << ", " << printable(c.label)
            << ", " << printable(c.fingerprint) << ")\n";
}

// ---- credential ------------------------------------------------------------------------------

void defineCredentialAdd(CLI::App& c) {
  defineTenantOption(c);
  c.add_option("--provider")
      ->description("openai, azure, anthropic, ollama or openai_compatible")
      ->required();
  c.add_option("--label")->description("Name shown in listings (default: the provider)");
  c.add_option("--base-url")
      ->description("Provider endpoint (Azure resource, Ollama or compatible server)");
  c.add_option("--option")
      ->description("Provider option KEY=VALUE, repeatable (e.g. api_version=2024-06-01)")
      ->take_all();
  defineKeySource(c);
}

int runCredentialAdd(Invocation& inv) {
  if (inv.has("--key")) {
    return refuseKeyOnCommandLine(inv);
  }
  control::CredentialSpec spec;
  spec.provider = inv.text("--provider");
  spec.label = inv.text("--label");
  spec.base_url = inv.text("--base-url");
  if (!knownProvider(spec.provider)) {
    return inv.usageError("--provider must be one of " + providerList());
  }
  auto options = optionsJson(inv.texts("--option"));
  if (!options) {
    return inv.usageError(options.error().client_message);
  }
  spec.options_json = std::move(*options);
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto key = readProviderKey(inv, spec.provider);
  if (!key) {
    return inv.failed(key.error());
  }
  std::optional<ProbeVerdict> verdict;
  if (!inv.flag("--skip-validation")) {
    verdict = validateKey(inv, spec.provider, spec.base_url, spec.options_json, *key);
    if (!verdict->ok) {
      return inv.failed("validation failed: " + printable(verdict->message) +
                        ". Nothing was stored (--skip-validation stores the key unchecked)");
    }
  }
  auto stored = inv.control().addCredential(control::Actor::cli(), t->id, spec, *key);
  key->wipe();
  if (!stored) {
    return inv.failed(stored.error());
  }
  if (verdict) {
    auto detail = healthDetail(inv, *verdict);
    if (inv.stores().credentials.updateHealth(t->id, stored->id, verdict->health, detail)) {
      stored->health = verdict->health;
      stored->health_detail = detail;
    }
  }
  printCredential(inv, *stored, "Added");
  if (verdict && !inv.json()) {
    inv.out() << "Validated with the provider: " << printable(verdict->message) << "; "
              << verdict->models << " models\n";
  }
  return 0;
}

int runCredentialList(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto creds = inv.stores().credentials.list(t->id);
  if (!creds) {
    return inv.failed(creds.error());
  }
  if (inv.json()) {
    json::array items;
    for (const auto& c : *creds) {
      items.emplace_back(api::toJson(c));
    }
    inv.printJson(json::object{{"data", std::move(items)}});
    return 0;
  }
  Table table(
      {"ID", "PROVIDER", "LABEL", "KEY", "STATUS", "KEK", "CREATED", "LAST USED", "BASE URL"});
  for (const auto& c : *creds) {
    table.add({c.id,
               c.provider,
               c.label,
               c.fingerprint,
               std::string(api::toString(c.health)),
               c.envelope.kek_id + " v" + std::to_string(c.envelope.kek_version),
               formatTime(c.created_at),
               formatTime(c.last_used_at),
               c.base_url.empty() ? "-" : c.base_url});
  }
  table.print(inv.out());
  return 0;
}

void defineCredentialRef(CLI::App& c) {
  defineTenantOption(c);
  c.add_option("id")->description("Credential id (cred_…)")->required();
}

void defineCredentialReplace(CLI::App& c) {
  defineCredentialRef(c);
  defineKeySource(c);
}

int runCredentialReplace(Invocation& inv) {
  if (inv.has("--key")) {
    return refuseKeyOnCommandLine(inv);
  }
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto current = inv.stores().credentials.get(t->id, inv.text("id"));
  if (!current) {
    return inv.failed(current.error());
  }
  auto key = readProviderKey(inv, current->provider);
  if (!key) {
    return inv.failed(key.error());
  }
  std::optional<ProbeVerdict> verdict;
  if (!inv.flag("--skip-validation")) {
    verdict = validateKey(inv, current->provider, current->base_url, current->options_json, *key);
    if (!verdict->ok) {
      return inv.failed("validation failed: " + printable(verdict->message) +
                        ". The stored key was not replaced");
    }
  }
  auto stored = inv.control().replaceCredential(control::Actor::cli(), t->id, current->id, *key);
  key->wipe();
  if (!stored) {
    return inv.failed(stored.error());
  }
  if (verdict) {
    auto detail = healthDetail(inv, *verdict);
    if (inv.stores().credentials.updateHealth(t->id, stored->id, verdict->health, detail)) {
      stored->health = verdict->health;
      stored->health_detail = detail;
    }
  }
  printCredential(inv, *stored, "Replaced the key of");
  return 0;
}

int runCredentialDelete(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto id = inv.text("id");
  if (auto r = inv.control().deleteCredential(control::Actor::cli(), t->id, id); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", id}, {"deleted", true}});
  } else {
    inv.out() << "Deleted credential " << printable(id) << " of tenant " << t->slug << "\n";
  }
  return 0;
}

int runCredentialCheck(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto c = inv.stores().credentials.get(t->id, inv.text("id"));
  if (!c) {
    return inv.failed(c.error());
  }
  auto key = inv.control().openCredential(t->id, c->id);
  if (!key) {
    return inv.failed(key.error());
  }
  auto verdict = validateKey(inv, c->provider, c->base_url, c->options_json, *key);
  key->wipe();
  auto detail = healthDetail(inv, verdict);
  if (auto r = inv.stores().credentials.updateHealth(t->id, c->id, verdict.health, detail); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", c->id},
                               {"ok", verdict.ok},
                               {"health", api::toString(verdict.health)},
                               {"message", verdict.message},
                               {"models", verdict.models}});
  } else {
    inv.out() << "Credential " << c->id << " (" << printable(c->fingerprint)
              << "): " << (verdict.ok ? "ok" : "FAILED") << ": " << printable(verdict.message)
              << "\n";
  }
  return verdict.ok ? 0 : 1;
}

// ---- kms -------------------------------------------------------------------------------------

int runKmsStatus(Invocation& inv) {
  auto status = inv.control().kekStatus();
  if (!status) {
    return inv.failed(status.error());
  }
  if (inv.json()) {
    json::array items;
    for (const auto& s : *status) {
      items.emplace_back(json::object{{"kek_id", s.kek_id},
                                      {"version", s.version},
                                      {"held", s.held},
                                      {"current", s.current},
                                      {"rows", s.rows},
                                      {"retirable", s.retirable}});
    }
    inv.printJson(
        json::object{{"backend", inv.core().kms->backendName()}, {"data", std::move(items)}});
    return 0;
  }
  inv.out() << "KMS backend: " << inv.core().kms->backendName() << "\n";
  Table table({"KEK", "VERSION", "STATE", "CREDENTIALS", "RETIRABLE"});
  bool lost = false;
  for (const auto& s : *status) {
    lost = lost || (!s.held && s.rows > 0);
    table.add({s.kek_id,
               std::to_string(s.version),
               !s.held     ? "NOT HELD"
               : s.current ? "current"
                           : "decrypt-only",
               std::to_string(s.rows),
               s.retirable ? "yes" : "no"});
  }
  table.print(inv.out());
  if (lost) {
    inv.err() << "livery: warning: some credentials are wrapped under a KEK version this KMS "
                 "does not hold; they cannot be decrypted\n";
  }
  return 0;
}

int runKmsRotate(Invocation& inv) {
  auto v = inv.control().rotateKek(control::Actor::cli());
  if (!v) {
    return inv.failed(v.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"kek_id", inv.core().kms->kekId()}, {"version", *v}});
  } else {
    inv.out() << "KEK '" << inv.core().kms->kekId() << "' version " << *v
              << " is now current; new credentials are wrapped under it.\n"
              << "Next: `livery kms rewrap`, then `livery kms retire <old version>`.\n";
  }
  return 0;
}

void defineKmsRewrap(CLI::App& c) {
  addNumberOption(c, "--max-passes", "Passes over rows changed concurrently (default 5)", 1, 100);
}

int runKmsRewrap(Invocation& inv) {
  auto current = inv.core().kms->currentVersion();
  if (!current) {
    return inv.failed(current.error());
  }
  const auto passes = inv.number("--max-passes", 5);
  control::RewrapProgress total;
  for (std::uint64_t pass = 1; pass <= passes; ++pass) {
    const auto before = total.rewrapped;
    auto p = inv.control().rewrapAll(
        control::Actor::cli(), [&inv, before](const control::RewrapProgress& now) {
          inv.err() << "rewrap: " << before + now.rewrapped << " rewrapped, " << now.skipped
                    << " changed meanwhile" << std::endl;
        });
    if (!p) {
      inv.err() << "livery: the rewrap stopped after " << total.rewrapped
                << " credentials; what is done stays done, run it again to continue\n";
      return inv.failed(p.error());
    }
    total.rewrapped += p->rewrapped;
    total.skipped += p->skipped;
    total.remaining = p->remaining;
    if (p->remaining == 0 || (p->rewrapped == 0 && p->skipped == 0)) {
      break;
    }
  }
  if (inv.json()) {
    inv.printJson(json::object{{"version", *current},
                               {"rewrapped", total.rewrapped},
                               {"skipped", total.skipped},
                               {"remaining", total.remaining}});
  } else {
    inv.out() << "Rewrapped " << total.rewrapped << " credentials under KEK version " << *current
              << "; " << total.remaining << " remain on older versions\n";
  }
  if (total.remaining != 0) {
    return inv.failed("some credentials are still on older KEK versions; run it again");
  }
  return 0;
}

void defineKmsRetire(CLI::App& c) {
  addNumberOption(c, "version", "The KEK version to destroy", 1, UINT32_MAX)
      ->required()
      ->type_name("VERSION");
}

int runKmsRetire(Invocation& inv) {
  auto version = static_cast<std::uint32_t>(inv.number("version"));
  if (auto r = inv.control().retireKek(control::Actor::cli(), version); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"version", version}, {"retired", true}});
  } else {
    inv.out() << "Retired KEK version " << version << "\n";
  }
  return 0;
}

int runKmsVerify(Invocation& inv) {
  auto& core = inv.core();
  std::uint64_t ok = 0;
  json::array failures;
  storage::Page page;
  page.limit = 500;
  for (;;) {
    auto batch = core.stores->credentials.listAll(page);
    if (!batch) {
      return inv.failed(batch.error());
    }
    for (const auto& c : *batch) {
      crypto::CredentialBinding who{c.tenant_id, c.id, c.provider};
      auto key = core.vault->open(who, c.envelope);
      if (key) {
        ++ok;
        continue;
      }
      failures.emplace_back(json::object{{"id", c.id},
                                         {"tenant_id", c.tenant_id},
                                         {"kek_version", c.envelope.kek_version},
                                         {"error", key.error().client_message}});
      if (!inv.json()) {
        inv.err() << "livery: credential " << c.id << " of tenant " << c.tenant_id << " (KEK v"
                  << c.envelope.kek_version
                  << ") does not decrypt: " << printable(key.error().client_message) << "\n";
      }
    }
    if (batch->size() < page.limit) {
      break;
    }
    page.after = batch->back().id;
  }
  const bool all_ok = failures.empty();
  if (inv.json()) {
    inv.printJson(json::object{{"ok", all_ok}, {"decrypted", ok}, {"failures", failures}});
  } else {
    inv.out() << ok << " credentials decrypt; " << failures.size() << " do not\n";
  }
  return all_ok ? 0 : 1;
}

void defineNone(CLI::App& /*c*/) {}

}  // namespace

void appendCredentialCommands(std::vector<Command>& out) {
  const Command commands[] = {
      {"credential add",
       "Store a provider key (read from stdin, a hidden prompt or --key-file; validated with "
       "the provider unless --skip-validation)",
       defineCredentialAdd,
       runCredentialAdd},
      {"credential list",
       "List a tenant's credentials (fingerprints only)",
       defineTenantOption,
       runCredentialList},
      {"credential replace",
       "Replace the key of a credential (a fresh data key; validated unless --skip-validation)",
       defineCredentialReplace,
       runCredentialReplace},
      {"credential delete", "Delete a credential", defineCredentialRef, runCredentialDelete},
      {"credential check",
       "Decrypt a stored key and check it with the provider; records the result",
       defineCredentialRef,
       runCredentialCheck},
      {"kms status",
       "Credentials per KEK version, and which versions can be retired",
       defineNone,
       runKmsStatus},
      {"kms rotate", "Add a new KEK version and make it current", defineNone, runKmsRotate},
      {"kms rewrap",
       "Re-wrap every data key under the current KEK version (resumable; safe while serving)",
       defineKmsRewrap,
       runKmsRewrap},
      {"kms retire",
       "Destroy an old KEK version (refused while any credential uses it)",
       defineKmsRetire,
       runKmsRetire},
      {"kms verify",
       "Decrypt every stored credential in memory and report the ones that fail",
       defineNone,
       runKmsVerify},
  };
  out.insert(out.end(), std::begin(commands), std::end(commands));
}

}  // namespace livery::app::cli
