// `livery route …`, `livery usage` and `livery audit …` (see cli_support.hpp for the conventions).
#include <cctype>
#include <charconv>
#include <cstdio>
#include <deque>
#include <map>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/json_model.hpp"
#include "app/cli_support.hpp"
#include "control/control_plane.hpp"
#include "storage/stores.hpp"

namespace livery::app::cli {

namespace json = boost::json;

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<std::int32_t> parseInt32(std::string_view s) {
  std::int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::string joinParts(const std::vector<std::string>& parts, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    out += (i == from ? "" : ":") + parts[i];
  }
  return out;
}

// "[name=]provider:model:credential_id[:priority[:weight]]" for a tenant route, and
// "[name=]provider:model[:priority[:weight]]" for an operator default (which names no
// credential: each tenant's own credential for the provider is used). Model names may contain
// ':' (Ollama's "llama3.2:latest"): the credential is the part that starts with "cred_", and for
// defaults the trailing all-digit parts are the priority and weight. The name (shown in the
// x-livery-deployment header) defaults to provider:model; unnamed deployments of the same
// provider and model are numbered (see nameDuplicates).
Result<storage::Deployment> parseDeployment(std::string_view spec, bool operator_default) {
  std::string name;
  if (auto eq = spec.find('='); eq != std::string_view::npos) {
    name = spec.substr(0, eq);
    spec.remove_prefix(eq + 1);
  }
  auto parts = split(spec, ':');
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kBadRequest,
                "--deployment '" + printable(spec) + "': " + std::string(why) +
                    (operator_default ? " (expected provider:model[:priority[:weight]])"
                                      : " (expected provider:model:credential_id"
                                        "[:priority[:weight]])"));
  };
  if (parts.size() < 2 || parts[0].empty()) {
    return bad("missing provider or model");
  }
  storage::Deployment d;
  d.name = std::move(name);
  d.provider = parts[0];
  std::size_t model_end = parts.size();
  if (operator_default) {
    std::size_t numeric = 0;
    while (numeric < 2 && model_end > 2 && parseInt32(parts[model_end - 1])) {
      --model_end;
      ++numeric;
    }
  } else {
    std::size_t cred = 0;
    for (std::size_t i = parts.size(); i-- > 2;) {
      if (parts[i].starts_with("cred_")) {
        cred = i;
        break;
      }
    }
    if (cred == 0) {
      if (parts.size() < 3 || parts.size() > 5) {
        return bad("missing credential id");
      }
      cred = 2;
    }
    d.credential_id = parts[cred];
    model_end = cred;
  }
  d.model = joinParts(parts, 1, model_end);
  if (d.model.empty()) {
    return bad("empty model");
  }
  std::size_t rest = operator_default ? model_end : model_end + 1;
  if (parts.size() - rest > 2) {
    return bad("too many fields");
  }
  if (rest < parts.size()) {
    auto p = parseInt32(parts[rest]);
    if (!p) {
      return bad("priority must be an integer");
    }
    d.priority = *p;
  }
  if (rest + 1 < parts.size()) {
    auto w = parseInt32(parts[rest + 1]);
    if (!w || *w < 1) {
      return bad("weight must be a positive integer");
    }
    d.weight = *w;
  }
  return d;
}

// Unnamed deployments that would share the default name provider:model (several credentials of
// one provider behind one model, for load balancing) get "#2", "#3", … appended.
void nameDuplicates(std::vector<storage::Deployment>& deployments) {
  std::map<std::string, int> seen;
  for (auto& d : deployments) {
    if (!d.name.empty()) {
      continue;
    }
    auto base = d.provider + ":" + d.model;
    int n = ++seen[base];
    d.name = n == 1 ? base : base + "#" + std::to_string(n);
  }
}

// The route scope: a tenant id, or "" for the operator defaults. Exactly one of --tenant and
// --default must be given (usage error otherwise, reported as nullopt after printing).
std::optional<std::string> routeScope(Invocation& inv, int& exit_code) {
  if (inv.has("--tenant") == inv.flag("--default")) {
    exit_code = inv.usageError("give either --tenant T or --default");
    return std::nullopt;
  }
  if (inv.flag("--default")) {
    return std::string();
  }
  auto t = inv.tenant(inv.text("--tenant"));
  if (!t) {
    exit_code = inv.failed(t.error());
    return std::nullopt;
  }
  return t->id;
}

