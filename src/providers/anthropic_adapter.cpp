// Anthropic Messages API (POST {base}/v1/messages), translated both ways:
//   request:  system/developer messages -> `system` (a string, or text blocks when a part
//             carries cache_control), the layered prompt first; user text and images
//             (data: URLs -> base64 source, http(s) URLs -> url source; PDF file parts ->
//             document blocks); assistant text and tool_calls -> tool_use blocks; tool messages
//             -> tool_result blocks in the next user turn (consecutive same-role turns merge,
//             as Anthropic requires alternation); tools/tool_choice/parallel_tool_calls; stop ->
//             stop_sequences; max_completion_tokens/max_tokens (default from the credential's
//             "default_max_tokens", else 4096); temperature, top_p; user -> metadata.user_id.
//             Not expressible, so refused with 400: n > 1, response_format json_object /
//             json_schema, audio parts, the legacy function role. Ignored: presence/frequency
//             penalties, seed, logprobs, logit_bias.
//   response: content text -> message.content, tool_use -> tool_calls (input serialised as the
//             arguments string), stop_reason -> finish_reason, usage with cache tokens (OpenAI
//             semantics: prompt_tokens = input + cache writes + cache reads).
//   stream:   message_start / content_block_start / content_block_delta (text_delta,
//             input_json_delta) / content_block_stop / message_delta / message_stop / ping /
//             error -> chat.completion.chunk events, tool_calls deltas indexed per tool call, a
//             usage chunk when the client asked for it, and `data: [DONE]`.
//
// Security posture: sends only to the credential's base URL (default https://api.anthropic.com),
// re-checked by the upstream client's outbound guard. The key travels in "x-api-key", injected by
// the upstream client. Options: "anthropic_version" (default 2023-06-01) and "anthropic_beta"
// (header values restricted to [A-Za-z0-9._,-]), "default_max_tokens". Image URLs are passed to
// Anthropic, which fetches them itself: Livery never dereferences a client-supplied URL.

#include <algorithm>

#include <boost/json.hpp>
#include <simdjson.h>

#include "providers/json_text.hpp"
#include "providers/provider_adapter.hpp"
#include "providers/target_options.hpp"
#include "providers/upstream_errors.hpp"

namespace livery::providers {

namespace {

namespace json = boost::json;

constexpr std::string_view kDefaultVersion = "2023-06-01";
constexpr std::uint64_t kDefaultMaxTokens = 4096;
constexpr std::size_t kMaxBlocks = 4096;  // bound of the stream translator's block table
constexpr std::string_view kProvider = "anthropic";

Error badRequest(std::string param, std::string message) {
  return fail(ErrorCode::kBadRequest, std::move(message)).withParam(std::move(param));
}

bool isHeaderToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
           c == ',';
  });
}

std::string_view finishReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "tool_use") {
    return "tool_calls";
  }
  if (stop_reason == "refusal") {
    return "content_filter";
  }
  return "stop";  // end_turn, stop_sequence, pause_turn
}

// ---- request translation --------------------------------------------------------------------

class RequestTranslator {
 public:
  explicit RequestTranslator(json::storage_ptr sp) : sp_(std::move(sp)), messages_(sp_) {}

  Result<void> addMessage(const json::object& m, std::size_t index) {
    const std::string param = "messages[" + std::to_string(index) + "]";
    std::string_view role = m.at("role").as_string();
    const json::value* content = m.if_contains("content");
    if (role == "system" || role == "developer") {
      return addSystem(content, param);
    }
    if (role == "user") {
      json::array blocks(sp_);
      if (auto r = userBlocks(content, param + ".content", blocks); !r) {
        return r;
      }
      append("user", std::move(blocks));
      return {};
    }
    if (role == "assistant") {
      json::array blocks(sp_);
      if (auto r = assistantBlocks(m, content, param, blocks); !r) {
        return r;
      }
      if (!blocks.empty()) {
        append("assistant", std::move(blocks));
      }
      return {};
    }
    if (role == "tool") {
      const json::value* id = m.if_contains("tool_call_id");
      if (id == nullptr || !id->is_string() || id->get_string().empty()) {
        return badRequest(param + ".tool_call_id",
                          "Missing required parameter: '" + param + ".tool_call_id'.");
      }
      json::object block(sp_);
      block["type"] = "tool_result";
      block["tool_use_id"] = id->get_string();
      if (content != nullptr && content->is_string()) {
        block["content"] = content->get_string();
      } else if (content != nullptr && content->is_array()) {
        json::array parts(sp_);
        for (const auto& part : content->get_array()) {
          const json::object* p = part.if_object();
          if (p != nullptr && p->contains("text") && p->at("text").is_string()) {
            parts.push_back(textBlock(p->at("text").get_string(), p));
          }
        }
        block["content"] = std::move(parts);
      }
      json::array blocks(sp_);
      blocks.push_back(std::move(block));
      append("user", std::move(blocks));
      return {};
    }
    return badRequest(
        param + ".role",
        "The '" + std::string(role) + "' role is not supported for Anthropic models; use tools.");
  }

