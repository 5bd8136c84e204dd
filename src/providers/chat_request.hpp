#pragma once

// The canonical requests: an OpenAI-format chat-completions (or embeddings) body, parsed once at
// the edge. The request keeps the client's raw bytes plus what the gateway needs (model, stream
// flags, limits, a prompt-size estimate) and where the body rewriter splices (body_rewrite.hpp),
// so forwarding to an OpenAI-family upstream never re-serialises the document.
//
// Validation (every failure is ErrorCode::kBadRequest with the OpenAI `param`, or
// kPayloadTooLarge for the size bound):
//   - the body is at most ParseLimits::max_body_bytes and is one JSON object; every token of the
//     document is validated (numbers, literals, string escapes, brackets), nesting is at most
//     ParseLimits::max_depth, and nothing follows the object;
//   - `model` is a non-empty string; `messages` a non-empty array of objects whose `role` is one
//     of system, developer, user, assistant, tool, function and whose `content` is a string, an
//     array of parts or null;
//   - `stream` is a boolean, `stream_options` an object with a boolean `include_usage`,
//     `max_tokens` / `max_completion_tokens` positive integers, `n` an integer in 1..128, `user`
//     and `mock_response` strings (null is accepted for each optional field);
//   - the fields above appear at most once: a duplicate would let Livery and the upstream read
//     different values (a parser differential), so it is refused.
// Everything else is passed through untouched for the provider to judge.
//
// Prompt-size estimate (for quota reservations; the meter reconciles with the provider's count):
//   3 + per message 4 + ceil(ascii_bytes / 3) + non_ascii_code_points + 1600 per image/audio/file
//   part, where the text is every string of the messages (content, tool calls, names) and of
//   `tools`, measured as it appears in the JSON (escapes count as bytes). English averages about 4
//   bytes per token, so text is over-estimated by about a third; one token per non-ASCII code point
//   covers CJK. 1600 tokens bound one image with both OpenAI (high detail, at most 1445) and
//   Anthropic (about 1600 for the largest image it accepts without downscaling). Base64 payloads
//   of images are never counted as text.
//
// Thread-safety: ChatRequest / EmbeddingsRequest are plain values. A RequestParser owns a simdjson
// parser and its buffers: one per thread (it is not thread-safe), reused across requests.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace livery::providers {

struct ParseLimits {
  std::size_t max_body_bytes =
      std::size_t{10} * 1024 * 1024;  // the same default as http.max_body_bytes
  std::uint32_t max_depth = 64;       // JSON nesting (tool schemas nest deeply)
  std::uint32_t max_top_level_members = 256;
};

// One member of a JSON object in a raw body, as byte offsets into that body.
struct BodyMember {
  enum class Kind : std::uint8_t {
    kOther,
    kModel,
    kMessages,
    kStreamOptions,
    kMockResponse,
    kIncludeUsage,  // inside stream_options
  };
  std::size_t key_begin = 0;    // the key's opening quote
  std::size_t value_begin = 0;  // first byte of the value
  std::size_t value_end = 0;    // one past the last byte of the value
  Kind kind = Kind::kOther;
};

// Where the body rewriter splices. Offsets index ChatRequest::body.
struct ChatBodyLayout {
  enum class FirstSystem : std::uint8_t { kNone, kString, kParts };

  std::vector<BodyMember> members;  // top-level members, in body order
  // When messages[0] is a system or developer message with string (or parts) content, the
  // layered prompt is merged into it; otherwise it is inserted as a new first message.
  FirstSystem first_system = FirstSystem::kNone;
  std::size_t first_system_content = 0;  // its opening quote (kString) or '[' (kParts)
  bool first_system_parts_empty = false;
  bool stream_options_is_object = false;
  std::vector<BodyMember> stream_options_members;
};

struct ChatRequest {
  std::string body;  // the client's bytes, unchanged (capacity includes simdjson's padding)
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage as the client sent it
  std::optional<std::uint64_t> max_tokens;
  std::optional<std::uint64_t> max_completion_tokens;
  std::uint32_t n = 1;
  std::string user;
  std::optional<std::string> mock_response;  // Livery-only: answer without a provider
  bool has_system_message = false;           // any system or developer message
  bool has_tools = false;
  std::uint32_t message_count = 0;
  std::uint32_t image_count = 0;  // image, audio and file parts
  std::uint64_t prompt_tokens_estimate = 0;
  ChatBodyLayout layout;

  // max_completion_tokens, else max_tokens.
  std::optional<std::uint64_t> completionLimit() const {
    return max_completion_tokens ? max_completion_tokens : max_tokens;
  }
  // Tokens a quota check reserves: the prompt estimate plus n completions of the requested
  // limit (or `default_completion` when the request sets none).
  std::uint64_t reservationTokens(std::uint64_t default_completion) const;
};

struct EmbeddingsRequest {
  std::string body;
  std::string model;
  std::string user;
  std::uint32_t input_count = 0;  // strings or token arrays
  std::uint64_t prompt_tokens_estimate = 0;
  std::vector<BodyMember> members;
};

class RequestParser {
 public:
  explicit RequestParser(ParseLimits limits = {});
  ~RequestParser();
  RequestParser(RequestParser&&) noexcept;
  RequestParser& operator=(RequestParser&&) noexcept;
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Takes the body (no copy unless its capacity lacks the 64 bytes of simdjson padding).
  [[nodiscard]] Result<ChatRequest> parseChat(std::string body);
  [[nodiscard]] Result<EmbeddingsRequest> parseEmbeddings(std::string body);

  const ParseLimits& limits() const { return limits_; }

 private:
  struct Impl;
  ParseLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// One-shot forms (a parser per call): tests and cold paths.
[[nodiscard]] Result<ChatRequest> parseChatRequest(std::string body,
                                                   const ParseLimits& limits = {});
[[nodiscard]] Result<EmbeddingsRequest> parseEmbeddingsRequest(std::string body,
                                                               const ParseLimits& limits = {});

}  // namespace livery::providers