void defineScope(CLI::App& c) {
  auto* tenant = c.add_option("--tenant")->description("Tenant slug or id");
  auto* def = c.add_flag("--default")->description("The operator defaults every tenant inherits");
  tenant->excludes(def);
}

std::string describeDeployment(const storage::Deployment& d) {
  std::string s = d.provider + ":" + d.model;
  if (!d.credential_id.empty()) {
    s += ":" + d.credential_id;
  }
  return s + " (p" + std::to_string(d.priority) + ",w" + std::to_string(d.weight) + ")";
}

// ---- route -----------------------------------------------------------------------------------

void defineRouteSet(CLI::App& c) {
  defineScope(c);
  c.add_option("model")->description("The model name clients ask for")->required();
  c.add_option("--deployment")
      ->description(
          "[name=]provider:model:credential_id[:priority[:weight]] (tenant) or "
          "[name=]provider:model[:priority[:weight]] (--default); repeatable; lower priority "
          "first, equal priorities share the load by weight")
      ->required()
      ->take_all();
}

int runRouteSet(Invocation& inv) {
  if (auto v = api::validateModelName(inv.text("model")); !v) {
    return inv.usageError(v.error().client_message);
  }
  std::vector<storage::Deployment> deployments;
  for (const auto& spec : inv.texts("--deployment")) {
    auto d = parseDeployment(spec, inv.flag("--default"));
    if (!d) {
      return inv.usageError(d.error().client_message);
    }
    deployments.push_back(std::move(*d));
  }
  nameDuplicates(deployments);
  int code = 0;
  auto scope = routeScope(inv, code);
  if (!scope) {
    return code;
  }
  auto r = inv.control().setRoute(
      control::Actor::cli(), *scope, inv.text("model"), std::move(deployments));
  if (!r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(api::toJson(*r, false));
  } else {
    inv.out() << "Route " << printable(r->model) << (scope->empty() ? " (operator default)" : "")
              << ":\n";
    for (const auto& d : r->deployments) {
      inv.out() << "  " << printable(d.name) << "  " << printable(describeDeployment(d)) << "\n";
    }
  }
  return 0;
}

void defineRouteList(CLI::App& c) {
  defineScope(c);
}

int runRouteList(Invocation& inv) {
  int code = 0;
  auto scope = routeScope(inv, code);
  if (!scope) {
    return code;
  }
  auto own = inv.stores().routes.list(*scope);
  if (!own) {
    return inv.failed(own.error());
  }
  std::vector<std::pair<storage::Route, bool>> rows;
  for (auto& r : *own) {
    rows.emplace_back(std::move(r), false);
  }
  if (!scope->empty()) {
    auto defaults = inv.stores().routes.list("");
    if (!defaults) {
      return inv.failed(defaults.error());
    }
    for (auto& d : *defaults) {
      bool shadowed = false;
      for (const auto& [r, inherited] : rows) {
        shadowed = shadowed || (!inherited && r.model == d.model);
      }
      if (!shadowed) {
        rows.emplace_back(std::move(d), true);
      }
    }
  }
  if (inv.json()) {
    json::array items;
    for (const auto& [r, inherited] : rows) {
      items.emplace_back(api::toJson(r, inherited));
    }
    inv.printJson(json::object{{"data", std::move(items)}});
    return 0;
  }
  Table table({"MODEL", "DEPLOYMENTS", "SOURCE", "UPDATED"});
  for (const auto& [r, inherited] : rows) {
    std::string ds;
    for (const auto& d : r.deployments) {
      ds += (ds.empty() ? "" : ", ") + describeDeployment(d);
    }
    table.add({r.model,
               ds,
               inherited ? "operator default" : (scope->empty() ? "default" : "tenant"),
               formatTime(r.updated_at)});
  }
  table.print(inv.out());
  return 0;
}

void defineRouteDelete(CLI::App& c) {
  defineScope(c);
  c.add_option("model")->description("The model name")->required();
}

int runRouteDelete(Invocation& inv) {
  int code = 0;
  auto scope = routeScope(inv, code);
  if (!scope) {
    return code;
  }
  auto model = inv.text("model");
  if (auto r = inv.control().deleteRoute(control::Actor::cli(), *scope, model); !r) {
    return inv.failed(r.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"model", model}, {"deleted", true}});
  } else {
    inv.out() << "Deleted route " << printable(model) << "\n";
  }
  return 0;
}

