#include "providers/openai_family.hpp"

#include <cstring>

#include "providers/body_rewrite.hpp"
#include "providers/detail/simdjson_scratch.hpp"
#include "providers/upstream_errors.hpp"

namespace livery::providers {

namespace od = simdjson::ondemand;

JsonScratch::JsonScratch() : impl_(std::make_unique<detail::JsonScratchImpl>()) {}
JsonScratch::~JsonScratch() = default;
JsonScratch::JsonScratch(JsonScratch&&) noexcept = default;
JsonScratch& JsonScratch::operator=(JsonScratch&&) noexcept = default;

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// The first character of the value of key `"name"` in compact or spaced JSON text, or '\0'.
// A quoted name followed by ':' can only be a key: string contents have their quotes escaped.
// glibc's memmem skips ahead by the needle; string_view::find stops at every '"' of the chunk.
std::size_t findBytes(std::string_view haystack, std::string_view needle, std::size_t from) {
  if (from >= haystack.size()) {
    return std::string_view::npos;
  }
  const void* hit =
      memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
  return hit == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - haystack.data());
}

char valueAfterKey(std::string_view json, std::string_view quoted_name) {
  std::size_t pos = 0;
  while ((pos = findBytes(json, quoted_name, pos)) != std::string_view::npos) {
    std::size_t i = pos + quoted_name.size();
    while (i < json.size() && isSpace(json[i])) {
      ++i;
    }
    if (i < json.size() && json[i] == ':') {
      ++i;
      while (i < json.size() && isSpace(json[i])) {
        ++i;
      }
      return i < json.size() ? json[i] : '\0';
    }
    pos += quoted_name.size();
  }
  return '\0';
}

simdjson::error_code scanUsage(od::value& v, Usage& usage) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) {
    return e;
  }
  usage.reported = true;
  for (auto field : obj) {
    od::field f;
    if (auto e = std::move(field).get(f)) {
      return e;
    }
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) {
      return e;
    }
    if (key == "prompt_tokens") {
      detail::readCount(f.value(), usage.prompt_tokens);
    } else if (key == "completion_tokens") {
      detail::readCount(f.value(), usage.completion_tokens);
    } else if (key == "prompt_tokens_details" || key == "completion_tokens_details") {
      od::object details;
      if (f.value().get_object().get(details)) {
        continue;  // null
      }
      const bool prompt = key == "prompt_tokens_details";
      for (auto inner : details) {
        od::field d;
        if (auto e = std::move(inner).get(d)) {
          return e;
        }
        std::string_view name;
        if (auto e = d.unescaped_key().get(name)) {
          return e;
        }
        if (prompt && name == "cached_tokens") {
          detail::readCount(d.value(), usage.cached_tokens);
        } else if (!prompt && name == "reasoning_tokens") {
          detail::readCount(d.value(), usage.reasoning_tokens);
        }
      }
    }
  }
  return simdjson::SUCCESS;
}

class OpenAiStreamTranslator final : public StreamTranslator {
 public:
  OpenAiStreamTranslator(std::string provider, bool client_wants_usage)
      : provider_(std::move(provider)), client_wants_usage_(client_wants_usage) {}

  StreamStep onEvent(const sse::SseEvent& event, std::string& out) override {
    if (done_) {
      return {.done = true};
    }
    std::string_view data = trim(event.data);
    if (data.empty()) {
      return {};
    }
    if (data == "[DONE]") {
      out += "data: [DONE]\n\n";
      done_ = true;
      return {.done = true};
    }
    const bool error_event = event.event == "error";
    const bool has_error = error_event || valueAfterKey(data, "\"error\"") == '{';
    const bool has_usage = valueAfterKey(data, "\"usage\"") == '{';
    if (has_error || has_usage) {
      auto scan = scanOpenAiJson(data, scratch_);
      if (!scan) {
        return {.failure = malformedUpstream(provider_, "stream chunk is not JSON")};
      }
      if (has_error && (scan->has_error || error_event)) {
        UpstreamReply reply{.status = 500, .body = data};
        std::string body;
        if (scan->has_error) {
          body = R"({"error":)" + scan->error_json + "}";
          reply.body = body;
          if (scan->error_json.find("rate_limit") != std::string::npos) {
            reply.status = 429;
          }
        }
        return {.failure = classifyHttpError(provider_, reply)};
      }
      if (scan->usage.reported) {
        usage_ = scan->usage;
        if (scan->choices_empty && !client_wants_usage_) {
          return {};  // Livery asked for this chunk; the client did not
        }
      }
    }
    if (!saw_finish_ && valueAfterKey(data, "\"finish_reason\"") == '"') {
      saw_finish_ = true;
    }
    out += "data: ";
    out += data;
    out += "\n\n";
    return {};
  }