  // `system` for the request: the layered prompt, then the request's system messages.
  std::optional<json::value> system(std::string_view layered) const {
    if (layered.empty() && system_blocks_.empty()) {
      return std::nullopt;
    }
    if (system_as_blocks_) {
      json::array out(sp_);
      if (!layered.empty()) {
        out.push_back(textBlock(layered, nullptr));
      }
      for (const auto& b : system_blocks_) {
        out.push_back(b);
      }
      return json::value(std::move(out));
    }
    std::string text(layered);
    for (const auto& b : system_blocks_) {
      if (!text.empty()) {
        text += "\n\n";
      }
      text += b.as_object().at("text").as_string();
    }
    return json::value(json::string(text, sp_));
  }

  json::array takeMessages() {
    // A turn that is one plain text block is sent as a string (shorter, and what most Anthropic
    // examples show).
    for (auto& mv : messages_) {
      auto& m = mv.as_object();
      auto& blocks = m["content"].as_array();
      if (blocks.size() == 1 && blocks[0].as_object().size() == 2 &&
          blocks[0].as_object().at("type") == "text") {
        json::value text = blocks[0].as_object().at("text");
        m["content"] = std::move(text);
      }
    }
    return std::move(messages_);
  }

 private:
  json::object textBlock(std::string_view text, const json::object* source) const {
    json::object b(sp_);
    b["type"] = "text";
    b["text"] = text;
    if (source != nullptr) {
      if (const json::value* cc = source->if_contains("cache_control")) {
        b["cache_control"] = *cc;
      }
    }
    return b;
  }

  void append(std::string_view role, json::array blocks) {
    if (!messages_.empty()) {
      auto& last = messages_.back().as_object();
      if (last.at("role").as_string() == role) {
        auto& content = last["content"].as_array();
        for (auto& b : blocks) {
          content.push_back(std::move(b));
        }
        return;
      }
    }
    json::object m(sp_);
    m["role"] = role;
    m["content"] = std::move(blocks);
    messages_.push_back(std::move(m));
  }

  Result<void> addSystem(const json::value* content, const std::string& param) {
    if (content == nullptr || content->is_null()) {
      return {};
    }
    if (content->is_string()) {
      system_blocks_.emplace_back(textBlock(content->get_string(), nullptr));
      return {};
    }
    if (!content->is_array()) {
      return badRequest(param + ".content", "Invalid type for '" + param + ".content'.");
    }
    for (const auto& part : content->get_array()) {
      const json::object* p = part.if_object();
      if (p == nullptr || !p->contains("text") || !p->at("text").is_string()) {
        return badRequest(param + ".content",
                          "System messages for Anthropic models may contain text parts only.");
      }
      if (p->contains("cache_control")) {
        system_as_blocks_ = true;
      }
      system_blocks_.emplace_back(textBlock(p->at("text").get_string(), p));
    }
    return {};
  }

  Result<json::object> imageBlock(const json::value& image_url, const std::string& param) const {
    std::string_view url;
    if (image_url.is_string()) {
      url = image_url.get_string();
    } else if (image_url.is_object() && image_url.get_object().contains("url") &&
               image_url.get_object().at("url").is_string()) {
      url = image_url.get_object().at("url").get_string();
    } else {
      return badRequest(param, "Invalid '" + param + R"(': expected {"url": "..."}.)");
    }
    json::object source(sp_);
    if (url.substr(0, 5) == "data:") {
      auto comma = url.find(',');
      std::string_view meta = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
      constexpr std::string_view kBase64 = ";base64";
      if (comma == std::string_view::npos || meta.size() <= kBase64.size() ||
          meta.substr(meta.size() - kBase64.size()) != kBase64) {
        return badRequest(param,
                          "Image data URLs must be base64 encoded (data:<type>;base64,...).");
      }
      std::string_view media = meta.substr(0, meta.size() - kBase64.size());
      if (media != "image/jpeg" && media != "image/png" && media != "image/gif" &&
          media != "image/webp") {
        return badRequest(param,
                          "Anthropic models accept image/jpeg, image/png, image/gif and "
                          "image/webp images.");
      }
      source["type"] = "base64";
      source["media_type"] = media;
      source["data"] = url.substr(comma + 1);
    } else if (url.substr(0, 8) == "https://" || url.substr(0, 7) == "http://") {
      source["type"] = "url";
      source["url"] = url;
    } else {
      return badRequest(param, "Image URLs must be https://, http:// or data: URLs.");
    }
    json::object block(sp_);
    block["type"] = "image";
    block["source"] = std::move(source);
    return block;
  }