// ---- usage -----------------------------------------------------------------------------------

void defineUsage(CLI::App& c) {
  c.add_option("--tenant")->description("Only this tenant (default: every tenant)");
  c.add_option("--from")->description("From this time, inclusive (RFC 3339 or YYYY-MM-DD, UTC)");
  c.add_option("--to")->description("Up to this time, exclusive (RFC 3339 or YYYY-MM-DD, UTC)");
  c.add_option("--group-by")
      ->description(
          "tenant, model, key, user, day or hour (default: tenant, or model with "
          "--tenant)")
      ->check(CLI::IsMember({"tenant", "model", "key", "user", "day", "hour"}));
  c.add_flag("--csv")->description("CSV output");
}

std::string usd(std::int64_t micro) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(micro) / 1e6);
  return buf;
}

int runUsage(Invocation& inv) {
  storage::UsageFilter filter;
  for (const char* name : {"--from", "--to"}) {
    if (!inv.has(name)) {
      continue;
    }
    auto at = parseTimestamp(inv.text(name));
    if (!at) {
      return inv.usageError(std::string(name) +
                            ": expected RFC 3339 (2026-11-01T00:00:00Z) or YYYY-MM-DD");
    }
    (std::string_view(name) == "--from" ? filter.from : filter.to) = *at;
  }
  if (inv.flag("--csv") && inv.json()) {
    return inv.usageError("--csv and --json exclude each other");
  }
  std::string group_name = inv.has("--group-by") ? inv.text("--group-by")
                           : inv.has("--tenant") ? "model"
                                                 : "tenant";
  auto group = group_name == "tenant"  ? storage::UsageGroup::kTenant
               : group_name == "model" ? storage::UsageGroup::kModel
               : group_name == "key"   ? storage::UsageGroup::kApiKey
               : group_name == "user"  ? storage::UsageGroup::kEndUser
               : group_name == "day"   ? storage::UsageGroup::kDay
                                       : storage::UsageGroup::kHour;
  if (inv.has("--tenant")) {
    auto t = inv.tenant(inv.text("--tenant"));
    if (!t) {
      return inv.failed(t.error());
    }
    filter.tenant_id = t->id;
  } else {
    filter.all_tenants = true;
  }
  auto totals = inv.stores().usage.totals(filter, group);
  if (!totals) {
    return inv.failed(totals.error());
  }
  const bool bucketed = group == storage::UsageGroup::kDay || group == storage::UsageGroup::kHour;
  // The display value of a group key: bucket starts as times, tenant ids with their slug.
  auto label = [&](const storage::UsageTotals& u) -> std::string {
    if (bucketed) {
      std::int64_t ms = 0;
      std::from_chars(u.key.data(), u.key.data() + u.key.size(), ms);
      return formatTime(ms);
    }
    if (group == storage::UsageGroup::kTenant) {
      if (auto t = inv.stores().tenants.get(u.key)) {
        return t->slug;
      }
    }
    return u.key;
  };
  if (inv.json()) {
    json::array items;
    for (const auto& u : *totals) {
      auto o = api::toJson(u);
      o["label"] = label(u);
      items.emplace_back(std::move(o));
    }
    inv.printJson(json::object{{"group_by", group_name}, {"data", std::move(items)}});
    return 0;
  }
  if (inv.flag("--csv")) {
    inv.out() << group_name
              << ",label,requests,prompt_tokens,completion_tokens,cached_tokens,total_tokens,"
                 "cost_usd\n";
    for (const auto& u : *totals) {
      inv.out() << csvField(u.key) << "," << csvField(label(u)) << "," << u.requests << ","
                << u.prompt_tokens << "," << u.completion_tokens << "," << u.cached_tokens << ","
                << (u.prompt_tokens + u.completion_tokens) << "," << usd(u.cost_micro_usd) << "\n";
    }
    return 0;
  }
  std::string header = group_name;
  for (auto& c : header) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  Table table({header, "REQUESTS", "PROMPT", "COMPLETION", "TOTAL", "COST (USD)"});
  for (const auto& u : *totals) {
    std::string name = label(u);
    if (group == storage::UsageGroup::kTenant && name != u.key) {
      name += " (" + u.key + ")";
    }
    table.add({name.empty() ? "-" : name,
               std::to_string(u.requests),
               std::to_string(u.prompt_tokens),
               std::to_string(u.completion_tokens),
               std::to_string(u.prompt_tokens + u.completion_tokens),
               usd(u.cost_micro_usd)});
  }
  table.print(inv.out());
  return 0;
}

