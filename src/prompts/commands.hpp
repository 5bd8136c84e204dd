#pragma once

// `livery prompts …`: the three commands as plain functions. The lead registers them with CLI11
// (parsing --tenant/--repo/--ref/--version, resolving the tenant slug to its id) and passes the
// store adapter, the ChatRunner and an output stream:
//
//   livery prompts sync    --tenant T --repo PATH --ref R
//   livery prompts eval    --tenant T --ref R [--repo PATH] [--version V]
//   livery prompts promote --tenant T --version V
//
// Exit codes: 0 success; 1 the evaluation is below its threshold, or promotion was refused;
// 2 bad input (unknown ref or version, malformed prompt.yaml or golden.jsonl, missing files);
// 3 anything else (store or repository failure).
//
// Each function writes a human-readable report to `out` (errors as "error: …" lines) and never
// writes a secret: reports carry the prompt's hash, never the prompt, and only client-safe
// messages of ChatRunner errors. Blocking: run from the CLI thread, never on an I/O thread.

#include <cstddef>
#include <iosfwd>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "prompts/chat_runner.hpp"
#include "prompts/dataset.hpp"
#include "prompts/eval_runner.hpp"
#include "prompts/git_repository.hpp"
#include "prompts/sync.hpp"
#include "prompts/version_store.hpp"

namespace livery::prompts {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBelowThreshold = 1;  // also: promotion refused
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitFailure = 3;

// The tenant as the lead resolved it from --tenant (a slug or an id).
struct TenantRef {
  std::string id;    // "tnt_…": scopes every store call
  std::string slug;  // names the folder tenants/<slug>/ in the repository
};

struct CommandLimits {
  RepoLimits repo;
  SyncLimits sync;  // max_prompt_bytes also bounds prompt.md for eval
  std::size_t max_meta_bytes = 16 * 1024;
  std::size_t max_dataset_bytes = 8 * 1024 * 1024;
  DatasetLimits dataset;
  EvalOptions eval;
};

struct SyncArgs {
  TenantRef tenant;
  std::string repo_path;
  std::string ref;
};

struct EvalArgs {
  TenantRef tenant;
  std::string repo_path;  // --repo, or the configured prompt repository
  std::string ref;
  std::string version;  // optional: evaluate this stored version instead of prompt.md at ref
};

struct PromoteArgs {
  TenantRef tenant;
  std::string version;  // a number ("3", "v3"), an id, or "latest"
};

int syncCommand(const SyncArgs& args,
                PromptVersionStore& store,
                std::ostream& out,
                const CommandLimits& limits = {});

int evalCommand(const EvalArgs& args,
                PromptVersionStore& store,
                ChatRunner& runner,
                const Clock& clock,
                std::ostream& out,
                const CommandLimits& limits = {});

int promoteCommand(const PromoteArgs& args,
                   PromptVersionStore& store,
                   std::ostream& out,
                   const CommandLimits& limits = {});

// The building block of evalCommand (and of a console "evaluate" action): reads prompt.yaml and
// golden.jsonl at the ref and picks the candidate: the stored version `version` when given,
// otherwise prompt.md at the ref, matched to the stored version with the same content (the one
// imported from the ref's commit first, else the newest), so the evaluation can be recorded.
[[nodiscard]] Result<EvalSubject> prepareEval(const GitRepository& repo,
                                              PromptVersionStore& store,
                                              const EvalArgs& args,
                                              const CommandLimits& limits = {});

// "2026-11-20T10:00:00Z".
std::string isoTime(std::int64_t unix_ms);

}  // namespace livery::prompts