  Result<json::object> documentBlock(const json::value& file, const std::string& param) const {
    const json::object* f = file.if_object();
    const json::value* data = f == nullptr ? nullptr : f->if_contains("file_data");
    constexpr std::string_view kPdf = "data:application/pdf;base64,";
    if (data == nullptr || !data->is_string() ||
        data->get_string().subview(0, kPdf.size()) != kPdf) {
      return badRequest(param, "Anthropic models accept file parts as base64 PDF file_data only.");
    }
    json::object source(sp_);
    source["type"] = "base64";
    source["media_type"] = "application/pdf";
    source["data"] = data->get_string().subview(kPdf.size());
    json::object block(sp_);
    block["type"] = "document";
    block["source"] = std::move(source);
    return block;
  }

  Result<void> userBlocks(const json::value* content, const std::string& param, json::array& out) {
    if (content == nullptr || content->is_null()) {
      return {};
    }
    if (content->is_string()) {
      out.push_back(textBlock(content->get_string(), nullptr));
      return {};
    }
    std::size_t index = 0;
    for (const auto& part : content->as_array()) {
      const std::string part_param = param + "[" + std::to_string(index++) + "]";
      const json::object* p = part.if_object();
      const json::value* type = p == nullptr ? nullptr : p->if_contains("type");
      std::string_view t = type != nullptr && type->is_string()
                               ? std::string_view{type->get_string()}
                               : std::string_view();
      if (t == "text" && p->contains("text") && p->at("text").is_string()) {
        out.push_back(textBlock(p->at("text").get_string(), p));
      } else if (t == "image_url" && p->contains("image_url")) {
        auto block = imageBlock(p->at("image_url"), part_param + ".image_url");
        if (!block) {
          return block.error();
        }
        out.push_back(std::move(*block));
      } else if (t == "file" && p->contains("file")) {
        auto block = documentBlock(p->at("file"), part_param + ".file");
        if (!block) {
          return block.error();
        }
        out.push_back(std::move(*block));
      } else {
        return badRequest(part_param,
                          "Content parts of type '" + std::string(t) +
                              "' are not supported for Anthropic models.");
      }
    }
    return {};
  }

  Result<void> assistantBlocks(const json::object& m,
                               const json::value* content,
                               const std::string& param,
                               json::array& out) {
    if (content != nullptr && content->is_string()) {
      if (!content->get_string().empty()) {
        out.push_back(textBlock(content->get_string(), nullptr));
      }
    } else if (content != nullptr && content->is_array()) {
      for (const auto& part : content->get_array()) {
        const json::object* p = part.if_object();
        if (p != nullptr && p->contains("text") && p->at("text").is_string() &&
            !p->at("text").get_string().empty()) {
          out.push_back(textBlock(p->at("text").get_string(), p));
        }
      }
    }
    const json::value* calls = m.if_contains("tool_calls");
    if (calls == nullptr || calls->is_null()) {
      return {};
    }
    if (!calls->is_array()) {
      return badRequest(param + ".tool_calls", "Invalid type for '" + param + ".tool_calls'.");
    }
    std::size_t index = 0;
    for (const auto& call : calls->get_array()) {
      const std::string call_param = param + ".tool_calls[" + std::to_string(index++) + "]";
      const json::object* c = call.if_object();
      const json::object* fn = nullptr;
      if (c != nullptr && c->contains("function")) {
        fn = c->at("function").if_object();
      }
      if (c == nullptr || fn == nullptr || !c->contains("id") || !c->at("id").is_string() ||
          !fn->contains("name") || !fn->at("name").is_string()) {
        return badRequest(call_param,
                          "Invalid '" + call_param +
                              "': expected {id, type: function, function: {name, "
                              "arguments}}.");
      }
      json::value input = json::object(sp_);
      if (const json::value* args = fn->if_contains("arguments");
          args != nullptr && args->is_string() && !args->get_string().empty()) {
        boost::system::error_code ec;
        input = json::parse(args->get_string(), ec, sp_);
        if (ec || !input.is_object()) {
          return badRequest(call_param + ".function.arguments",
                            "Invalid '" + call_param +
                                ".function.arguments': expected a JSON object in a string.");
        }
      }
      json::object block(sp_);
      block["type"] = "tool_use";
      block["id"] = c->at("id");
      block["name"] = fn->at("name");
      block["input"] = std::move(input);
      out.push_back(std::move(block));
    }
    return {};
  }

