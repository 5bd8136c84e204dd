#pragma once

// Building blocks of the administrative CLI (`livery tenant …`, `livery kms …`; the commands are
// in cli_admin.cpp and cli_credentials.cpp): the table of commands, one Invocation per run (the
// parsed arguments, the lazily opened CoreServices, the output streams), and helpers for output,
// times and secrets read from a file, a pipe or a terminal without echo.
//
// Exit codes: 0 success; 1 the operation failed (message on stderr); 2 a usage or configuration
// error. Every state change goes through control::ControlPlane as control::Actor::cli(), so it
// is validated and audited like the same change made through the admin API, and the stores
// record a change-feed row that a running server applies within one sync poll.
//
// Thread-safety: none; the CLI is single-threaded. Secrets (keys, tokens, passwords) are held in
// SecretBytes; the only place a secret is ever printed is the one-time display of a new API key
// or operator token on stdout.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/secret.hpp"
#include "storage/model.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI
namespace livery {
class Logger;
}
namespace livery::config {
struct Config;
}
namespace livery::control {
class ControlPlane;
}
namespace livery::storage {
struct Stores;
}

namespace livery::app {
struct CoreServices;
}

namespace livery::app::cli {

class Invocation;

// One leaf command. `path` is its words ("tenant create", "usage"); groups ("tenant") are created
// from the paths. `define` adds the command's own options (--config, --data-dir, --set and --json
// are added to every command); `run` returns the exit code.
struct Command {
  std::string_view path;
  std::string_view help;
  void (*define)(CLI::App& cmd);
  int (*run)(Invocation& inv);
};

void appendAccountCommands(std::vector<Command>& out);     // tenant, plan, token, key, user
void appendRoutingCommands(std::vector<Command>& out);     // route, usage, audit
void appendCredentialCommands(std::vector<Command>& out);  // credential, kms
void appendPromptCommands(std::vector<Command>& out);      // prompts (cli_prompts.cpp)

// Where a command reads and writes. `stdin_is_terminal` selects the no-echo prompt for secrets.
struct Streams {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool stdin_is_terminal = false;
};

// The state of one command run. Argument accessors read the parsed CLI11 tree (values were
// checked by the validators `define` attached). core() opens the database, KMS and vault on
// first use and throws StartupError when it cannot.
class Invocation {
 public:
  Invocation(CLI::App& leaf, const config::Config& cfg, Streams streams);
  ~Invocation();
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;

  bool has(std::string_view name) const;
  std::string text(std::string_view name) const;  // empty when absent
  std::vector<std::string> texts(std::string_view name) const;
  std::uint64_t number(std::string_view name, std::uint64_t fallback = 0) const;
  std::optional<std::uint64_t> optionalNumber(std::string_view name) const;
  bool flag(std::string_view name) const;
  bool json() const { return flag("--json"); }

  const config::Config& config() const { return cfg_; }
  const Clock& clock() const { return clock_; }
  CoreServices& core();
  control::ControlPlane& control();
  storage::Stores& stores();

  std::ostream& out() { return streams_.out; }
  std::ostream& err() { return streams_.err; }
  std::istream& in() { return streams_.in; }
  bool stdinIsTerminal() const { return streams_.stdin_is_terminal; }

  // Prints "livery: <message>" on stderr and returns 1.
  int failed(const Error& e);
  int failed(std::string_view message);
  // Prints "livery: <message>" (and a hint to run --help) on stderr and returns 2.
  int usageError(std::string_view message);

  // A tenant by slug or id, with a clear kNotFound.
  Result<storage::Tenant> tenant(std::string_view id_or_slug);
  // Prints a JSON value on stdout (one line).
  void printJson(const boost::json::value& v);

 private:
  CLI::App& leaf_;
  const config::Config& cfg_;
  Streams streams_;
  SystemClock clock_;
  std::unique_ptr<Logger> log_;
  std::unique_ptr<CoreServices> core_;
};

// Adds an option that takes one whole number in [lo, hi] (checked at parse time: exit 2).
CLI::Option* addNumberOption(CLI::App& cmd,
                             const std::string& name,
                             const std::string& help,
                             std::uint64_t lo,
                             std::uint64_t hi);

// ---- output ----------------------------------------------------------------------------------

// A text table with left-aligned columns. Cells are sanitised (control characters become '?'),
// because tenant data and client-supplied values (end-user ids, model names) reach a terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Control characters replaced by '?'.
std::string printable(std::string_view s);
// One CSV field (RFC 4180 quoting); a leading = + - @ is prefixed with ' so spreadsheets do not
// evaluate client-supplied values as formulas.
std::string csvField(std::string_view s);

// ---- times -----------------------------------------------------------------------------------

// "2026-11-27T10:00:00Z"; "-" for 0.
std::string formatTime(storage::Millis ms);
// RFC 3339 ("2026-11-27T10:00:00Z", "2026-11-27T10:00:00.5+01:00") or a date ("2026-11-27",
// midnight UTC) to Unix milliseconds.
std::optional<storage::Millis> parseTimestamp(std::string_view text);
// A timestamp as above, or a duration from `now`: "30d", "12h", "45m".
std::optional<storage::Millis> parseExpiry(std::string_view text, storage::Millis now);

// ---- secrets ---------------------------------------------------------------------------------

inline constexpr std::size_t kMaxSecretBytes = 8192;

// Reads a secret: from `file` when given (trailing CR/LF removed), else from a terminal with the
// echo off after printing `prompt` on stderr, else the whole of stdin (trailing CR/LF removed).
// At most kMaxSecretBytes. With `confirm` on a terminal the secret is asked for twice.
Result<SecretBytes> readSecret(Invocation& inv,
                               std::string_view prompt,
                               const std::string& file,
                               bool confirm = false);

// Asks for a line on stderr/stdin (confirmations); nullopt at end of input.
std::optional<std::string> askLine(Invocation& inv, std::string_view prompt);

}  // namespace livery::app::cli
