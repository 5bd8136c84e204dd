#include "prompts/regex.hpp"

#include <re2/re2.h>

namespace livery::prompts {

Result<Regex> Regex::compile(std::string_view pattern, const RegexOptions& options) {
  if (pattern.size() > options.max_pattern_bytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                "pattern is longer than " + std::to_string(options.max_pattern_bytes) + " bytes");
  }
  RE2::Options opts;
  opts.set_log_errors(false);  // RE2 would otherwise write tenant patterns to stderr
  opts.set_max_mem(options.max_program_bytes);
  opts.set_case_sensitive(!options.ignore_case);
  opts.set_literal(options.literal);
  opts.set_never_capture(true);  // we only ask "does it match"
  opts.set_encoding(RE2::Options::EncodingUTF8);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
  if (!re->ok()) {
    std::string reason = re->error();
    if (re->error_code() == RE2::ErrorPatternTooLarge) {
      reason = "pattern too large or too complex (RE2 program over the memory limit)";
    }
    return fail(ErrorCode::kUnprocessable, "invalid regex: " + reason);
  }
  return Regex(std::move(re), std::string(pattern));
}

bool Regex::search(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Regex::fullMatch(std::string_view text) const {
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

std::size_t Regex::find(std::string_view text) const {
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  if (!re_->Match(input, 0, input.size(), RE2::UNANCHORED, &match, 1)) {
    return std::string_view::npos;
  }
  return static_cast<std::size_t>(match.data() - input.data());
}

}  // namespace livery::prompts