  json::storage_ptr sp_;
  json::array messages_;
  std::vector<json::value> system_blocks_;
  bool system_as_blocks_ = false;
};

Result<void> translateTools(const json::object& in, json::object& out, json::storage_ptr sp) {
  if (const json::value* tools = in.if_contains("tools"); tools != nullptr && !tools->is_null()) {
    json::array converted(sp);
    std::size_t index = 0;
    for (const auto& tool : tools->as_array()) {
      const std::string param = "tools[" + std::to_string(index++) + "]";
      const json::object* t = tool.if_object();
      const json::object* fn = nullptr;
      if (t != nullptr && t->contains("function")) {
        fn = t->at("function").if_object();
      }
      if (t == nullptr || fn == nullptr || !fn->contains("name") || !fn->at("name").is_string()) {
        return badRequest(param,
                          "Anthropic models accept function tools only: {type: function, "
                          "function: {name, description, parameters}}.");
      }
      json::object c(sp);
      c["name"] = fn->at("name");
      if (const json::value* d = fn->if_contains("description"); d != nullptr && d->is_string()) {
        c["description"] = *d;
      }
      if (const json::value* p = fn->if_contains("parameters"); p != nullptr && p->is_object()) {
        c["input_schema"] = *p;
      } else {
        json::object schema(sp);
        schema["type"] = "object";
        schema["properties"] = json::object(sp);
        c["input_schema"] = std::move(schema);
      }
      if (const json::value* cc = t->if_contains("cache_control")) {
        c["cache_control"] = *cc;
      }
      converted.push_back(std::move(c));
    }
    if (!converted.empty()) {
      out["tools"] = std::move(converted);
    }
  }
  std::optional<json::object> choice;
  if (const json::value* tc = in.if_contains("tool_choice"); tc != nullptr && !tc->is_null()) {
    choice.emplace(sp);
    if (tc->is_string()) {
      std::string_view s = tc->get_string();
      if (s == "auto") {
        (*choice)["type"] = "auto";
      } else if (s == "none") {
        (*choice)["type"] = "none";
      } else if (s == "required") {
        (*choice)["type"] = "any";
      } else {
        return badRequest("tool_choice", "Invalid value for 'tool_choice'.");
      }
    } else if (tc->is_object() && tc->get_object().contains("function") &&
               tc->get_object().at("function").is_object() &&
               tc->get_object().at("function").get_object().contains("name")) {
      (*choice)["type"] = "tool";
      (*choice)["name"] = tc->get_object().at("function").get_object().at("name");
    } else {
      return badRequest("tool_choice", "Invalid value for 'tool_choice'.");
    }
  }
  if (const json::value* ptc = in.if_contains("parallel_tool_calls");
      ptc != nullptr && ptc->is_bool() && !ptc->get_bool() && out.contains("tools")) {
    if (!choice) {
      choice.emplace(sp);
      (*choice)["type"] = "auto";
    }
    if ((*choice)["type"] != "none") {
      (*choice)["disable_parallel_tool_use"] = true;
    }
  }
  if (choice) {
    out["tool_choice"] = std::move(*choice);
  }
  return {};
}

// ---- stream translation ---------------------------------------------------------------------

// The string at `r`, or empty when absent or not a string.
std::string_view stringOr(simdjson::simdjson_result<simdjson::dom::element> r) {
  std::string_view s;
  if (r.get(s)) {
    return {};
  }
  return s;
}

class AnthropicStreamTranslator final : public StreamTranslator {
 public:
  AnthropicStreamTranslator(bool include_usage, std::int64_t created)
      : include_usage_(include_usage), created_(created) {
    buildPreamble();
  }

  StreamStep onEvent(const sse::SseEvent& event, std::string& out) override {
    if (done_) {
      return {.done = true};
    }
    if (event.data.empty()) {
      return {};
    }
    simdjson::dom::element root;
    if (parser_.parse(event.data).get(root) || !root.is_object()) {
      return {.failure = malformedUpstream(kProvider, "stream event is not a JSON object")};
    }
    std::string_view type;
    if (root["type"].get(type)) {
      type = event.event;
    }
    if (type == "message_start") {
      return messageStart(root, out);
    }
    if (type == "content_block_start") {
      return blockStart(root, out);
    }
    if (type == "content_block_delta") {
      return blockDelta(root, out);
    }
    if (type == "message_delta") {
      return messageDelta(root, out);
    }
    if (type == "message_stop") {
      return finish(out);
    }
    if (type == "error") {
      return {.failure = streamError(event.data, root)};
    }
    return {};  // ping, content_block_stop, and event types added after this was written
  }

