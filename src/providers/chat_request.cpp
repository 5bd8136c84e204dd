#include "providers/chat_request.hpp"

#include <array>
#include <string_view>

#include <simdjson.h>

#include "providers/json_text.hpp"

namespace livery::providers {

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace {

// Parsers that grew beyond this for one large body are dropped afterwards, so one 10 MiB request
// does not pin ~5x its size in index buffers for the life of the thread.
constexpr std::size_t kRetainedParserCapacity = std::size_t{1024} * 1024;
constexpr std::uint64_t kTokensPerMessage = 4;
constexpr std::uint64_t kTokensReplyPriming = 3;
constexpr std::uint64_t kTokensPerImage = 1600;
constexpr std::uint64_t kMaxN = 128;

// simdjson_result::get() is &&-qualified; the move only selects that overload.
template <class T>
simdjson::error_code take(simdjson::simdjson_result<T>& result, T& out) {
  return std::move(result).get(out);  // NOLINT(performance-move-const-arg)
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t trimBack(std::string_view body, std::size_t end) {
  while (end > 0 && isSpace(body[end - 1])) {
    --end;
  }
  return end;
}

Error invalidJson(error_code ec) {
  return fail(ErrorCode::kBadRequest,
              "We could not parse the JSON body of your request. The body must be one valid JSON "
              "object.",
              std::string("json: ") + simdjson::error_message(ec));
}

Error invalidParam(std::string param, std::string message) {
  return fail(ErrorCode::kBadRequest, std::move(message)).withParam(std::move(param));
}

// A walk over a value that validates every token below it (ondemand skips what it is not asked
// for, so without the walk a malformed number or a mismatched bracket would be forwarded).
class Walker {
 public:
  Walker(const char* base, const ParseLimits& limits) : base_(base), limits_(limits) {}

  std::size_t offsetOf(const char* p) const { return static_cast<std::size_t>(p - base_); }

  // Checks a string token (raw, with quotes and trailing whitespace) and measures its text.
  static bool checkString(std::string_view token, TextMeasure* m) {
    std::size_t end = token.size();
    while (end > 0 && isSpace(token[end - 1])) {
      --end;
    }
    if (end < 2 || token.front() != '"' || token[end - 1] != '"') {
      return false;
    }
    return checkJsonStringInner(token.substr(1, end - 2), m);
  }

  error_code walk(od::value& v, std::uint32_t depth, TextMeasure* m) {
    if (depth > limits_.max_depth) {
      return simdjson::DEPTH_ERROR;
    }
    od::json_type type{};
    if (auto e = v.type().get(type)) {
      return e;
    }
    switch (type) {
      case od::json_type::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) {
          return e;
        }
        for (auto field : obj) {
          od::field f;
          if (auto e = std::move(field).get(f)) {
            return e;
          }
          std::string_view key;
          if (auto e = f.unescaped_key().get(key)) {
            return e;
          }
          if (m != nullptr) {
            m->add(key);
          }
          if (auto e = walk(f.value(), depth + 1, m)) {
            return e;
          }
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        od::array arr;
        if (auto e = v.get_array().get(arr)) {
          return e;
        }
        for (auto element : arr) {
          od::value item;
          if (auto e = take(element, item)) {
            return e;
          }
          if (auto e = walk(item, depth + 1, m)) {
            return e;
          }
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::string:
        return checkString(v.raw_json_token(), m) ? simdjson::SUCCESS : simdjson::STRING_ERROR;
      case od::json_type::number: {
        od::number n;
        return v.get_number().get(n);
      }
      case od::json_type::boolean: {
        bool b = false;
        return v.get_bool().get(b);
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) {
          return e;
        }
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::TAPE_ERROR;
  }

  Error walkError(error_code e, std::string param) const {
    if (e == simdjson::DEPTH_ERROR) {
      return invalidParam(std::move(param),
                          "The request body nests JSON deeper than " +
                              std::to_string(limits_.max_depth) + " levels.");
    }
    Error err = invalidJson(e);
    err.param = std::move(param);
    return err;
  }

 private:
  const char* base_;
  const ParseLimits& limits_;
};

// Fills value_end of each member: the value ends before the comma that precedes the next key,
// or before the object's closing brace at `close`.
void finishMembers(std::string_view body, std::vector<BodyMember>& members, std::size_t close) {
  for (std::size_t i = 0; i < members.size(); ++i) {
    std::size_t sep = close;
    if (i + 1 < members.size()) {
      sep = trimBack(body, members[i + 1].key_begin);
      if (sep > 0) {
        --sep;  // the ',' itself
      }
    }
    members[i].value_end = trimBack(body, sep);
  }
}

std::size_t rootClose(std::string_view body) {
  std::size_t end = trimBack(body, body.size());
  return end == 0 ? 0 : end - 1;
}

enum class JsonKind { kNull, kBool, kNumber, kString, kArray, kObject, kInvalid };

JsonKind kindOf(od::value& v) {
  od::json_type t{};
  if (v.type().get(t)) {
    return JsonKind::kInvalid;
  }
  switch (t) {
    case od::json_type::null:
      return JsonKind::kNull;
    case od::json_type::boolean:
      return JsonKind::kBool;
    case od::json_type::number:
      return JsonKind::kNumber;
    case od::json_type::string:
      return JsonKind::kString;
    case od::json_type::array:
      return JsonKind::kArray;
    case od::json_type::object:
      return JsonKind::kObject;
  }
  return JsonKind::kInvalid;
}

// Reads an optional positive integer field; null leaves `out` empty.
Result<void> readPositive(od::value& v,
                          std::string_view name,
                          std::uint64_t max,
                          std::optional<std::uint64_t>& out) {
  JsonKind k = kindOf(v);
  if (k == JsonKind::kNull) {
    bool is_null = false;
    if (v.is_null().get(is_null) || !is_null) {
      return invalidJson(simdjson::N_ATOM_ERROR);
    }
    return {};
  }
  std::uint64_t n = 0;
  if (k != JsonKind::kNumber || v.get_uint64().get(n) || n == 0 || n > max) {
    return invalidParam(std::string(name),
                        "Invalid value for '" + std::string(name) +
                            "': expected an integer from 1" +
                            (max == UINT64_MAX ? "" : " to " + std::to_string(max)) + ".");
  }
  out = n;
  return {};
}

// Reads an optional string field; null leaves `out` empty.
Result<void> readString(od::value& v, std::string_view name, std::optional<std::string>& out) {
  JsonKind k = kindOf(v);
  if (k == JsonKind::kNull) {
    bool is_null = false;
    if (v.is_null().get(is_null) || !is_null) {
      return invalidJson(simdjson::N_ATOM_ERROR);
    }
    return {};
  }
  std::string_view s;
  if (k != JsonKind::kString) {
    return invalidParam(std::string(name),
                        "Invalid type for '" + std::string(name) + "': expected a string.");
  }
  if (auto e = v.get_string().get(s)) {
    Error err = invalidJson(e);
    err.param = std::string(name);
    return err;
  }
  out = std::string(s);
  return {};
}

Result<bool> readBool(od::value& v, std::string_view name) {
  JsonKind k = kindOf(v);
  if (k == JsonKind::kNull) {
    bool is_null = false;
    if (v.is_null().get(is_null) || !is_null) {
      return invalidJson(simdjson::N_ATOM_ERROR);
    }
    return false;
  }
  bool b = false;
  if (k != JsonKind::kBool || v.get_bool().get(b)) {
    return invalidParam(std::string(name),
                        "Invalid type for '" + std::string(name) + "': expected a boolean.");
  }
  return b;
}

bool isRole(std::string_view r) {
  return r == "system" || r == "developer" || r == "user" || r == "assistant" || r == "tool" ||
         r == "function";
}

// Tracks the known top-level keys that may appear only once.
class SeenKeys {
 public:
  // Returns false when `key` was already seen.
  bool mark(std::size_t index) {
    if ((bits_ >> index) & 1U) {
      return false;
    }
    bits_ |= (1U << index);
    return true;
  }

 private:
  std::uint32_t bits_ = 0;
};

Error duplicateKey(std::string_view key) {
  return invalidParam(
      std::string(key),
      "The request body contains the key '" + std::string(key) + "' more than once.");
}

struct ChatParse {
  ChatRequest& req;
  Walker& walker;
  TextMeasure text;

  Result<void> parseStreamOptions(od::value& v, std::uint32_t depth) {
    JsonKind k = kindOf(v);
    if (k == JsonKind::kNull) {
      auto null_value = readBool(v, "stream_options");  // accepts exactly null here
      if (!null_value) {
        return null_value.error();
      }
      return {};
    }
    if (k != JsonKind::kObject) {
      return invalidParam("stream_options",
                          "Invalid type for 'stream_options': expected an object.");
    }
    req.layout.stream_options_is_object = true;
    od::object obj;
    if (auto e = v.get_object().get(obj)) {
      return walker.walkError(e, "stream_options");
    }
    bool seen_include_usage = false;
    for (auto field : obj) {
      od::field f;
      if (auto e = std::move(field).get(f)) {
        return walker.walkError(e, "stream_options");
      }
      BodyMember m;
      m.key_begin = walker.offsetOf(f.key().raw()) - 1;
      std::string_view key;
      if (auto e = f.unescaped_key().get(key)) {
        return walker.walkError(e, "stream_options");
      }
      m.value_begin = walker.offsetOf(f.value().raw_json_token().data());
      if (key == "include_usage") {
        if (seen_include_usage) {
          return duplicateKey("stream_options.include_usage");
        }
        seen_include_usage = true;
        m.kind = BodyMember::Kind::kIncludeUsage;
        auto b = readBool(f.value(), "stream_options.include_usage");
        if (!b) {
          return b.error();
        }
        req.include_usage = *b;
      } else if (auto e = walker.walk(f.value(), depth + 1, nullptr)) {
        return walker.walkError(e, "stream_options");
      }
      req.layout.stream_options_members.push_back(m);
    }
    return {};
  }

  // A content array: text parts are measured, image/audio/file parts counted as images.
  Result<void> parseParts(od::value& v,
                          std::uint32_t depth,
                          const std::string& param,
                          bool& empty) {
    od::array parts;
    if (auto e = v.get_array().get(parts)) {
      return walker.walkError(e, param);
    }
    empty = true;
    std::size_t index = 0;
    for (auto element : parts) {
      empty = false;
      od::value part;
      if (auto e = take(element, part)) {
        return walker.walkError(e, param);
      }
      std::string part_param = param + "[" + std::to_string(index) + "]";
      if (kindOf(part) != JsonKind::kObject) {
        return invalidParam(
            part_param,
            "Invalid type for '" + part_param + "': expected an object (a content part).");
      }
      od::object obj;
      if (auto e = part.get_object().get(obj)) {
        return walker.walkError(e, part_param);
      }
      for (auto field : obj) {
        od::field f;
        if (auto e = std::move(field).get(f)) {
          return walker.walkError(e, part_param);
        }
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) {
          return walker.walkError(e, part_param);
        }
        bool binary = key == "image_url" || key == "input_audio" || key == "file";
        if (binary) {
          ++req.image_count;
        }
        if (auto e = walker.walk(f.value(), depth + 2, binary ? nullptr : &text)) {
          return walker.walkError(e, part_param);
        }
      }
      ++index;
    }
    return {};
  }

  Result<void> parseMessages(od::value& v) {
    if (kindOf(v) != JsonKind::kArray) {
      return invalidParam("messages", "Invalid type for 'messages': expected an array.");
    }
    od::array messages;
    if (auto e = v.get_array().get(messages)) {
      return walker.walkError(e, "messages");
    }
    std::uint32_t index = 0;
    for (auto element : messages) {
      od::value message;
      std::string param = "messages[" + std::to_string(index) + "]";
      if (auto e = take(element, message)) {
        return walker.walkError(e, param);
      }
      if (kindOf(message) != JsonKind::kObject) {
        return invalidParam(param, "Invalid type for '" + param + "': expected an object.");
      }
      od::object obj;
      if (auto e = message.get_object().get(obj)) {
        return walker.walkError(e, param);
      }
      std::string role;
      bool has_role = false;
      auto content_kind = ChatBodyLayout::FirstSystem::kNone;
      std::size_t content_pos = 0;
      bool parts_empty = false;
      for (auto field : obj) {
        od::field f;
        if (auto e = std::move(field).get(f)) {
          return walker.walkError(e, param);
        }
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) {
          return walker.walkError(e, param);
        }
        od::value& value = f.value();
        if (key == "role") {
          std::string_view r;
          if (kindOf(value) != JsonKind::kString || value.get_string().get(r) || !isRole(r)) {
            return invalidParam(param + ".role",
                                "Invalid value for '" + param +
                                    ".role': expected one of system, developer, user, assistant, "
                                    "tool, function.");
          }
          if (has_role) {
            return duplicateKey(param + ".role");
          }
          has_role = true;
          role.assign(r);
        } else if (key == "content") {
          std::string content_param = param + ".content";
          JsonKind k = kindOf(value);
          if (k == JsonKind::kString) {
            std::string_view token = value.raw_json_token();
            if (!Walker::checkString(token, &text)) {
              return walker.walkError(simdjson::STRING_ERROR, content_param);
            }
            content_kind = ChatBodyLayout::FirstSystem::kString;
            content_pos = walker.offsetOf(token.data());
          } else if (k == JsonKind::kArray) {
            content_kind = ChatBodyLayout::FirstSystem::kParts;
            content_pos = walker.offsetOf(value.raw_json_token().data());
            if (auto r = parseParts(value, 4, content_param, parts_empty); !r) {
              return r;
            }
          } else if (k == JsonKind::kNull) {
            if (auto e = walker.walk(value, 4, nullptr)) {
              return walker.walkError(e, content_param);
            }
          } else {
            return invalidParam(content_param,
                                "Invalid type for '" + content_param +
                                    "': expected a string, an array of content "
                                    "parts or null.");
          }
        } else if (auto e = walker.walk(value, 4, &text)) {
          return walker.walkError(e, param);
        }
      }
      if (!has_role) {
        return invalidParam(param + ".role", "Missing required parameter: '" + param + ".role'.");
      }
      bool is_system = role == "system" || role == "developer";
      req.has_system_message = req.has_system_message || is_system;
      if (index == 0 && is_system) {
        req.layout.first_system = content_kind;
        req.layout.first_system_content = content_pos;
        req.layout.first_system_parts_empty = parts_empty;
      }
      ++index;
    }
    if (index == 0) {
      return invalidParam("messages",
                          "Invalid 'messages': empty array. Expected an array with at least one "
                          "message.");
    }
    req.message_count = index;
    return {};
  }
};

// Index of each known top-level key in SeenKeys.
enum ChatKey : std::size_t {
  kKeyModel,
  kKeyMessages,
  kKeyStream,
  kKeyStreamOptions,
  kKeyMaxTokens,
  kKeyMaxCompletionTokens,
  kKeyN,
  kKeyUser,
  kKeyMockResponse,
  kKeyTools,
};

}  // namespace

std::uint64_t ChatRequest::reservationTokens(std::uint64_t default_completion) const {
  std::uint64_t completion = completionLimit().value_or(default_completion);
  return prompt_tokens_estimate + completion * n;
}

struct RequestParser::Impl {
  od::parser parser;

  // Makes sure `body` has simdjson's padding behind its bytes (a copy only when it lacks it).
  static void pad(std::string& body) {
    if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
      body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    }
  }

  void release() {
    if (parser.capacity() > kRetainedParserCapacity) {
      parser = od::parser{};
    }
  }
};

RequestParser::RequestParser(ParseLimits limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {}
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

Result<ChatRequest> RequestParser::parseChat(std::string body) {
  if (body.size() > limits_.max_body_bytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                "The request body is larger than the " + std::to_string(limits_.max_body_bytes) +
                    " bytes this gateway accepts.");
  }
  ChatRequest req;
  req.body = std::move(body);
  Impl::pad(req.body);
  struct Release {
    Impl& impl;
    ~Release() { impl.release(); }
  } release{*impl_};

  od::document doc;
  if (auto e = impl_->parser
                   .iterate(simdjson::padded_string_view(
                       req.body.data(), req.body.size(), req.body.capacity()))
                   .get(doc)) {
    return invalidJson(e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    return e == simdjson::INCORRECT_TYPE
               ? fail(ErrorCode::kBadRequest, "The request body must be a JSON object.")
               : invalidJson(e);
  }
  Walker walker(req.body.data(), limits_);
  ChatParse parse{req, walker, {}};
  SeenKeys seen;
  bool has_model = false;
  bool has_messages = false;
  for (auto field : root) {
    od::field f;
    if (auto e = std::move(field).get(f)) {
      return invalidJson(e);
    }
    if (req.layout.members.size() >= limits_.max_top_level_members) {
      return fail(ErrorCode::kBadRequest, "The request body has too many top-level fields.");
    }
    BodyMember m;
    m.key_begin = walker.offsetOf(f.key().raw()) - 1;
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) {
      return invalidJson(e);
    }
    od::value& v = f.value();
    m.value_begin = walker.offsetOf(v.raw_json_token().data());
    auto once = [&](ChatKey k) {
      return seen.mark(k);
    };
    if (key == "model") {
      if (!once(kKeyModel)) {
        return duplicateKey(key);
      }
      m.kind = BodyMember::Kind::kModel;
      std::optional<std::string> model;
      if (auto r = readString(v, "model", model); !r) {
        return r.error();
      }
      if (!model || model->empty()) {
        return invalidParam("model", "Invalid value for 'model': expected a non-empty string.");
      }
      req.model = std::move(*model);
      has_model = true;
    } else if (key == "messages") {
      if (!once(kKeyMessages)) {
        return duplicateKey(key);
      }
      m.kind = BodyMember::Kind::kMessages;
      if (auto r = parse.parseMessages(v); !r) {
        return r.error();
      }
      has_messages = true;
    } else if (key == "stream") {
      if (!once(kKeyStream)) {
        return duplicateKey(key);
      }
      auto b = readBool(v, "stream");
      if (!b) {
        return b.error();
      }
      req.stream = *b;
    } else if (key == "stream_options") {
      if (!once(kKeyStreamOptions)) {
        return duplicateKey(key);
      }
      m.kind = BodyMember::Kind::kStreamOptions;
      if (auto r = parse.parseStreamOptions(v, 2); !r) {
        return r.error();
      }
    } else if (key == "max_tokens") {
      if (!once(kKeyMaxTokens)) {
        return duplicateKey(key);
      }
      if (auto r = readPositive(v, "max_tokens", UINT64_MAX, req.max_tokens); !r) {
        return r.error();
      }
    } else if (key == "max_completion_tokens") {
      if (!once(kKeyMaxCompletionTokens)) {
        return duplicateKey(key);
      }
      if (auto r = readPositive(v, "max_completion_tokens", UINT64_MAX, req.max_completion_tokens);
          !r) {
        return r.error();
      }
    } else if (key == "n") {
      if (!once(kKeyN)) {
        return duplicateKey(key);
      }
      std::optional<std::uint64_t> n;
      if (auto r = readPositive(v, "n", kMaxN, n); !r) {
        return r.error();
      }
      req.n = static_cast<std::uint32_t>(n.value_or(1));
    } else if (key == "user") {
      if (!once(kKeyUser)) {
        return duplicateKey(key);
      }
      std::optional<std::string> user;
      if (auto r = readString(v, "user", user); !r) {
        return r.error();
      }
      req.user = user.value_or(std::string());
    } else if (key == "mock_response") {
      if (!once(kKeyMockResponse)) {
        return duplicateKey(key);
      }
      m.kind = BodyMember::Kind::kMockResponse;
      if (auto r = readString(v, "mock_response", req.mock_response); !r) {
        return r.error();
      }
    } else if (key == "tools") {
      if (!once(kKeyTools)) {
        return duplicateKey(key);
      }
      req.has_tools = kindOf(v) == JsonKind::kArray;
      if (auto e = walker.walk(v, 2, &parse.text)) {
        return walker.walkError(e, "tools");
      }
    } else if (auto e = walker.walk(v, 2, nullptr)) {
      return walker.walkError(e, std::string(key));
    }
    req.layout.members.push_back(m);
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return invalidJson(simdjson::TRAILING_CONTENT);
  }
  if (!has_model) {
    return invalidParam("model", "Missing required parameter: 'model'.");
  }
  if (!has_messages) {
    return invalidParam("messages", "Missing required parameter: 'messages'.");
  }
  std::string_view view(req.body);
  finishMembers(view, req.layout.members, rootClose(view));
  for (const auto& m : req.layout.members) {
    if (m.kind == BodyMember::Kind::kStreamOptions && req.layout.stream_options_is_object) {
      finishMembers(view, req.layout.stream_options_members, m.value_end - 1);
    }
  }
  req.prompt_tokens_estimate = kTokensReplyPriming + kTokensPerMessage * req.message_count +
                               estimateTokens(parse.text) + kTokensPerImage * req.image_count;
  return req;
}

Result<EmbeddingsRequest> RequestParser::parseEmbeddings(std::string body) {
  if (body.size() > limits_.max_body_bytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                "The request body is larger than the " + std::to_string(limits_.max_body_bytes) +
                    " bytes this gateway accepts.");
  }
  EmbeddingsRequest req;
  req.body = std::move(body);
  Impl::pad(req.body);
  struct Release {
    Impl& impl;
    ~Release() { impl.release(); }
  } release{*impl_};

