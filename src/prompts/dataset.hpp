#pragma once

// Golden datasets: tenants/<slug>/golden.jsonl, one case per line (blank lines are skipped):
//
//   {"id": "greets-by-name",
//    "description": "optional, for people",
//    "user": "optional end-user id, fills {{user}}",
//    "messages": [{"role": "user", "content": "Hi, I'm Ana"}],
//    "assert": [{"type": "contains", "value": "Ana"}, ...]}
//
// `id` is unique in the file ([A-Za-z0-9._:-], 1..128); `messages` are OpenAI chat messages with
// string content and role system, user or assistant, at least one of them a user message (a
// system message here is the request's own, layered after the tenant prompt); `assert` holds
// 1..max_assertions assertions (prompts/assertion.hpp). Unknown keys are errors.
//
// Parsing is strict and bounded (file size is checked by the reader; here: line length, number
// of cases, messages, assertions). Every problem is reported with its line number; parsing goes
// on after a bad line so one run lists up to `max_problems` of them.
//
// Thread-safety: a parsed GoldenDataset is immutable and may be shared.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "prompts/assertion.hpp"
#include "prompts/chat_message.hpp"

namespace livery::prompts {

struct GoldenCase {
  std::string id;
  std::size_t line = 0;  // 1-based line in golden.jsonl
  std::string description;
  std::string user;
  std::vector<ChatMessage> messages;
  std::vector<Assertion> assertions;
};

struct GoldenDataset {
  std::vector<GoldenCase> cases;
  std::string sha256;  // hex SHA-256 of the file as read

  bool usesJudge() const;
};

struct DatasetLimits {
  std::size_t max_cases = 500;
  std::size_t max_line_bytes = 256 * 1024;
  std::size_t max_messages = 64;
  std::size_t max_message_bytes = 64 * 1024;
  std::size_t max_assertions = 32;
  std::size_t max_problems = 20;
  AssertionLimits assertion;
};

// kUnprocessable when the dataset has problems; client_message lists them, one per line:
//   "<file_name>: 2 problems:\n  line 3: assert[1]: unknown assertion type 'containz' ...\n ..."
// An empty dataset (no case) is a problem too: a gate with nothing to check passes nothing.
[[nodiscard]] Result<GoldenDataset> parseGoldenDataset(std::string_view text,
                                                       std::string_view file_name = "golden.jsonl",
                                                       const DatasetLimits& limits = {});

// Lower-case hex SHA-256 (OpenSSL).
std::string sha256Hex(std::string_view bytes);

}  // namespace livery::prompts