  StreamStep onEnd(std::string& out) override {
    if (done_) {
      return {.done = true};
    }
    if (!finish_reason_.empty()) {
      return finish(out);  // message_delta arrived, message_stop did not
    }
    return {.failure = malformedUpstream(kProvider, "stream ended before message_stop")};
  }

  const Usage& usage() const override { return usage_; }

 private:
  void buildPreamble() {
    preamble_ = R"({"id":)";
    appendJsonQuoted(preamble_, id_);
    preamble_ += R"(,"object":"chat.completion.chunk","created":)";
    preamble_ += std::to_string(created_);
    preamble_ += R"(,"model":)";
    appendJsonQuoted(preamble_, model_);
  }

  // One chunk with choice 0's `delta` (raw JSON) and finish_reason.
  void chunk(std::string& out, std::string_view delta, std::string_view finish = {}) const {
    out += "data: ";
    out += preamble_;
    out += R"(,"choices":[{"index":0,"delta":)";
    out += delta;
    out += R"(,"logprobs":null,"finish_reason":)";
    if (finish.empty()) {
      out += "null";
    } else {
      appendJsonQuoted(out, finish);
    }
    out += "}]}\n\n";
  }

  void readUsage(simdjson::dom::element usage) {
    std::uint64_t v = 0;
    bool any = false;
    if (!usage["input_tokens"].get(v)) {
      input_ = v;
      any = true;
    }
    if (!usage["cache_creation_input_tokens"].get(v)) {
      cache_write_ = v;
    }
    if (!usage["cache_read_input_tokens"].get(v)) {
      cache_read_ = v;
    }
    if (!usage["output_tokens"].get(v)) {
      usage_.completion_tokens = v;
      any = true;
    }
    usage_.prompt_tokens = input_ + cache_write_ + cache_read_;
    usage_.cached_tokens = cache_read_;
    usage_.cache_write_tokens = cache_write_;
    usage_.reported = usage_.reported || any;
  }

  StreamStep messageStart(simdjson::dom::element root, std::string& out) {
    simdjson::dom::element message;
    if (root["message"].get(message)) {
      return {.failure = malformedUpstream(kProvider, "message_start without message")};
    }
    std::string_view s;
    if (!message["id"].get(s)) {
      id_.assign(s);
    }
    if (!message["model"].get(s)) {
      model_.assign(s);
    }
    buildPreamble();
    simdjson::dom::element usage;
    if (!message["usage"].get(usage)) {
      readUsage(usage);
    }
    chunk(out, R"({"role":"assistant","content":""})");
    return {};
  }

  StreamStep blockStart(simdjson::dom::element root, std::string& out) {
    std::uint64_t index = 0;
    simdjson::dom::element block;
    std::string_view type;
    if (root["index"].get(index) || root["content_block"].get(block) || block["type"].get(type)) {
      return {.failure = malformedUpstream(kProvider, "content_block_start without a block")};
    }
    if (index >= kMaxBlocks) {
      return {.failure = malformedUpstream(kProvider, "too many content blocks")};
    }
    if (type == "text") {
      std::string_view text;
      if (!block["text"].get(text) && !text.empty()) {
        textDelta(text, out);
      }
      return {};
    }
    if (type != "tool_use") {
      return {};  // thinking and server-side blocks have no chat-completions form
    }
    std::string_view id = stringOr(block["id"]);
    std::string_view name = stringOr(block["name"]);
    if (tool_of_block_.size() <= index) {
      tool_of_block_.resize(index + 1, -1);
    }
    int tool = next_tool_++;
    tool_of_block_[index] = tool;
    std::string delta = R"({"tool_calls":[{"index":)" + std::to_string(tool) + R"(,"id":)";
    appendJsonQuoted(delta, id);
    delta += R"(,"type":"function","function":{"name":)";
    appendJsonQuoted(delta, name);
    delta += R"(,"arguments":""}}]})";
    chunk(out, delta);
    return {};
  }

  void textDelta(std::string_view text, std::string& out) {
    delta_ = R"({"content":)";
    appendJsonQuoted(delta_, text);
    delta_ += "}";
    chunk(out, delta_);
  }

