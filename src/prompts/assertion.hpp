#pragma once

// Golden-case assertions: what a reply must (or must not) look like. The JSON shape of each type
// is documented in docs/design/prompt-repository.md:
//
//   {"type":"contains",     "value":"Acme", "ignore_case":false}
//   {"type":"not_contains", "value":"Globex", "ignore_case":true}
//   {"type":"regex",        "pattern":"^Hello\\b", "ignore_case":false}      (RE2 syntax)
//   {"type":"json_schema",  "schema":{...}}                (the whole reply must be that JSON)
//   {"type":"max_length",   "value":280}                   (Unicode code points)
//   {"type":"equals",       "value":"Yes.", "trim":true, "ignore_case":false}
//   {"type":"judge",        "rubric":"Declines politely and offers a human contact."}
//
// Every check is linear in the reply (RE2 for regexes and for case-insensitive text, the bounded
// JsonSchema for schemas). Unknown keys and types are errors, so a typo never turns into an
// assertion that silently passes. Failure messages quote short, sanitised excerpts of the reply
// (no control characters, so a reply cannot rewrite a CI terminal).
//
// Thread-safety: a parsed Assertion is immutable and may be checked concurrently.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "prompts/chat_message.hpp"
#include "prompts/json_schema.hpp"
#include "prompts/regex.hpp"

namespace boost::json {
class value;
}  // namespace boost::json

namespace livery::prompts {

enum class AssertionKind {
  kContains,
  kNotContains,
  kRegex,
  kJsonSchema,
  kMaxLength,
  kEquals,
  kJudge
};

// "contains", "not_contains", "regex", "json_schema", "max_length", "equals", "judge".
std::string_view toString(AssertionKind kind);

struct Assertion {
  AssertionKind kind = AssertionKind::kContains;
  // contains / not_contains / equals: the expected text; regex: the pattern; judge: the rubric.
  std::string text;
  bool ignore_case = false;
  bool trim = false;          // equals: compare without leading/trailing white space
  std::size_t max_chars = 0;  // max_length
  // regex, and the case-insensitive forms of contains / not_contains / equals (literal RE2).
  std::optional<Regex> regex;
  std::optional<JsonSchema> schema;  // json_schema
};

struct AssertionLimits {
  std::size_t max_text_bytes = 16 * 1024;
  std::size_t max_pattern_bytes = 1024;
  std::size_t max_length_value = 10'000'000;
  std::size_t max_reply_json_depth = 64;
  SchemaLimits schema;
};

// Parses one element of a case's "assert" array. The error's client_message names the problem
// without a location (the dataset parser prefixes line and index).
[[nodiscard]] Result<Assertion> parseAssertion(const boost::json::value& value,
                                               const AssertionLimits& limits = {});

struct CheckOutcome {
  bool passed = true;
  std::string message;  // why it failed (empty when passed)
};

// Checks every kind except kJudge (which needs a model call: see buildJudgeMessages). A kJudge
// assertion passed here fails with an explanatory message.
CheckOutcome checkAssertion(const Assertion& assertion,
                            std::string_view reply,
                            const AssertionLimits& limits = {});

// The messages of a judge call: a system message with the grading instructions, then one user
// message carrying the rubric, the conversation and the reply as JSON strings (quoted data, so a
// reply cannot close a delimiter and speak as the grader).
std::vector<ChatMessage> buildJudgeMessages(std::string_view rubric,
                                            const std::vector<ChatMessage>& conversation,
                                            std::string_view reply);

struct JudgeVerdict {
  bool pass = false;
  std::string reason;
};

// The judge must answer with exactly one JSON object {"verdict":"pass"|"fail","reason":"..."}
// (white space around it allowed; "reason" optional; nothing else: no code fences, no prose, no
// other keys). Anything else is kUnprocessable: a judge that cannot be understood never passes a
// case.
[[nodiscard]] Result<JudgeVerdict> parseJudgeVerdict(std::string_view reply);

// A short, printable excerpt of `text` starting near byte `offset` (cut on a code point boundary,
// control characters removed), in double quotes, with "…" where it was cut.
std::string quoteExcerpt(std::string_view text, std::size_t offset = 0, std::size_t max_bytes = 80);

}  // namespace livery::prompts
