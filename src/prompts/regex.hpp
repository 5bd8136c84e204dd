#pragma once

// Tenant-written regular expressions, compiled with RE2: matching time is linear in the input
// whatever the pattern (no backtracking), and features that would need backtracking
// (backreferences, lookaround) are rejected at compile time with RE2's message. Program memory
// is capped, so a pattern such as "(a{1000}){1000}" is refused instead of growing huge.
//
// Thread-safety: a compiled Regex is immutable and may be shared and matched concurrently.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace re2 {
class RE2;
}  // namespace re2

namespace livery::prompts {

struct RegexOptions {
  bool ignore_case = false;  // Unicode simple case folding
  bool literal = false;      // the pattern is plain text, not a regex
  std::size_t max_pattern_bytes = 1024;
  std::int64_t max_program_bytes = 1 << 20;  // RE2 max_mem
};

class Regex {
 public:
  // kUnprocessable with RE2's reason for an invalid or unsupported pattern; kPayloadTooLarge
  // beyond max_pattern_bytes.
  [[nodiscard]] static Result<Regex> compile(std::string_view pattern, const RegexOptions& options);

  // True when the pattern matches somewhere in `text` (unanchored search).
  bool search(std::string_view text) const;
  // True when the pattern matches all of `text`.
  bool fullMatch(std::string_view text) const;
  // Byte offset of the first match, or npos.
  std::size_t find(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex(std::shared_ptr<const re2::RE2> re, std::string pattern)
      : re_(std::move(re)), pattern_(std::move(pattern)) {}
  std::shared_ptr<const re2::RE2> re_;
  std::string pattern_;
};

}  // namespace livery::prompts
