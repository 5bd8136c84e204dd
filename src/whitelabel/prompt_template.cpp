#include "whitelabel/prompt_template.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "whitelabel/text.hpp"

namespace livery::whitelabel {

namespace {

struct VariableName {
  std::string_view name;
  PromptVariable variable;
};

constexpr std::array kVariables = {
    VariableName{"tenant_name", PromptVariable::kTenantName},
    VariableName{"user", PromptVariable::kUser},
    VariableName{"date", PromptVariable::kDate},
    VariableName{"model", PromptVariable::kModel},
};

constexpr std::size_t kMaxVariableNameBytes = 64;

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view trimAll(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (!s.empty() && ws(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && ws(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<CompiledPrompt> CompiledPrompt::compile(std::string_view text,
                                               Owner owner,
                                               const PromptLimits& limits) {
  if (text.size() > limits.max_template_bytes) {
    return fail(ErrorCode::kPayloadTooLarge, "the system prompt is too long");
  }
  if (!isValidUtf8(text)) {
    return fail(ErrorCode::kUnprocessable, "the system prompt is not valid UTF-8 text");
  }
  CompiledPrompt p;
  p.owner_ = std::move(owner);
  p.text_ = std::string(text);
  p.limits_ = limits;
  std::string_view t = p.text_;
  std::size_t literal_start = 0;
  auto add_literal = [&p](std::size_t from, std::size_t to) {
    if (to > from) {
      if (!p.segments_.empty() && !p.segments_.back().is_variable &&
          p.segments_.back().offset + p.segments_.back().length == from) {
        p.segments_.back().length += to - from;  // merge adjacent literals
      } else {
        p.segments_.push_back(Segment{false, PromptVariable::kTenantName, from, to - from});
      }
      p.literal_bytes_ += to - from;
    }
  };
  std::size_t pos = 0;
  while ((pos = t.find("{{", pos)) != std::string_view::npos) {
    std::size_t close = t.find("}}", pos + 2);
    if (close == std::string_view::npos) {
      break;  // unterminated: the rest is literal
    }
    std::string_view inner = t.substr(pos + 2, close - pos - 2);
    std::string_view name = trimSpaces(inner);
    bool well_formed = !name.empty() && name.size() <= kMaxVariableNameBytes &&
                       std::all_of(name.begin(), name.end(), isNameChar);
    if (!well_formed) {
      pos += 1;  // not a variable: leave "{" as text and look further ("{{{user}}}")
      continue;
    }
    auto known = std::find_if(kVariables.begin(), kVariables.end(), [&](const VariableName& v) {
      return v.name == name;
    });
    if (known == kVariables.end()) {
      if (std::find(p.unknown_.begin(), p.unknown_.end(), name) == p.unknown_.end()) {
        p.unknown_.emplace_back(name);
      }
      pos = close + 2;  // stays visible as literal text
      continue;
    }
    add_literal(literal_start, pos);
    p.segments_.push_back(Segment{true, known->variable, 0, 0});
    p.has_variables_ = true;
    pos = close + 2;
    literal_start = pos;
    if (p.segments_.size() > limits.max_segments) {
      return fail(ErrorCode::kPayloadTooLarge, "the system prompt has too many variables");
    }
  }
  add_literal(literal_start, t.size());
  return p;
}

std::string CompiledPrompt::render(const PromptValues& values) const {
  // Each value is cleaned once per render, not once per occurrence.
  std::string tenant_name;
  std::string user;
  std::string model;
  std::string date;
  bool prepared = false;
  std::string out;
  out.reserve(literal_bytes_ + 64);
  for (const Segment& s : segments_) {
    if (!s.is_variable) {
      out.append(text_, s.offset, s.length);
      continue;
    }
    if (!prepared) {
      tenant_name = sanitizeText(values.tenant_name, {.max_bytes = limits_.max_tenant_name_bytes});
      user = sanitizeText(values.user, {.max_bytes = limits_.max_user_bytes});
      model = sanitizeText(values.model, {.max_bytes = limits_.max_model_bytes});
      date = utcDate(values.now);
      prepared = true;
    }
    switch (s.variable) {
      case PromptVariable::kTenantName:
        out += tenant_name;
        break;
      case PromptVariable::kUser:
        out += user;
        break;
      case PromptVariable::kDate:
        out += date;
        break;
      case PromptVariable::kModel:
        out += model;
        break;
    }
  }
  return out;
}

std::string utcDate(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar types, .cpp only
  const year_month_day ymd{floor<days>(t)};
  int y = static_cast<int>(ymd.year());
  auto m = static_cast<unsigned>(ymd.month());
  auto d = static_cast<unsigned>(ymd.day());
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string composeSystemPrompt(std::string_view operator_policy,
                                std::string_view tenant_prompt,
                                std::string_view request_system) {
  std::string out;
  for (std::string_view layer : {operator_policy, tenant_prompt, request_system}) {
    layer = trimAll(layer);
    if (layer.empty()) {
      continue;
    }
    if (!out.empty()) {
      out += "\n\n";
    }
    out += layer;
  }
  return out;
}

}  // namespace livery::whitelabel