  StreamStep onEnd(std::string& out) override {
    if (done_) {
      return {.done = true};
    }
    if (saw_finish_) {
      // Some OpenAI-compatible servers end without the terminator after the last chunk.
      out += "data: [DONE]\n\n";
      done_ = true;
      return {.done = true};
    }
    return {.failure = malformedUpstream(provider_, "stream ended before it finished")};
  }

  const Usage& usage() const override { return usage_; }

 private:
  std::string provider_;
  bool client_wants_usage_;
  bool done_ = false;
  bool saw_finish_ = false;
  Usage usage_;
  JsonScratch scratch_;
};

UpstreamRequest jsonPost(std::string url, std::string body, AuthScheme auth) {
  UpstreamRequest up;
  up.method = "POST";
  up.url = std::move(url);
  up.body = std::move(body);
  up.auth = std::move(auth);
  up.headers.emplace_back("content-type", "application/json");
  return up;
}

}  // namespace

Result<OpenAiScan> scanOpenAiJson(std::string_view json, JsonScratch& scratch) {
  OpenAiScan scan;
  od::document doc;
  if (auto e = scratch.impl().iterate(json).get(doc)) {
    return fail(
        ErrorCode::kUpstreamUnavailable, "malformed upstream JSON", simdjson::error_message(e));
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    return fail(
        ErrorCode::kUpstreamUnavailable, "malformed upstream JSON", simdjson::error_message(e));
  }
  for (auto field : root) {
    od::field f;
    simdjson::error_code e = std::move(field).get(f);
    std::string_view key;
    if (!e) {
      e = f.unescaped_key().get(key);
    }
    if (e) {
      return fail(
          ErrorCode::kUpstreamUnavailable, "malformed upstream JSON", simdjson::error_message(e));
    }
    if (key == "usage") {
      bool is_null = false;
      if (!f.value().is_null().get(is_null) && is_null) {
        continue;
      }
      if (auto ue = scanUsage(f.value(), scan.usage)) {
        return fail(ErrorCode::kUpstreamUnavailable,
                    "malformed upstream usage",
                    simdjson::error_message(ue));
      }
    } else if (key == "choices") {
      od::array choices;
      if (f.value().get_array().get(choices)) {
        continue;
      }
      scan.choices_empty = true;
      for (auto element : choices) {
        scan.choices_empty = false;
        od::object choice;
        if (element.get_object().get(choice)) {
          break;
        }
        for (auto cf : choice) {
          od::field c;
          std::string_view ckey;
          if (std::move(cf).get(c) || c.unescaped_key().get(ckey)) {
            break;
          }
          if (ckey == "finish_reason") {
            std::string_view reason;
            if (!c.value().get_string().get(reason)) {
              scan.finish_reason.assign(reason);
            }
          }
        }
        break;  // choice 0 only
      }
    } else if (key == "error") {
      od::object err;
      std::string_view raw;
      if (!f.value().get_object().get(err) && !err.raw_json().get(raw)) {
        scan.has_error = true;
        scan.error_json.assign(raw);
      }
    }
  }
  return scan;
}

Result<AuthScheme> OpenAiFamilyAdapter::auth(const Target& /*target*/) const {
  return AuthScheme{"Authorization", "Bearer "};
}

Result<bool> OpenAiFamilyAdapter::streamUsage(const Target& /*target*/) const {
  return true;
}

Result<void> OpenAiFamilyAdapter::addHeaders(const Target& /*target*/,
                                             UpstreamRequest& /*request*/) const {
  return {};
}

Result<UpstreamRequest> OpenAiFamilyAdapter::buildChatRequest(
    const ChatRequest& request, const Target& target, std::string_view system_prompt) const {
  auto endpoint = url(Endpoint::kChat, target);
  if (!endpoint) {
    return endpoint.error();
  }
  auto scheme = auth(target);
  if (!scheme) {
    return scheme.error();
  }
  auto stream_usage = streamUsage(target);
  if (!stream_usage) {
    return stream_usage.error();
  }
  UpstreamRequest up = jsonPost(
      std::move(*endpoint),
      rewriteChatBody(
          request,
          {.model = target.model, .system_prompt = system_prompt, .stream_usage = *stream_usage}),
      std::move(*scheme));
  up.stream = request.stream;
  up.headers.emplace_back("accept", request.stream ? "text/event-stream" : "application/json");
  if (auto r = addHeaders(target, up); !r) {
    return r.error();
  }
  return up;
}

