#pragma once

// System prompt templates and layering.
//
// A tenant prompt may use four variables: {{tenant_name}}, {{user}}, {{date}} (UTC, YYYY-MM-DD)
// and {{model}}; white space inside the braces is allowed ({{ user }}). Substitution is a single
// pass over the compiled template: values are inserted as text and never scanned again, so a
// value containing "{{tenant_name}}" stays literally that. There is no code execution of any
// kind: no expressions, filters, conditionals, includes or loops. Unknown variables ({{foo}}) and
// anything that is not a well-formed {{name}} are left visible exactly as written: a typo then
// shows up in the console preview and in the model's answers instead of silently vanishing, and
// prompts that quote Mustache/Jinja examples survive. Values are cleaned (sanitizeText: control,
// bidi and zero-width characters removed, newlines included, so a value cannot start a new line
// of instructions) and bounded in length.
//
// Layering (composeSystemPrompt): operator policy, then the tenant's prompt, then the request's
// own system message, separated by a blank line, for every provider; the provider adapter puts
// the result where the provider expects it (OpenAI first system message, Anthropic `system`).
//
// Thread-safety: a CompiledPrompt is immutable after compile() and may be shared across threads.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace livery::whitelabel {

struct PromptLimits {
  std::size_t max_template_bytes = 256 * 1024;
  std::size_t max_segments = 4096;  // literal + variable pieces
  std::size_t max_tenant_name_bytes = 100;
  std::size_t max_user_bytes = 128;
  std::size_t max_model_bytes = 128;
};

enum class PromptVariable { kTenantName, kUser, kDate, kModel };

// The values for one request. Strings are borrowed for the duration of render().
struct PromptValues {
  std::string_view tenant_name;
  std::string_view user;   // the end-user id (client-supplied or JWT sub): untrusted
  std::string_view model;  // the model name as requested
  std::chrono::system_clock::time_point now;  // from the injected Clock (wallNow())
};

class CompiledPrompt {
 public:
  // Which tenant and version this template belongs to (the request path may check it against
  // the resolved tenant before injecting).
  struct Owner {
    std::string tenant_id;
    std::string version_id;
  };

  // kPayloadTooLarge beyond the limits; kUnprocessable if the text is not valid UTF-8.
  [[nodiscard]] static Result<CompiledPrompt> compile(std::string_view text,
                                                      Owner owner,
                                                      const PromptLimits& limits = {});

  std::string render(const PromptValues& values) const;

  const Owner& owner() const { return owner_; }
  // Distinct names written as {{name}} that are not variables (for a console warning).
  const std::vector<std::string>& unknownVariables() const { return unknown_; }
  bool hasVariables() const { return has_variables_; }
  std::size_t sizeBytes() const { return literal_bytes_; }

 private:
  struct Segment {
    bool is_variable = false;
    PromptVariable variable = PromptVariable::kTenantName;
    std::size_t offset = 0;  // into text_ for literals
    std::size_t length = 0;
  };

  Owner owner_;
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<std::string> unknown_;
  PromptLimits limits_;
  std::size_t literal_bytes_ = 0;
  bool has_variables_ = false;
};

// "YYYY-MM-DD" in UTC.
std::string utcDate(std::chrono::system_clock::time_point t);

// Joins the non-empty layers, in this order, with "\n\n": the operator policy, the tenant
// prompt, the request's own system message(s). Every layer is taken as is (render templates
// first); white space around each layer is trimmed.
std::string composeSystemPrompt(std::string_view operator_policy,
                                std::string_view tenant_prompt,
                                std::string_view request_system);

}  // namespace livery::whitelabel
