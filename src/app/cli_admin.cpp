// The administrative commands of `livery`: registration and dispatch (addAdminCommands /
// runAdminCommand, declared in app/cli.hpp), and the account commands: tenant, plan, operator
// token, API key and user. Credentials and the KMS are in cli_credentials.cpp; routes, usage
// and the audit log in cli_reports.cpp; shared helpers in cli_support.hpp.
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <unistd.h>

#include "api/json_model.hpp"
#include "app/cli.hpp"
#include "app/cli_support.hpp"
#include "app/core_services.hpp"
#include "control/control_plane.hpp"
#include "storage/stores.hpp"

namespace livery::app {

namespace json = boost::json;
using cli::Command;
using cli::Invocation;
using cli::Table;

namespace {

// ---- registration ----------------------------------------------------------------------------

struct Group {
  std::string_view path;
  std::string_view help;
};

constexpr Group kGroups[] = {
    {"tenant", "Tenants (agencies): create, list, show, update, suspend, resume, delete"},
    {"plan", "Plans: monthly token quota, rate limits, API-key allowance, features"},
    {"token", "Operator API tokens (for /admin/v1 and the operator console)"},
    {"operator", "Operator account"},
    {"operator token", "Operator API tokens (same as `livery token`)"},
    {"key", "A tenant's gateway API keys"},
    {"credential", "A tenant's provider keys (stored encrypted; only fingerprints are shown)"},
    {"route", "Model routes: a model name to an ordered list of deployments"},
    {"kms", "Key-encryption keys: status, rotate, rewrap, retire, verify"},
    {"audit", "The tamper-evident audit log"},
    {"user", "Console administrators and workspace users of a tenant"},
    {"prompts", "System prompts from a Git repository: sync, evaluate, promote, list"},
};

std::vector<Command> allCommands() {
  std::vector<Command> commands;
  cli::appendAccountCommands(commands);
  cli::appendRoutingCommands(commands);
  cli::appendCredentialCommands(commands);
  cli::appendPromptCommands(commands);
  return commands;
}

std::vector<std::string> words(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(' ', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

CLI::App* child(CLI::App& parent, const std::string& name) {
  auto found = parent.get_subcommands([&name](CLI::App* a) { return a->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

std::string_view groupHelp(std::string_view path) {
  for (const auto& g : kGroups) {
    if (g.path == path) {
      return g.help;
    }
  }
  return {};
}

std::string tenantCell(const storage::Tenant& t) {
  return t.slug + " (" + t.id + ")";
}

// The outcome of a tenant command: the tenant as JSON, or "<Verb> tenant <slug> (<id>)".
int reportTenant(Invocation& inv, const Result<storage::Tenant>& t, std::string_view verb) {
  if (!t) {
    return inv.failed(t.error());
  }
  if (inv.json()) {
    inv.printJson(api::toJson(*t));
  } else {
    inv.out() << verb << " tenant " << tenantCell(*t) << "\n";
  }
  return 0;
}

// ---- tenant ----------------------------------------------------------------------------------

void addNumber(CLI::App& c, const std::string& name, const std::string& help) {
  cli::addNumberOption(c, name, help, 0, UINT32_MAX);
}

void addBigNumber(CLI::App& c, const std::string& name, const std::string& help) {
  cli::addNumberOption(c, name, help, 0, std::uint64_t{1} << 62);
}

void defineTenantCreate(CLI::App& c) {
  c.add_option("slug")
      ->description("2-40 of a-z, 0-9 and '-'; the tenant is served at <slug>.<base_domain>")
      ->required();
  c.add_option("--name")->description("Display name (default: the slug)");
  c.add_option("--plan")->description("Plan id (see `livery plan list`)");
}

int runTenantCreate(Invocation& inv) {
  control::TenantSpec spec{inv.text("slug"), inv.text("--name"), inv.text("--plan")};
  auto t = inv.control().createTenant(control::Actor::cli(), std::move(spec));
  return reportTenant(inv, t, "Created");
}

void defineNothing(CLI::App& /*c*/) {}

int runTenantList(Invocation& inv) {
  json::array items;
  Table table({"ID", "SLUG", "NAME", "STATUS", "PLAN", "CREATED"});
  storage::Page page;
  page.limit = 1000;
  for (;;) {
    auto batch = inv.stores().tenants.list(page);
    if (!batch) {
      return inv.failed(batch.error());
    }
    for (const auto& t : *batch) {
      if (inv.json()) {
        items.emplace_back(api::toJson(t));
      } else {
        table.add({t.id,
                   t.slug,
                   t.display_name,
                   std::string(api::toString(t.status)),
                   t.plan_id.empty() ? "-" : t.plan_id,
                   cli::formatTime(t.created_at)});
      }
    }
    if (batch->size() < page.limit) {
      break;
    }
    page.after = batch->back().id;
  }
  if (inv.json()) {
    inv.printJson(json::object{{"data", std::move(items)}});
  } else {
    table.print(inv.out());
  }
  return 0;
}

void defineTenantRef(CLI::App& c) {
  c.add_option("tenant")->description("Tenant slug or id")->required();
}

int runTenantShow(Invocation& inv) {
  auto t = inv.tenant(inv.text("tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto keys = inv.stores().api_keys.countActive(t->id);
  auto creds = inv.stores().credentials.list(t->id);
  if (!keys || !creds) {
    return inv.failed(!keys ? keys.error() : creds.error());
  }
  if (inv.json()) {
    auto o = api::toJson(*t);
    o["active_api_keys"] = *keys;
    o["credentials"] = creds->size();
    inv.printJson(o);
    return 0;
  }
  auto& out = inv.out();
  auto opt = [](const auto& v) {
    return v ? std::to_string(*v) : std::string("(plan)");
  };
  out << "id:              " << t->id << "\n"
      << "slug:            " << t->slug << "\n"
      << "name:            " << cli::printable(t->display_name) << "\n"
      << "status:          " << api::toString(t->status);
  if (t->status == storage::TenantStatus::kSuspended && !t->suspended_reason.empty()) {
    out << " (" << cli::printable(t->suspended_reason) << ")";
  }
  out << "\n"
      << "plan:            " << (t->plan_id.empty() ? "-" : t->plan_id) << "\n"
      << "overrides:       monthly_tokens=" << opt(t->overrides.monthly_token_quota)
      << " rpm=" << opt(t->overrides.rpm) << " tpm=" << opt(t->overrides.tpm)
      << " max_keys=" << opt(t->overrides.max_api_keys) << "\n"
      << "active API keys: " << *keys << "\n"
      << "credentials:     " << creds->size() << "\n"
      << "created:         " << cli::formatTime(t->created_at) << "\n"
      << "updated:         " << cli::formatTime(t->updated_at) << "\n";
  return 0;
}

void defineTenantUpdate(CLI::App& c) {
  defineTenantRef(c);
  c.add_option("--name")->description("New display name");
  auto* plan = c.add_option("--plan")->description("Move the tenant to this plan");
  auto* no_plan = c.add_flag("--no-plan")->description("Take the tenant off any plan");
  plan->excludes(no_plan);
  addBigNumber(c, "--monthly-tokens", "Override the plan's monthly token quota");
  addNumber(c, "--rpm", "Override the plan's requests per minute");
  addNumber(c, "--tpm", "Override the plan's tokens per minute");
  addNumber(c, "--max-keys", "Override the plan's API-key allowance");
  c.add_flag("--clear-overrides")->description("Drop every override (the plan applies again)");
}

int runTenantUpdate(Invocation& inv) {
  auto t = inv.tenant(inv.text("tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  control::TenantPatch patch;
  if (inv.has("--name")) {
    patch.display_name = inv.text("--name");
  }
  if (inv.has("--plan")) {
    patch.plan_id = inv.text("--plan");
  } else if (inv.flag("--no-plan")) {
    patch.plan_id = std::string();
  }
  auto overrides = inv.flag("--clear-overrides") ? storage::PlanOverrides{} : t->overrides;
  bool overrides_changed = inv.flag("--clear-overrides");
  if (auto v = inv.optionalNumber("--monthly-tokens")) {
    overrides.monthly_token_quota = *v;
    overrides_changed = true;
  }
  if (auto v = inv.optionalNumber("--rpm")) {
    overrides.rpm = static_cast<std::uint32_t>(*v);
    overrides_changed = true;
  }
  if (auto v = inv.optionalNumber("--tpm")) {
    overrides.tpm = static_cast<std::uint32_t>(*v);
    overrides_changed = true;
  }
  if (auto v = inv.optionalNumber("--max-keys")) {
    overrides.max_api_keys = static_cast<std::uint32_t>(*v);
    overrides_changed = true;
  }
  if (overrides_changed) {
    patch.overrides = overrides;
  }
  auto updated = inv.control().updateTenant(control::Actor::cli(), t->id, patch);
  return reportTenant(inv, updated, "Updated");
}

void defineTenantSuspend(CLI::App& c) {
  defineTenantRef(c);
  c.add_option("--reason")->description("Shown to the operator (not to the tenant's users)");
}

int runTenantSuspend(Invocation& inv) {
  auto t = inv.tenant(inv.text("tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto s = inv.control().suspendTenant(control::Actor::cli(), t->id, inv.text("--reason"));
  return reportTenant(inv, s, "Suspended");
}

int runTenantResume(Invocation& inv) {
  auto t = inv.tenant(inv.text("tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto s = inv.control().resumeTenant(control::Actor::cli(), t->id);
  return reportTenant(inv, s, "Resumed");
}

void defineTenantDelete(CLI::App& c) {
  defineTenantRef(c);
  c.add_flag("-y,--yes")->description("Do not ask for confirmation");
}

int runTenantDelete(Invocation& inv) {
  auto t = inv.tenant(inv.text("tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  if (!inv.flag("--yes")) {
    auto answer = cli::askLine(inv,
                               "Delete tenant " + tenantCell(*t) +
                                   " with all its keys, credentials, domains, prompts and users?"
                                   " This cannot be undone.\nType the slug to confirm: ");
    if (!answer) {
      return inv.failed("not deleted: no confirmation on stdin (use --yes)");
    }
    if (*answer != t->slug) {
      return inv.failed("not deleted: the confirmation did not match the slug");
    }
  }
  if (auto r = inv.control().deleteTenant(control::Actor::cli(), t->id); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", t->id}, {"deleted", true}});
  } else {
    inv.out() << "Deleted tenant " << tenantCell(*t) << "\n";
  }
  return 0;
}

// ---- plan ------------------------------------------------------------------------------------

void definePlanFields(CLI::App& c) {
  c.add_option("--name")->description("Display name (default: the id)");
  addBigNumber(c, "--monthly-tokens", "Monthly token quota per tenant (0: unlimited)");
  addNumber(c, "--rpm", "Requests per minute per tenant (0: unlimited)");
  addNumber(c, "--tpm", "Tokens per minute per tenant (0: unlimited)");
  addNumber(c, "--max-keys", "Active API keys per tenant (0: unlimited)");
  c.add_option("--feature")
      ->description("Feature flag, repeatable (e.g. jwt, custom_domains, mock_response)")
      ->take_all();
}

void definePlanCreate(CLI::App& c) {
  c.add_option("id")->description("Plan id: 2-40 of a-z, 0-9 and '-'")->required();
  definePlanFields(c);
}

void definePlanUpdate(CLI::App& c) {
  c.add_option("id")->description("Plan id")->required();
  definePlanFields(c);
  c.add_flag("--no-features")->description("Remove every feature flag");
}

void applyPlanFields(Invocation& inv, storage::Plan& p) {
  if (inv.has("--name")) {
    p.name = inv.text("--name");
  }
  if (auto v = inv.optionalNumber("--monthly-tokens")) {
    p.monthly_token_quota = *v;
  }
  if (auto v = inv.optionalNumber("--rpm")) {
    p.rpm = static_cast<std::uint32_t>(*v);
  }
  if (auto v = inv.optionalNumber("--tpm")) {
    p.tpm = static_cast<std::uint32_t>(*v);
  }
  if (auto v = inv.optionalNumber("--max-keys")) {
    p.max_api_keys = static_cast<std::uint32_t>(*v);
  }
  if (inv.has("--feature")) {
    p.features = inv.texts("--feature");
  } else if (inv.flag("--no-features")) {
    p.features.clear();
  }
}

std::string limitCell(std::uint64_t v) {
  return v == 0 ? "unlimited" : std::to_string(v);
}

std::string joined(const std::vector<std::string>& v, std::string_view empty = "-") {
  if (v.empty()) {
    return std::string(empty);
  }
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

void printPlan(Invocation& inv, const storage::Plan& p) {
  if (inv.json()) {
    inv.printJson(api::toJson(p));
    return;
  }
  inv.out() << "id:             " << p.id << "\n"
            << "name:           " << cli::printable(p.name) << "\n"
            << "monthly tokens: " << limitCell(p.monthly_token_quota) << "\n"
            << "rpm:            " << limitCell(p.rpm) << "\n"
            << "tpm:            " << limitCell(p.tpm) << "\n"
            << "max API keys:   " << limitCell(p.max_api_keys) << "\n"
            << "features:       " << cli::printable(joined(p.features)) << "\n";
}

int runPlanCreate(Invocation& inv) {
  storage::Plan p;
  p.id = inv.text("id");
  applyPlanFields(inv, p);
  auto created = inv.control().createPlan(control::Actor::cli(), std::move(p));
  if (!created) {
    return inv.failed(created.error());
  }
  if (inv.json()) {
    inv.printJson(api::toJson(*created));
  } else {
    inv.out() << "Created plan " << created->id << "\n";
  }
  return 0;
}

int runPlanUpdate(Invocation& inv) {
  auto p = inv.stores().plans.get(inv.text("id"));
  if (!p) {
    return inv.failed(p.error());
  }
  applyPlanFields(inv, *p);
  auto updated = inv.control().updatePlan(control::Actor::cli(), std::move(*p));
  if (!updated) {
    return inv.failed(updated.error());
  }
  printPlan(inv, *updated);
  return 0;
}

int runPlanList(Invocation& inv) {
  auto plans = inv.stores().plans.list();
  if (!plans) {
    return inv.failed(plans.error());
  }
  if (inv.json()) {
    json::array items;
    for (const auto& p : *plans) {
      items.emplace_back(api::toJson(p));
    }
    inv.printJson(json::object{{"data", std::move(items)}});
    return 0;
  }
  Table table({"ID", "NAME", "MONTHLY TOKENS", "RPM", "TPM", "MAX KEYS", "FEATURES"});
  for (const auto& p : *plans) {
    table.add({p.id,
               p.name,
               limitCell(p.monthly_token_quota),
               limitCell(p.rpm),
               limitCell(p.tpm),
               limitCell(p.max_api_keys),
               joined(p.features)});
  }
  table.print(inv.out());
  return 0;
}

void definePlanRef(CLI::App& c) {
  c.add_option("id")->description("Plan id")->required();
}

int runPlanShow(Invocation& inv) {
  auto p = inv.stores().plans.get(inv.text("id"));
  if (!p) {
    return inv.failed(p.error());
  }
  printPlan(inv, *p);
  return 0;
}

int runPlanDelete(Invocation& inv) {
  auto id = inv.text("id");
  if (auto r = inv.control().deletePlan(control::Actor::cli(), id); !r) {
    if (r.error().code == ErrorCode::kConflict) {
      return inv.failed("plan '" + cli::printable(id) +
                        "' is in use by a tenant; move its tenants to another plan first");
    }
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", id}, {"deleted", true}});
  } else {
    inv.out() << "Deleted plan " << cli::printable(id) << "\n";
  }
  return 0;
}

// ---- operator tokens -------------------------------------------------------------------------

void defineTokenCreate(CLI::App& c) {
  c.add_option("--name")->description("What the token is for (shown in listings)")->required();
}

int runTokenCreate(Invocation& inv) {
  auto issued = inv.control().createOperatorToken(control::Actor::cli(), inv.text("--name"));
  if (!issued) {
    return inv.failed(issued.error());
  }
  if (inv.json()) {
    auto o = api::toJson(issued->record);
    o["token"] = issued->secret.reveal();
    inv.printJson(o);
  } else {
    inv.err() << "Created operator token " << issued->record.id << " ("
              << cli::printable(issued->record.name) << "). It is shown once; store it now:\n";
    inv.out() << issued->secret.reveal() << "\n";
  }
  return 0;
}

int runTokenList(Invocation& inv) {
  auto tokens = inv.stores().operator_tokens.list();
  if (!tokens) {
    return inv.failed(tokens.error());
  }
  if (inv.json()) {
    json::array items;
    for (const auto& t : *tokens) {
      items.emplace_back(api::toJson(t));
    }
    inv.printJson(json::object{{"data", std::move(items)}});
    return 0;
  }
  Table table({"ID", "NAME", "STATUS", "CREATED", "LAST USED"});
  for (const auto& t : *tokens) {
    table.add({t.id,
               t.name,
               t.revoked_at != 0 ? "revoked " + cli::formatTime(t.revoked_at) : "active",
               cli::formatTime(t.created_at),
               cli::formatTime(t.last_used_at)});
  }
  table.print(inv.out());
  return 0;
}

void defineTokenRevoke(CLI::App& c) {
  c.add_option("id")->description("Token id (opt_…)")->required();
}

int runTokenRevoke(Invocation& inv) {
  auto id = inv.text("id");
  if (auto r = inv.control().revokeOperatorToken(control::Actor::cli(), id); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", id}, {"revoked", true}});
  } else {
    inv.out() << "Revoked operator token " << cli::printable(id) << "\n";
  }
  return 0;
}

// ---- API keys --------------------------------------------------------------------------------

void defineTenantOption(CLI::App& c) {
  c.add_option("--tenant")->description("Tenant slug or id")->required();
}

void defineKeyCreate(CLI::App& c) {
  defineTenantOption(c);
  c.add_option("--name")->description("What the key is for (shown in listings)")->required();
  c.add_option("--env")
      ->description("live (default) or test")
      ->check(CLI::IsMember({"live", "test"}));
  c.add_option("--scope")
      ->description("Allowed model, repeatable (default: every model of the tenant)")
      ->take_all();
  c.add_option("--expires")->description("Expiry: RFC 3339 time or a duration (30d, 12h)");
  addNumber(c, "--rpm", "Requests per minute for this key (0: none)");
  addNumber(c, "--tpm", "Tokens per minute for this key (0: none)");
  addBigNumber(c, "--monthly-tokens", "Monthly token quota for this key (0: none)");
  c.add_option("--end-user")->description("Bind the key to this end-user id");
}

int runKeyCreate(Invocation& inv) {
  control::KeySpec spec;
  spec.name = inv.text("--name");
  spec.environment = inv.has("--env") ? inv.text("--env") : "live";
  spec.scopes = inv.texts("--scope");
  if (inv.has("--expires")) {
    auto at = cli::parseExpiry(inv.text("--expires"), inv.clock().unixMillis());
    if (!at) {
      return inv.usageError(
          "--expires: expected an RFC 3339 time (2026-12-31T00:00:00Z) or a "
          "duration such as 30d or 12h");
    }
    spec.expires_at = *at;
  }
  spec.limits.rpm = static_cast<std::uint32_t>(inv.number("--rpm"));
  spec.limits.tpm = static_cast<std::uint32_t>(inv.number("--tpm"));
  spec.limits.monthly_token_quota = inv.number("--monthly-tokens");
  spec.end_user = inv.text("--end-user");
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto issued = inv.control().issueApiKey(control::Actor::cli(), t->id, std::move(spec));
  if (!issued) {
    return inv.failed(issued.error());
  }
  if (inv.json()) {
    auto o = api::toJson(issued->record);
    o["tenant_id"] = t->id;
    o["key"] = issued->secret.reveal();
    inv.printJson(o);
  } else {
    inv.err() << "Created API key " << issued->record.id << " ("
              << cli::printable(issued->record.name) << ", " << issued->record.environment
              << ") for tenant " << t->slug << ". It is shown once; store it now:\n";
    inv.out() << issued->secret.reveal() << "\n";
  }
  return 0;
}

void defineKeyList(CLI::App& c) {
  defineTenantOption(c);
}

int runKeyList(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  json::array items;
  Table table({"ID", "NAME", "ENV", "KEY", "SCOPES", "EXPIRES", "STATUS", "CREATED", "LAST USED"});
  const auto now = inv.clock().unixMillis();
  storage::Page page;
  page.limit = 1000;
  for (;;) {
    auto batch = inv.stores().api_keys.list(t->id, page);
    if (!batch) {
      return inv.failed(batch.error());
    }
    for (const auto& k : *batch) {
      if (inv.json()) {
        items.emplace_back(api::toJson(k));
        continue;
      }
      std::string status = k.revoked_at != 0                            ? "revoked"
                           : (k.expires_at != 0 && k.expires_at <= now) ? "expired"
                                                                        : "active";
      table.add({k.id,
                 k.name,
                 k.environment,
                 "…" + k.last4,
                 joined(k.scopes, "all"),
                 cli::formatTime(k.expires_at),
                 status,
                 cli::formatTime(k.created_at),
                 cli::formatTime(k.last_used_at)});
    }
    if (batch->size() < page.limit) {
      break;
    }
    page.after = batch->back().id;
  }
  if (inv.json()) {
    inv.printJson(json::object{{"data", std::move(items)}});
  } else {
    table.print(inv.out());
  }
  return 0;
}

void defineKeyRevoke(CLI::App& c) {
  defineTenantOption(c);
  c.add_option("id")->description("Key id (key_…)")->required();
}

int runKeyRevoke(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto id = inv.text("id");
  if (auto r = inv.control().revokeApiKey(control::Actor::cli(), t->id, id); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"id", id}, {"revoked", true}});
  } else {
    inv.out() << "Revoked API key " << cli::printable(id) << " of tenant " << t->slug << "\n";
  }
  return 0;
}

// ---- users -----------------------------------------------------------------------------------

void defineUserCreate(CLI::App& c) {
  defineTenantOption(c);
  c.add_option("--email")->description("Sign-in email")->required();
  c.add_option("--name")->description("Display name (default: the part before @)");
  auto* admin = c.add_flag("--admin")->description("A tenant console administrator (default)");
  auto* end_user = c.add_flag("--end-user")->description("A workspace end user");
  admin->excludes(end_user);
  c.add_option("--role")
      ->description("owner, admin or member (default: admin for --admin, member for --end-user)")
      ->check(CLI::IsMember({"owner", "admin", "member"}));
}

int runUserCreate(Invocation& inv) {
  storage::User u;
  u.kind = inv.flag("--end-user") ? "end_user" : "admin";
  u.email = inv.text("--email");
  u.display_name = inv.text("--name");
  auto role = inv.has("--role") ? inv.text("--role") : (u.kind == "admin" ? "admin" : "member");
  u.role = role == "owner"   ? storage::UserRole::kOwner
           : role == "admin" ? storage::UserRole::kAdmin
                             : storage::UserRole::kMember;
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  auto password = cli::readSecret(inv, "Password (input hidden): ", "", /*confirm=*/true);
  if (!password) {
    return inv.failed(password.error());
  }
  if (password->size() < 8) {
    return inv.failed("the password must be at least 8 characters");
  }
  auto hash = inv.core().passwords->hash(*password);
  if (!hash) {
    return inv.failed(hash.error());
  }
  u.password_hash = std::move(*hash);
  auto created = inv.control().createUser(control::Actor::cli(), t->id, std::move(u));
  if (!created) {
    return inv.failed(created.error());
  }
  if (inv.json()) {
    auto o = api::toJson(*created);
    o["tenant_id"] = t->id;
    inv.printJson(o);
  } else {
    inv.out() << "Created " << (created->kind == "admin" ? "console administrator " : "end user ")
              << cli::printable(created->email) << " (" << created->id << ") for tenant " << t->slug
              << "\n";
  }
  return 0;
}

void defineUserList(CLI::App& c) {
  defineTenantOption(c);
  auto* admin = c.add_flag("--admin")->description("Console administrators only");
  auto* end_user = c.add_flag("--end-user")->description("Workspace end users only");
  admin->excludes(end_user);
}

int runUserList(Invocation& inv) {
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    return inv.failed(t.error());
  }
  std::string kind = inv.flag("--admin") ? "admin" : inv.flag("--end-user") ? "end_user" : "";
  json::array items;
  Table table({"ID", "KIND", "EMAIL", "NAME", "ROLE", "STATUS", "CREATED", "LAST LOGIN"});
  storage::Page page;
  page.limit = 1000;
  for (;;) {
    auto batch = inv.stores().users.list(t->id, kind, page);
    if (!batch) {
      return inv.failed(batch.error());
    }
    for (const auto& u : *batch) {
      if (inv.json()) {
        items.emplace_back(api::toJson(u));
        continue;
      }
      table.add({u.id,
                 u.kind,
                 u.email,
                 u.display_name,
                 std::string(api::toString(u.role)),
                 u.disabled ? "disabled" : "active",
                 cli::formatTime(u.created_at),
                 cli::formatTime(u.last_login_at)});
    }
    if (batch->size() < page.limit) {
      break;
    }
    page.after = batch->back().id;
  }
  if (inv.json()) {
    inv.printJson(json::object{{"data", std::move(items)}});
  } else {
    table.print(inv.out());
  }
  return 0;
}

}  // namespace

namespace cli {

void appendAccountCommands(std::vector<Command>& out) {
  const Command commands[] = {
      {"tenant create", "Create a tenant", defineTenantCreate, runTenantCreate},
      {"tenant list", "List tenants", defineNothing, runTenantList},
      {"tenant show", "Show a tenant", defineTenantRef, runTenantShow},
      {"tenant update",
       "Change a tenant's name, plan or per-tenant limit overrides",
       defineTenantUpdate,
       runTenantUpdate},
      {"tenant suspend",
       "Suspend a tenant: its requests get 403 until resumed",
       defineTenantSuspend,
       runTenantSuspend},
      {"tenant resume", "Resume a suspended tenant", defineTenantRef, runTenantResume},
      {"tenant delete",
       "Delete a tenant and everything it owns (usage and audit records are kept)",
       defineTenantDelete,
       runTenantDelete},
      {"plan create", "Create a plan", definePlanCreate, runPlanCreate},
      {"plan list", "List plans", defineNothing, runPlanList},
      {"plan show", "Show a plan", definePlanRef, runPlanShow},
      {"plan update", "Change a plan (only the given fields)", definePlanUpdate, runPlanUpdate},
      {"plan delete", "Delete a plan no tenant uses", definePlanRef, runPlanDelete},
      {"token create",
       "Create an operator token (printed once)",
       defineTokenCreate,
       runTokenCreate},
      {"token list", "List operator tokens", defineNothing, runTokenList},
      {"token revoke", "Revoke an operator token", defineTokenRevoke, runTokenRevoke},
      {"operator token create",
       "Create an operator token (printed once)",
       defineTokenCreate,
       runTokenCreate},
      {"operator token list", "List operator tokens", defineNothing, runTokenList},
      {"operator token revoke", "Revoke an operator token", defineTokenRevoke, runTokenRevoke},
      {"key create",
       "Issue a gateway API key for a tenant (printed once)",
       defineKeyCreate,
       runKeyCreate},
      {"key list", "List a tenant's API keys", defineKeyList, runKeyList},
      {"key revoke",
       "Revoke an API key (a running server refuses it within one sync poll)",
       defineKeyRevoke,
       runKeyRevoke},
      {"user create",
       "Create a console administrator or workspace user (password from stdin or a prompt)",
       defineUserCreate,
       runUserCreate},
      {"user list", "List a tenant's users", defineUserList, runUserList},
  };
  out.insert(out.end(), std::begin(commands), std::end(commands));
}

}  // namespace cli

void addAdminCommands(CLI::App& app,
                      CommonOptions& /*common*/,
                      const std::function<void(CLI::App*)>& add_common) {
  for (const auto& cmd : allCommands()) {
    auto path = words(cmd.path);
    CLI::App* parent = &app;
    std::string prefix;
    for (std::size_t i = 0; i < path.size(); ++i) {
      prefix += (prefix.empty() ? "" : " ") + path[i];
      CLI::App* next = child(*parent, path[i]);
      if (next == nullptr) {
        const bool leaf = i + 1 == path.size();
        next = parent->add_subcommand(path[i], std::string(leaf ? cmd.help : groupHelp(prefix)));
        if (leaf) {
          cmd.define(*next);
          add_common(next);
          next->add_flag("--json")->description("Machine-readable output (JSON)");
        } else {
          next->require_subcommand(1);
        }
      }
      parent = next;
    }
  }
}

int runAdminCommand(CLI::App& app, const config::Config& cfg) {
  CLI::App* leaf = &app;
  std::string path;
  while (!leaf->get_subcommands().empty()) {
    leaf = leaf->get_subcommands().front();
    path += (path.empty() ? "" : " ") + leaf->get_name();
  }
  for (const auto& cmd : allCommands()) {
    if (cmd.path != path) {
      continue;
    }
    cli::Invocation inv(*leaf, cfg, {std::cout, std::cerr, std::cin, ::isatty(STDIN_FILENO) == 1});
    try {
      return cmd.run(inv);
    } catch (const StartupError& e) {
      return inv.failed(e.what());
    }
  }
  std::cerr << "livery: unknown command '" << path << "'\n";
  return 2;
}

}  // namespace livery::app