  StreamStep blockDelta(simdjson::dom::element root, std::string& out) {
    std::uint64_t index = 0;
    simdjson::dom::element delta;
    std::string_view type;
    if (root["index"].get(index) || root["delta"].get(delta) || delta["type"].get(type)) {
      return {.failure = malformedUpstream(kProvider, "content_block_delta without a delta")};
    }
    if (type == "text_delta") {
      std::string_view text;
      if (!delta["text"].get(text)) {
        textDelta(text, out);
      }
    } else if (type == "input_json_delta") {
      std::string_view partial;
      if (delta["partial_json"].get(partial) || partial.empty() || index >= tool_of_block_.size() ||
          tool_of_block_[index] < 0) {
        return {};
      }
      delta_ = R"({"tool_calls":[{"index":)" + std::to_string(tool_of_block_[index]) +
               R"(,"function":{"arguments":)";
      appendJsonQuoted(delta_, partial);
      delta_ += "}}]}";
      chunk(out, delta_);
    }
    return {};  // thinking_delta, signature_delta, citations_delta
  }

  StreamStep messageDelta(simdjson::dom::element root, std::string& out) {
    simdjson::dom::element usage;
    if (!root["usage"].get(usage)) {
      readUsage(usage);
    }
    std::string_view reason;
    if (!root["delta"]["stop_reason"].get(reason)) {
      finish_reason_.assign(finishReason(reason));
      chunk(out, "{}", finish_reason_);
    }
    return {};
  }

  StreamStep finish(std::string& out) {
    if (include_usage_) {
      out += "data: ";
      out += preamble_;
      out += R"(,"choices":[],"usage":{"prompt_tokens":)";
      out += std::to_string(usage_.prompt_tokens);
      out += R"(,"completion_tokens":)";
      out += std::to_string(usage_.completion_tokens);
      out += R"(,"total_tokens":)";
      out += std::to_string(usage_.totalTokens());
      out += R"(,"prompt_tokens_details":{"cached_tokens":)";
      out += std::to_string(usage_.cached_tokens);
      out += "}}}\n\n";
    }
    out += "data: [DONE]\n\n";
    done_ = true;
    return {.done = true};
  }

  static UpstreamFailure streamError(std::string_view data, simdjson::dom::element root) {
    std::string_view type = stringOr(root["error"]["type"]);
    int status = 500;
    if (type == "overloaded_error") {
      status = 529;
    } else if (type == "rate_limit_error") {
      status = 429;
    } else if (type == "invalid_request_error") {
      status = 400;
    } else if (type == "authentication_error") {
      status = 401;
    } else if (type == "permission_error") {
      status = 403;
    } else if (type == "not_found_error") {
      status = 404;
    } else if (type == "request_too_large") {
      status = 413;
    } else if (type == "timeout_error") {
      status = 504;
    }
    return classifyHttpError(kProvider, {.status = status, .body = data});
  }

  bool include_usage_;
  std::int64_t created_;
  bool done_ = false;
  std::string id_;
  std::string model_;
  std::string preamble_;
  std::string delta_;
  std::string finish_reason_;
  std::vector<int> tool_of_block_;  // block index -> tool_calls index (-1: not a tool block)
  int next_tool_ = 0;
  std::uint64_t input_ = 0;
  std::uint64_t cache_write_ = 0;
  std::uint64_t cache_read_ = 0;
  Usage usage_;
  simdjson::dom::parser parser_;
};

// ---- the adapter ------------------------------------------------------------------------------

class AnthropicAdapter final : public ProviderAdapter {
 public:
  std::string_view name() const override { return kProvider; }

