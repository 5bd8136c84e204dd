#include "providers/body_rewrite.hpp"

#include "providers/json_text.hpp"

namespace livery::providers {

namespace {

using Kind = BodyMember::Kind;

void appendRange(std::string& out, std::string_view body, std::size_t begin, std::size_t end) {
  out.append(body.data() + begin, end - begin);
}

void appendModelMember(std::string& out,
                       std::string_view body,
                       const BodyMember& m,
                       std::string_view model) {
  if (model.empty()) {
    appendRange(out, body, m.key_begin, m.value_end);
    return;
  }
  appendRange(out, body, m.key_begin, m.value_begin);
  appendJsonQuoted(out, model);
}

void appendStreamOptions(std::string& out,
                         std::string_view body,
                         const ChatBodyLayout& layout,
                         const BodyMember& m) {
  appendRange(out, body, m.key_begin, m.value_begin);
  out += R"({"include_usage":true)";
  if (layout.stream_options_is_object) {
    for (const auto& inner : layout.stream_options_members) {
      if (inner.kind == Kind::kIncludeUsage) {
        continue;
      }
      out.push_back(',');
      appendRange(out, body, inner.key_begin, inner.value_end);
    }
  }
  out.push_back('}');
}

void appendMessages(std::string& out,
                    std::string_view body,
                    const ChatBodyLayout& layout,
                    const BodyMember& m,
                    std::string_view prompt) {
  if (prompt.empty()) {
    appendRange(out, body, m.key_begin, m.value_end);
    return;
  }
  switch (layout.first_system) {
    case ChatBodyLayout::FirstSystem::kString:
      // "<prompt>\n\n<the request's own system text>"
      appendRange(out, body, m.key_begin, layout.first_system_content + 1);
      appendJsonEscaped(out, prompt);
      appendJsonEscaped(out, kPromptSeparator);
      appendRange(out, body, layout.first_system_content + 1, m.value_end);
      return;
    case ChatBodyLayout::FirstSystem::kParts:
      appendRange(out, body, m.key_begin, layout.first_system_content + 1);
      out += R"({"type":"text","text":")";
      appendJsonEscaped(out, prompt);
      if (!layout.first_system_parts_empty) {
        appendJsonEscaped(out, kPromptSeparator);
      }
      out += R"("})";
      if (!layout.first_system_parts_empty) {
        out.push_back(',');
      }
      appendRange(out, body, layout.first_system_content + 1, m.value_end);
      return;
    case ChatBodyLayout::FirstSystem::kNone:
      // m.value_begin is the '[' of a non-empty array.
      appendRange(out, body, m.key_begin, m.value_begin + 1);
      out += R"({"role":"system","content":")";
      appendJsonEscaped(out, prompt);
      out += R"("},)";
      appendRange(out, body, m.value_begin + 1, m.value_end);
      return;
  }
}

}  // namespace

std::string layeredSystemPrompt(const PromptLayers& layers) {
  std::string out;
  for (std::string_view layer : {layers.operator_policy, layers.tenant_prompt}) {
    if (layer.empty()) {
      continue;
    }
    if (!out.empty()) {
      out += kPromptSeparator;
    }
    out += layer;
  }
  return out;
}

std::string rewriteChatBody(const ChatRequest& request, const ChatRewrite& rewrite) {
  std::string_view body = request.body;
  const ChatBodyLayout& layout = request.layout;
  const bool force_usage = request.stream && rewrite.stream_usage;
  std::string out;
  out.reserve(body.size() + rewrite.system_prompt.size() + rewrite.system_prompt.size() / 8 +
              rewrite.model.size() + 96);
  out.push_back('{');
  bool first = true;
  bool wrote_stream_options = false;
  for (const auto& m : layout.members) {
    if (m.kind == Kind::kMockResponse) {
      continue;
    }
    if (!first) {
      out.push_back(',');
    }
    first = false;
    switch (m.kind) {
      case Kind::kModel:
        appendModelMember(out, body, m, rewrite.model);
        break;
      case Kind::kMessages:
        appendMessages(out, body, layout, m, rewrite.system_prompt);
        break;
      case Kind::kStreamOptions:
        if (force_usage) {
          appendStreamOptions(out, body, layout, m);
          wrote_stream_options = true;
        } else {
          appendRange(out, body, m.key_begin, m.value_end);
        }
        break;
      default:
        appendRange(out, body, m.key_begin, m.value_end);
        break;
    }
  }
  if (force_usage && !wrote_stream_options) {
    if (!first) {
      out.push_back(',');
    }
    out += R"("stream_options":{"include_usage":true})";
  }
  out.push_back('}');
  return out;
}

std::string rewriteEmbeddingsBody(const EmbeddingsRequest& request, std::string_view model) {
  std::string_view body = request.body;
  std::string out;
  out.reserve(body.size() + model.size() + 16);
  out.push_back('{');
  bool first = true;
  for (const auto& m : request.members) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    if (m.kind == Kind::kModel) {
      appendModelMember(out, body, m, model);
    } else {
      appendRange(out, body, m.key_begin, m.value_end);
    }
  }
  out.push_back('}');
  return out;
}

}  // namespace livery::providers