// ---- audit -----------------------------------------------------------------------------------

int runAuditVerify(Invocation& inv) {
  auto v = inv.stores().audit.verify();
  if (!v) {
    return inv.failed(v.error());
  }
  if (inv.json()) {
    inv.printJson(json::object{{"ok", v->ok},
                               {"checked", v->checked},
                               {"first_broken_seq", v->first_broken_seq},
                               {"reason", v->reason}});
  }
  if (v->ok) {
    if (!inv.json()) {
      inv.out() << "audit log intact: " << v->checked << " entries verified\n";
    }
    return 0;
  }
  std::string why = v->reason == "gap"         ? "an entry before it is missing (deleted row)"
                    : v->reason == "prev_hash" ? "its link to the previous entry is broken"
                    : v->reason == "hash"      ? "its content does not match its hash (edited row)"
                                               : v->reason;
  inv.err() << "livery: audit log BROKEN at entry seq " << v->first_broken_seq << ": "
            << printable(why) << " (" << v->checked << " entries checked before it)\n";
  return 1;
}

void defineAuditList(CLI::App& c) {
  c.add_option("--tenant")->description("Only this tenant's entries");
  addNumberOption(c, "--limit", "At most N entries (default 50)", 1, storage::kMaxPageSize);
  addNumberOption(c,
                  "--after",
                  "Entries after this seq, oldest first (default: the newest N)",
                  0,
                  std::uint64_t{1} << 62)
      ->type_name("SEQ");
}

int runAuditList(Invocation& inv) {
  std::string tenant_id;
  if (inv.has("--tenant")) {
    auto t = inv.tenant(inv.text("--tenant"));
    if (!t) {
      return inv.failed(t.error());
    }
    tenant_id = t->id;
  }
  const std::size_t limit = inv.number("--limit", 50);
  auto page = [&](std::int64_t after, std::size_t n) {
    return tenant_id.empty() ? inv.stores().audit.listAll(after, n)
                             : inv.stores().audit.list(tenant_id, after, n);
  };
  std::deque<storage::AuditEntry> entries;
  if (inv.has("--after")) {
    auto got = page(static_cast<std::int64_t>(inv.number("--after")), limit);
    if (!got) {
      return inv.failed(got.error());
    }
    entries.assign(got->begin(), got->end());
  } else {
    // The newest `limit` entries: walk the log in pages, keeping only the tail (bounded memory).
    std::int64_t after = 0;
    for (;;) {
      auto got = page(after, 1000);
      if (!got) {
        return inv.failed(got.error());
      }
      for (auto& e : *got) {
        entries.push_back(std::move(e));
        if (entries.size() > limit) {
          entries.pop_front();
        }
      }
      if (got->size() < 1000) {
        break;
      }
      after = entries.back().seq;
    }
  }
  if (inv.json()) {
    json::array items;
    for (const auto& e : entries) {
      items.emplace_back(api::toJson(e));
    }
    inv.printJson(json::object{{"data", std::move(items)}});
    return 0;
  }
  Table table({"SEQ", "TIME", "ACTOR", "TENANT", "ACTION", "DETAILS"});
  for (const auto& e : entries) {
    table.add({std::to_string(e.seq),
               formatTime(e.ts),
               e.actor,
               e.tenant_id.empty() ? "-" : e.tenant_id,
               e.action,
               e.details_json});
  }
  table.print(inv.out());
  return 0;
}

void defineNone(CLI::App& /*c*/) {}

}  // namespace

void appendRoutingCommands(std::vector<Command>& out) {
  const Command commands[] = {
      {"route set",
       "Map a model name to deployments (replaces the route)",
       defineRouteSet,
       runRouteSet},
      {"route list",
       "List a tenant's routes (with the inherited operator defaults)",
       defineRouteList,
       runRouteList},
      {"route delete", "Delete a route", defineRouteDelete, runRouteDelete},
      {"usage", "Token usage and cost from the ledger, grouped", defineUsage, runUsage},
      {"audit verify",
       "Walk the audit hash chain; exit 1 naming the first broken entry",
       defineNone,
       runAuditVerify},
      {"audit list", "Show audit entries", defineAuditList, runAuditList},
  };
  out.insert(out.end(), std::begin(commands), std::end(commands));
}

}  // namespace livery::app::cli