  Result<UpstreamRequest> buildChatRequest(const ChatRequest& request,
                                           const Target& target,
                                           std::string_view system_prompt) const override {
    if (request.n > 1) {
      return badRequest("n", "Anthropic models return one choice per request: n must be 1.");
    }
    auto up = baseRequest(target, "POST", "/v1/messages");
    if (!up) {
      return up.error();
    }
    auto default_max = optionUint(target.options_json, "default_max_tokens");
    if (!default_max) {
      return default_max.error();
    }
    json::monotonic_resource mr;
    json::storage_ptr sp(&mr);
    json::parse_options opts;
    opts.max_depth = 4096;  // the ChatRequest parser already bounded the nesting
    boost::system::error_code ec;
    json::value doc = json::parse(request.body, ec, sp, opts);
    if (ec || !doc.is_object()) {
      return fail(ErrorCode::kBadRequest, "We could not parse the JSON body of your request.");
    }
    const json::object& in = doc.get_object();
    json::object out(sp);
    out["model"] = target.model.empty() ? std::string_view{request.model} : target.model;
    out["max_tokens"] =
        request.completionLimit().value_or(default_max->value_or(kDefaultMaxTokens));

    if (const json::value* rf = in.if_contains("response_format");
        rf != nullptr && rf->is_object() && rf->get_object().contains("type") &&
        rf->get_object().at("type") != "text") {
      return badRequest("response_format",
                        "response_format json_object and json_schema are not supported for "
                        "Anthropic models; describe the format in the prompt or use a tool.");
    }

    RequestTranslator translator(sp);
    std::size_t index = 0;
    for (const auto& m : in.at("messages").get_array()) {
      if (auto r = translator.addMessage(m.get_object(), index++); !r) {
        return r.error();
      }
    }
    if (auto system = translator.system(system_prompt)) {
      out["system"] = std::move(*system);
    }
    out["messages"] = translator.takeMessages();
    if (out["messages"].as_array().empty()) {
      return badRequest("messages", "Anthropic models need at least one user message.");
    }

    if (const json::value* stop = in.if_contains("stop"); stop != nullptr && !stop->is_null()) {
      json::array seqs(sp);
      if (stop->is_string()) {
        seqs.push_back(*stop);
      } else if (stop->is_array()) {
        for (const auto& s : stop->get_array()) {
          if (!s.is_string()) {
            return badRequest("stop", "Invalid type for 'stop': expected strings.");
          }
          seqs.push_back(s);
        }
      } else {
        return badRequest("stop", "Invalid type for 'stop'.");
      }
      if (!seqs.empty()) {
        out["stop_sequences"] = std::move(seqs);
      }
    }
    for (std::string_view key : {"temperature", "top_p"}) {
      if (const json::value* v = in.if_contains(key); v != nullptr && v->is_number()) {
        out[key] = *v;
      }
    }
    if (auto r = translateTools(in, out, sp); !r) {
      return r.error();
    }
    if (!request.user.empty()) {
      json::object metadata(sp);
      metadata["user_id"] = request.user;
      out["metadata"] = std::move(metadata);
    }
    if (request.stream) {
      out["stream"] = true;
    }
    up->body = json::serialize(out);
    up->stream = request.stream;
    up->headers.emplace_back("content-type", "application/json");
    up->headers.emplace_back("accept", request.stream ? "text/event-stream" : "application/json");
    return up;
  }

  Result<ChatReply> parseChatResponse(const ChatRequest& /*request*/,
                                      const UpstreamReply& reply,
                                      const ResponseContext& ctx) const override {
    json::monotonic_resource mr;
    boost::system::error_code ec;
    json::value doc = json::parse(reply.body, ec, &mr);
    const json::object* msg = doc.if_object();
    if (ec || msg == nullptr || !msg->contains("content") || !msg->at("content").is_array()) {
      return malformedUpstream(kProvider, "messages response without content").error;
    }
    std::string text;
    bool has_text = false;
    json::array tool_calls;
    for (const auto& b : msg->at("content").get_array()) {
      const json::object* block = b.if_object();
      if (block == nullptr) {
        continue;
      }
      const json::value* type = block->if_contains("type");
      if (type == nullptr || !type->is_string()) {
        continue;
      }
      if (type->get_string() == "text" && block->contains("text") &&
          block->at("text").is_string()) {
        text += block->at("text").get_string();
        has_text = true;
      } else if (type->get_string() == "tool_use") {
        json::object call;
        call["id"] = block->contains("id") ? block->at("id") : json::value("");
        call["type"] = "function";
        json::object fn;
        fn["name"] = block->contains("name") ? block->at("name") : json::value("");
        fn["arguments"] = block->contains("input") ? json::serialize(block->at("input")) : "{}";
        call["function"] = std::move(fn);
        tool_calls.push_back(std::move(call));
      }
    }
    ChatReply out;
    std::string_view stop_reason;
    if (const json::value* sr = msg->if_contains("stop_reason"); sr != nullptr && sr->is_string()) {
      stop_reason = sr->get_string();
    }
    out.finish_reason = std::string(finishReason(stop_reason));
    if (const json::value* u = msg->if_contains("usage"); u != nullptr && u->is_object()) {
      auto count = [&](std::string_view key) -> std::uint64_t {
        const json::value* v = u->get_object().if_contains(key);
        if (v == nullptr) {
          return 0;
        }
        if (v->is_uint64()) {
          return v->get_uint64();
        }
        return v->is_int64() && v->get_int64() > 0 ? static_cast<std::uint64_t>(v->get_int64()) : 0;
      };
      out.usage.cache_write_tokens = count("cache_creation_input_tokens");
      out.usage.cached_tokens = count("cache_read_input_tokens");
      out.usage.prompt_tokens =
          count("input_tokens") + out.usage.cache_write_tokens + out.usage.cached_tokens;
      out.usage.completion_tokens = count("output_tokens");
      out.usage.reported = true;
    }

    json::object message;
    message["role"] = "assistant";
    if (has_text || tool_calls.empty()) {
      message["content"] = text;
    } else {
      message["content"] = nullptr;
    }
    message["refusal"] = nullptr;
    if (!tool_calls.empty()) {
      message["tool_calls"] = std::move(tool_calls);
    }
    json::object choice;
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = out.finish_reason;
    json::object usage;
    usage["prompt_tokens"] = out.usage.prompt_tokens;
    usage["completion_tokens"] = out.usage.completion_tokens;
    usage["total_tokens"] = out.usage.totalTokens();
    json::object details;
    details["cached_tokens"] = out.usage.cached_tokens;
    usage["prompt_tokens_details"] = std::move(details);
    json::object body;
    body["id"] = msg->contains("id") ? msg->at("id") : json::value("");
    body["object"] = "chat.completion";
    body["created"] = ctx.created_unix_s;
    body["model"] = msg->contains("model") ? msg->at("model") : json::value("");
    json::array choices;
    choices.push_back(std::move(choice));
    body["choices"] = std::move(choices);
    body["usage"] = std::move(usage);
    out.body = json::serialize(body);
    return out;
  }

