#pragma once

// Small JSON text helpers shared by the request parser, the body rewriter and the translators:
// escaping that always yields valid JSON, and the prompt-size estimate used for quota
// reservations. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace livery::providers {

// Appends `s` JSON-escaped, without quotes. Invalid UTF-8 is replaced by U+FFFD, so the output
// is valid JSON whatever the input bytes (tenant prompts, upstream text).
void appendJsonEscaped(std::string& out, std::string_view s);
// Appends `s` as a JSON string literal (with quotes).
void appendJsonQuoted(std::string& out, std::string_view s);
std::string jsonQuoted(std::string_view s);

// What the token estimate counts: ASCII bytes and non-ASCII code points of text.
struct TextMeasure {
  std::uint64_t ascii_bytes = 0;
  std::uint64_t non_ascii_chars = 0;

  // Counts UTF-8 text (escaped or not; escapes count as the ASCII bytes they take).
  void add(std::string_view utf8);
};

// Checks the escapes of the inside of a JSON string token (between the quotes) and measures it.
// simdjson's stage 1 has already rejected unescaped control characters and invalid UTF-8; this
// rejects what it leaves to the (skipped) unescaping step: unknown escapes and short \u escapes.
bool checkJsonStringInner(std::string_view inner, TextMeasure* measure);

// The conservative token estimate of a text measure (see docs in chat_request.hpp):
// ceil(ascii_bytes / 3) + non_ascii_chars. English averages about 4 bytes per token with the
// OpenAI and Anthropic tokenizers, so ASCII text is over-estimated by about a third; one token per
// non-ASCII code point covers CJK text (1 to 1.5 code points per token).
std::uint64_t estimateTokens(const TextMeasure& m);

}  // namespace livery::providers