Result<ChatReply> OpenAiFamilyAdapter::parseChatResponse(const ChatRequest& /*request*/,
                                                         const UpstreamReply& reply,
                                                         const ResponseContext& /*ctx*/) const {
  JsonScratch scratch;
  auto scan = scanOpenAiJson(reply.body, scratch);
  if (!scan) {
    return malformedUpstream(name(), "chat response is not a JSON object").error;
  }
  ChatReply out;
  out.body.assign(reply.body);
  out.usage = scan->usage;
  out.finish_reason = std::move(scan->finish_reason);
  return out;
}

std::unique_ptr<StreamTranslator> OpenAiFamilyAdapter::makeStreamTranslator(
    const ChatRequest& request, const ResponseContext& /*ctx*/) const {
  return std::make_unique<OpenAiStreamTranslator>(std::string(name()), request.include_usage);
}

Result<UpstreamRequest> OpenAiFamilyAdapter::buildEmbeddingsRequest(
    const EmbeddingsRequest& request, const Target& target) const {
  auto endpoint = url(Endpoint::kEmbeddings, target);
  if (!endpoint) {
    return endpoint.error();
  }
  auto scheme = auth(target);
  if (!scheme) {
    return scheme.error();
  }
  UpstreamRequest up = jsonPost(
      std::move(*endpoint), rewriteEmbeddingsBody(request, target.model), std::move(*scheme));
  up.headers.emplace_back("accept", "application/json");
  if (auto r = addHeaders(target, up); !r) {
    return r.error();
  }
  return up;
}

Result<EmbeddingsReply> OpenAiFamilyAdapter::parseEmbeddingsResponse(
    const EmbeddingsRequest& /*request*/, const UpstreamReply& reply) const {
  JsonScratch scratch;
  auto scan = scanOpenAiJson(reply.body, scratch);
  if (!scan) {
    return malformedUpstream(name(), "embeddings response is not a JSON object").error;
  }
  EmbeddingsReply out;
  out.body.assign(reply.body);
  out.usage = scan->usage;
  return out;
}

Result<UpstreamRequest> OpenAiFamilyAdapter::buildListModelsRequest(const Target& target) const {
  auto endpoint = url(Endpoint::kModels, target);
  if (!endpoint) {
    return endpoint.error();
  }
  auto scheme = auth(target);
  if (!scheme) {
    return scheme.error();
  }
  UpstreamRequest up;
  up.method = "GET";
  up.url = std::move(*endpoint);
  up.auth = std::move(*scheme);
  up.headers.emplace_back("accept", "application/json");
  if (auto r = addHeaders(target, up); !r) {
    return r.error();
  }
  return up;
}

ModelsProbe OpenAiFamilyAdapter::parseListModelsResponse(const UpstreamReply& reply) const {
  ModelsProbe probe = probeFromStatus(name(), reply.status);
  if (probe.outcome != ModelsProbe::Outcome::kOk) {
    return probe;
  }
  // {"object":"list","data":[...]} (OpenAI, Azure, compatible) or {"models":[...]} (Ollama).
  JsonScratch scratch;
  od::document doc;
  od::object root;
  if (scratch.impl().iterate(reply.body).get(doc) || doc.get_object().get(root)) {
    probe.outcome = ModelsProbe::Outcome::kUnexpected;
    probe.message = "The provider answered the key check with something other than a model list.";
    return probe;
  }
  for (auto field : root) {
    od::field f;
    std::string_view key;
    if (std::move(field).get(f) || f.unescaped_key().get(key)) {
      break;
    }
    if (key == "data" || key == "models") {
      od::array list;
      std::size_t count = 0;
      if (!f.value().get_array().get(list) && !list.count_elements().get(count)) {
        probe.model_count = count;
      }
    }
  }
  return probe;
}

UpstreamFailure OpenAiFamilyAdapter::classifyError(const UpstreamReply& reply) const {
  return classifyHttpError(name(), reply);
}

}  // namespace livery::providers
