// `livery prompts sync|eval|promote|list`: the prompt repository and its evaluation gate
// (docs/design/prompt-repository.md). The work is done by the prompts library's command
// functions; this file resolves the tenant, picks the repository, and wires the library to the
// product: the versions through the ControlPlane (audited, change feed) and, for `eval`, the
// cases through an in-process gateway's request pipeline (the tenant's routes, keys, limits and
// metering), never through a side channel.
//
// Exit codes (also for CI): 0 success; 1 below the threshold or promotion refused; 2 a usage,
// configuration or input error (unknown tenant, ref or version, malformed prompt.yaml or
// golden.jsonl, no repository); 3 anything else (store, KMS or repository failure).

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/json_model.hpp"
#include "app/cli_support.hpp"
#include "app/core_services.hpp"
#include "app/gateway.hpp"
#include "app/prompt_runner.hpp"
#include "app/prompt_version_store.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "prompts/commands.hpp"
#include "prompts/eval_report.hpp"

namespace livery::app::cli {

namespace json = boost::json;

namespace {

constexpr int kExitOk = prompts::kExitOk;
constexpr int kExitUsage = prompts::kExitBadInput;
constexpr int kExitFailure = prompts::kExitFailure;

prompts::CommandLimits limitsFrom(const config::Config& cfg) {
  prompts::CommandLimits limits;
  limits.eval.max_concurrency = static_cast<std::size_t>(cfg.prompts.eval_max_concurrency);
  limits.eval.max_case_timeout = cfg.prompts.eval_max_case_timeout;
  return limits;
}

void addTenant(CLI::App& c) {
  c.add_option("--tenant")->description("Tenant slug or id")->required();
}

void addRepo(CLI::App& c) {
  c.add_option("--repo")->description(
      "Path of a local clone of the prompts repository (default: prompts.repo_path)");
}

// --repo, else the configured repository; empty when neither is set.
std::string repoPath(Invocation& inv) {
  auto repo = inv.text("--repo");
  return repo.empty() ? inv.config().prompts.repo_path : repo;
}

int noRepo(Invocation& inv) {
  return inv.usageError("no prompts repository: pass --repo PATH or set prompts.repo_path");
}

// The tenant by slug or id; prints the error and sets `exit_code` when there is none.
std::optional<prompts::TenantRef> tenantRef(Invocation& inv,
                                            control::ControlPlane& control,
                                            int& exit_code) {
  auto slug_or_id = inv.text("--tenant");
  auto t = control.findTenant(slug_or_id);
  if (!t) {
    if (t.error().code == ErrorCode::kNotFound) {
      inv.err() << "livery: no tenant '" << printable(slug_or_id) << "'\n";
      exit_code = kExitUsage;
    } else {
      inv.failed(t.error());
      exit_code = kExitFailure;
    }
    return std::nullopt;
  }
  return prompts::TenantRef{t->id, t->slug};
}

// Runs `body`, turning a start-up failure (storage, KMS) into exit code 3: for these commands 1
// means "the gate said no", which an infrastructure failure must not look like.
template <class Body>
int guarded(Invocation& inv, Body body) {
  try {
    return body();
  } catch (const config::ConfigError& e) {
    inv.err() << "livery: configuration error: " << e.describe() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    inv.err() << "livery: " << e.what() << "\n";
    return kExitFailure;
  }
}

// ---- sync ------------------------------------------------------------------------------------

void defineSync(CLI::App& c) {
  addTenant(c);
  addRepo(c);
  c.add_option("--ref")
      ->description("Branch, tag or commit whose history of prompt.md is imported")
      ->required();
}

int runSync(Invocation& inv) {
  return guarded(inv, [&] {
    auto repo = repoPath(inv);
    if (repo.empty()) {
      return noRepo(inv);
    }
    int code = kExitOk;
    auto tenant = tenantRef(inv, inv.control(), code);
    if (!tenant) {
      return code;
    }
    ControlPlanePromptVersionStore store(inv.control(), nullptr, control::Actor::cli());
    return prompts::syncCommand(
        {*tenant, repo, inv.text("--ref")}, store, inv.out(), limitsFrom(inv.config()));
  });
}

// ---- eval ------------------------------------------------------------------------------------

void defineEval(CLI::App& c) {
  addTenant(c);
  addRepo(c);
  c.add_option("--ref")
      ->description("Branch, tag or commit whose prompt.yaml and golden.jsonl are used")
      ->required();
  c.add_option("--version")
      ->description(
          "Evaluate this stored version (a number, v3, an id or 'latest') instead of prompt.md at "
          "--ref");
}

int runEval(Invocation& inv) {
  return guarded(inv, [&] {
    auto repo = repoPath(inv);
    if (repo.empty()) {
      return noRepo(inv);
    }
    // An in-process gateway without a listener: the cases travel the request pipeline with the
    // tenant's routes, keys, limits and metering. One I/O thread is plenty for the at most 16
    // cases in flight, and only warnings reach stderr (the report is on stdout).
    config::Config cfg = inv.config();
    cfg.threads = 1;
    if (cfg.log.level == "info") {
      cfg.log.level = "warn";
    }
    Gateway gateway(cfg);
    gateway.startForTools();
    struct StopOnExit {
      Gateway& gateway;
      ~StopOnExit() {
        gateway.requestStop();
        gateway.wait();  // flushes the usage ledger
      }
    } stop{gateway};

    int code = kExitOk;
    auto tenant = tenantRef(inv, gateway.control(), code);
    if (!tenant) {
      return code;
    }
    ControlPlanePromptVersionStore store(gateway.control(), &gateway.sync(), control::Actor::cli());
    PipelineChatRunner runner(gateway.pipeline(),
                              gateway.ioThreads(),
                              inv.clock(),
                              {.max_timeout = cfg.prompts.eval_max_case_timeout});
    return prompts::evalCommand({*tenant, repo, inv.text("--ref"), inv.text("--version")},
                                store,
                                runner,
                                inv.clock(),
                                inv.out(),
                                limitsFrom(cfg));
  });
}

// ---- promote ---------------------------------------------------------------------------------

void definePromote(CLI::App& c) {
  addTenant(c);
  c.add_option("--version")
      ->description("The version to activate: a number, v3, an id or 'latest'")
      ->required();
}

int runPromote(Invocation& inv) {
  return guarded(inv, [&] {
    int code = kExitOk;
    auto tenant = tenantRef(inv, inv.control(), code);
    if (!tenant) {
      return code;
    }
    ControlPlanePromptVersionStore store(inv.control(), nullptr, control::Actor::cli());
    return prompts::promoteCommand(
        {*tenant, inv.text("--version")}, store, inv.out(), limitsFrom(inv.config()));
  });
}

// ---- list ------------------------------------------------------------------------------------

std::string evalCell(const storage::PromptVersion& v) {
  if (v.eval_json.empty()) {
    return "-";
  }
  auto summary = prompts::parseEvalSummary(v.eval_json);
  if (!summary) {
    return v.eval_passed ? "passed" : "failed";
  }
  return std::string(v.eval_passed && summary->passed ? "passed " : "failed ") +
         std::to_string(summary->cases_passed) + "/" + std::to_string(summary->cases_total);
}

int runList(Invocation& inv) {
  return guarded(inv, [&] {
    int code = kExitOk;
    auto tenant = tenantRef(inv, inv.control(), code);
    if (!tenant) {
      return code;
    }
    ControlPlanePromptVersionStore store(inv.control(), nullptr, control::Actor::cli());
    auto versions = store.list(tenant->id);
    if (!versions) {
      inv.failed(versions.error());
      return kExitFailure;
    }
    if (inv.json()) {
      json::array items;
      for (const auto& v : *versions) {
        items.emplace_back(api::toJson(v));
      }
      inv.printJson(json::object{{"data", std::move(items)}});
      return kExitOk;
    }
    Table table({"VERSION", "ID", "STATUS", "EVALUATION", "COMMIT", "AUTHOR", "CREATED"});
    for (const auto& v : *versions) {
      table.add({"v" + std::to_string(v.version),
                 v.id,
                 std::string(api::toString(v.status)),
                 evalCell(v),
                 v.commit_id.empty() ? "-" : v.commit_id.substr(0, 7),
                 v.author.empty() ? "-" : v.author,
                 formatTime(v.created_at)});
    }
    table.print(inv.out());
    return kExitOk;
  });
}

}  // namespace

void appendPromptCommands(std::vector<Command>& out) {
  const Command commands[] = {
      {"prompts sync",
       "Import a tenant's prompt history from the prompts repository as draft versions",
       defineSync,
       runSync},
      {"prompts eval",
       "Run a tenant's golden dataset through the gateway and record the result",
       defineEval,
       runEval},
      {"prompts promote",
       "Activate a prompt version; refused unless its recorded evaluation passed",
       definePromote,
       runPromote},
      {"prompts list",
       "List a tenant's prompt versions with their evaluations",
       addTenant,
       runList},
  };
  out.insert(out.end(), std::begin(commands), std::end(commands));
}

}  // namespace livery::app::cli