  std::unique_ptr<StreamTranslator> makeStreamTranslator(
      const ChatRequest& request, const ResponseContext& ctx) const override {
    return std::make_unique<AnthropicStreamTranslator>(request.include_usage, ctx.created_unix_s);
  }

  Result<UpstreamRequest> buildEmbeddingsRequest(const EmbeddingsRequest& /*request*/,
                                                 const Target& /*target*/) const override {
    return unsupportedEmbeddings();
  }

  Result<EmbeddingsReply> parseEmbeddingsResponse(const EmbeddingsRequest& /*request*/,
                                                  const UpstreamReply& /*reply*/) const override {
    return unsupportedEmbeddings();
  }

  Result<UpstreamRequest> buildListModelsRequest(const Target& target) const override {
    return baseRequest(target, "GET", "/v1/models");
  }

  ModelsProbe parseListModelsResponse(const UpstreamReply& reply) const override {
    ModelsProbe probe = probeFromStatus(kProvider, reply.status);
    if (probe.outcome == ModelsProbe::Outcome::kOk) {
      boost::system::error_code ec;
      json::value doc = json::parse(reply.body, ec);
      const json::value* data = doc.is_object() ? doc.get_object().if_contains("data") : nullptr;
      if (ec || data == nullptr || !data->is_array()) {
        probe.outcome = ModelsProbe::Outcome::kUnexpected;
        probe.message =
            "The provider answered the key check with something other than a model "
            "list.";
      } else {
        probe.model_count = data->get_array().size();
      }
    }
    return probe;
  }

  UpstreamFailure classifyError(const UpstreamReply& reply) const override {
    return classifyHttpError(kProvider, reply);
  }

 private:
  static Error unsupportedEmbeddings() {
    return fail(ErrorCode::kBadRequest,
                "Anthropic does not offer an embeddings API: route this embeddings model to "
                "another provider.")
        .withParam("model");
  }

  static Result<UpstreamRequest> baseRequest(const Target& target,
                                             std::string_view method,
                                             std::string_view path) {
    auto base = normalizeBaseUrl(target.base_url, "https://api.anthropic.com", kProvider, "/v1");
    if (!base) {
      return base.error();
    }
    auto version = optionString(target.options_json, "anthropic_version");
    if (!version) {
      return version.error();
    }
    auto beta = optionString(target.options_json, "anthropic_beta");
    if (!beta) {
      return beta.error();
    }
    UpstreamRequest up;
    up.method = std::string(method);
    up.url = *base + std::string(path);
    up.auth = AuthScheme{"x-api-key", ""};
    std::string v = version->value_or(std::string(kDefaultVersion));
    if (!isHeaderToken(v) || (*beta && !isHeaderToken(**beta))) {
      return fail(ErrorCode::kUnprocessable,
                  "The deployment's anthropic credential options must be plain version tokens.");
    }
    up.headers.emplace_back("anthropic-version", std::move(v));
    if (*beta) {
      up.headers.emplace_back("anthropic-beta", std::move(**beta));
    }
    return up;
  }
};

}  // namespace

std::unique_ptr<ProviderAdapter> makeAnthropicAdapter() {
  return std::make_unique<AnthropicAdapter>();
}

}  // namespace livery::providers