  od::document doc;
  if (auto e = impl_->parser
                   .iterate(simdjson::padded_string_view(
                       req.body.data(), req.body.size(), req.body.capacity()))
                   .get(doc)) {
    return invalidJson(e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    return e == simdjson::INCORRECT_TYPE
               ? fail(ErrorCode::kBadRequest, "The request body must be a JSON object.")
               : invalidJson(e);
  }
  Walker walker(req.body.data(), limits_);
  TextMeasure text;
  std::uint64_t token_inputs = 0;
  bool has_model = false;
  bool has_input = false;
  bool has_user = false;
  for (auto field : root) {
    od::field f;
    if (auto e = std::move(field).get(f)) {
      return invalidJson(e);
    }
    if (req.members.size() >= limits_.max_top_level_members) {
      return fail(ErrorCode::kBadRequest, "The request body has too many top-level fields.");
    }
    BodyMember m;
    m.key_begin = walker.offsetOf(f.key().raw()) - 1;
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) {
      return invalidJson(e);
    }
    od::value& v = f.value();
    m.value_begin = walker.offsetOf(v.raw_json_token().data());
    if (key == "model") {
      if (has_model) {
        return duplicateKey(key);
      }
      m.kind = BodyMember::Kind::kModel;
      std::optional<std::string> model;
      if (auto r = readString(v, "model", model); !r) {
        return r.error();
      }
      if (!model || model->empty()) {
        return invalidParam("model", "Invalid value for 'model': expected a non-empty string.");
      }
      req.model = std::move(*model);
      has_model = true;
    } else if (key == "input") {
      if (has_input) {
        return duplicateKey(key);
      }
      has_input = true;
      const std::string bad_input =
          "Invalid type for 'input': expected a string, an array of strings, an array of token "
          "ids or an array of token-id arrays.";
      JsonKind k = kindOf(v);
      if (k == JsonKind::kString) {
        if (!Walker::checkString(v.raw_json_token(), &text)) {
          return walker.walkError(simdjson::STRING_ERROR, "input");
        }
        req.input_count = 1;
      } else if (k == JsonKind::kArray) {
        od::array items;
        if (auto e = v.get_array().get(items)) {
          return walker.walkError(e, "input");
        }
        JsonKind first = JsonKind::kInvalid;
        std::uint32_t count = 0;
        for (auto element : items) {
          od::value item;
          if (auto e = take(element, item)) {
            return walker.walkError(e, "input");
          }
          JsonKind ik = kindOf(item);
          if (count == 0) {
            first = ik;
          }
          if (ik != first ||
              (ik != JsonKind::kString && ik != JsonKind::kNumber && ik != JsonKind::kArray)) {
            return invalidParam("input", bad_input);
          }
          if (ik == JsonKind::kString) {
            if (!Walker::checkString(item.raw_json_token(), &text)) {
              return walker.walkError(simdjson::STRING_ERROR, "input");
            }
          } else if (ik == JsonKind::kNumber) {
            std::uint64_t id = 0;
            if (item.get_uint64().get(id)) {
              return invalidParam("input", bad_input);
            }
            ++token_inputs;
          } else {
            od::array ids;
            if (auto e = item.get_array().get(ids)) {
              return walker.walkError(e, "input");
            }
            for (auto id_element : ids) {
              od::value id_value;
              std::uint64_t id = 0;
              if (take(id_element, id_value) || id_value.get_uint64().get(id)) {
                return invalidParam("input", bad_input);
              }
              ++token_inputs;
            }
          }
          ++count;
        }
        if (count == 0) {
          return invalidParam("input", "Invalid 'input': empty array.");
        }
        // A flat array of token ids is one input.
        req.input_count = first == JsonKind::kNumber ? 1 : count;
      } else {
        return invalidParam("input", bad_input);
      }
    } else if (key == "user") {
      if (has_user) {
        return duplicateKey(key);
      }
      has_user = true;
      std::optional<std::string> user;
      if (auto r = readString(v, "user", user); !r) {
        return r.error();
      }
      req.user = user.value_or(std::string());
    } else if (auto e = walker.walk(v, 2, nullptr)) {
      return walker.walkError(e, std::string(key));
    }
    req.members.push_back(m);
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return invalidJson(simdjson::TRAILING_CONTENT);
  }
  if (!has_model) {
    return invalidParam("model", "Missing required parameter: 'model'.");
  }
  if (!has_input) {
    return invalidParam("input", "Missing required parameter: 'input'.");
  }
  std::string_view view(req.body);
  finishMembers(view, req.members, rootClose(view));
  req.prompt_tokens_estimate = estimateTokens(text) + token_inputs;
  return req;
}

Result<ChatRequest> parseChatRequest(std::string body, const ParseLimits& limits) {
  RequestParser parser(limits);
  return parser.parseChat(std::move(body));
}

Result<EmbeddingsRequest> parseEmbeddingsRequest(std::string body, const ParseLimits& limits) {
  RequestParser parser(limits);
  return parser.parseEmbeddings(std::move(body));
}

}  // namespace livery::providers
