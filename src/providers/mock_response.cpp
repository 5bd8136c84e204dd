#include "providers/mock_response.hpp"

#include <vector>

#include "providers/json_text.hpp"

namespace livery::providers {

namespace {

// Splits `text` into stream pieces of about 16 bytes, after a space when one is near and never
// inside a UTF-8 sequence.
std::vector<std::string_view> pieces(std::string_view text) {
  constexpr std::size_t kTarget = 16;
  constexpr std::size_t kMax = 32;
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t cut = text.size();
    if (text.size() > kMax) {
      auto space = text.find(' ', kTarget);
      cut = space < kMax ? space + 1 : kMax;  // npos is never < kMax
      while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        ++cut;
      }
    }
    out.push_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  return out;
}

void appendUsage(std::string& out, const Usage& u) {
  out += R"("usage":{"prompt_tokens":)";
  out += std::to_string(u.prompt_tokens);
  out += R"(,"completion_tokens":)";
  out += std::to_string(u.completion_tokens);
  out += R"(,"total_tokens":)";
  out += std::to_string(u.totalTokens());
  out += R"(,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":)"
         R"({"reasoning_tokens":0}})";
}

}  // namespace

MockReply buildMockResponse(const ChatRequest& request,
                            std::string_view text,
                            const MockContext& ctx) {
  MockReply reply;
  reply.stream = request.stream;
  TextMeasure measure;
  measure.add(text);
  reply.usage.prompt_tokens = request.prompt_tokens_estimate;
  reply.usage.completion_tokens = estimateTokens(measure) * request.n;

  std::string head = R"({"id":)";
  appendJsonQuoted(head, ctx.id);
  head +=
      request.stream ? R"(,"object":"chat.completion.chunk")" : R"(,"object":"chat.completion")";
  head += R"(,"created":)";
  head += std::to_string(ctx.created_unix_s);
  head += R"(,"model":)";
  appendJsonQuoted(head, request.model);
  head += R"(,"system_fingerprint":"livery-mock")";

  std::string& out = reply.body;
  if (!request.stream) {
    out = head;
    out += R"(,"choices":[)";
    for (std::uint32_t i = 0; i < request.n; ++i) {
      if (i > 0) {
        out.push_back(',');
      }
      out += R"({"index":)" + std::to_string(i) + R"(,"message":{"role":"assistant","content":)";
      appendJsonQuoted(out, text);
      out += R"(,"refusal":null},"logprobs":null,"finish_reason":"stop"})";
    }
    out += "],";
    appendUsage(out, reply.usage);
    out += "}";
    return reply;
  }

  auto chunk = [&](std::uint32_t index, std::string_view delta, std::string_view finish) {
    out += "data: ";
    out += head;
    out += R"(,"choices":[{"index":)" + std::to_string(index) + R"(,"delta":)";
    out += delta;
    out += R"(,"logprobs":null,"finish_reason":)";
    out += finish.empty() ? std::string("null") : jsonQuoted(finish);
    out += "}]}\n\n";
  };
  const auto parts = pieces(text);
  std::string delta;
  for (std::uint32_t i = 0; i < request.n; ++i) {
    chunk(i, R"({"role":"assistant","content":""})", {});
    for (std::string_view piece : parts) {
      delta = R"({"content":)";
      appendJsonQuoted(delta, piece);
      delta += "}";
      chunk(i, delta, {});
    }
    chunk(i, "{}", "stop");
  }
  if (request.include_usage) {
    out += "data: ";
    out += head;
    out += R"(,"choices":[],)";
    appendUsage(out, reply.usage);
    out += "}\n\n";
  }
  out += "data: [DONE]\n\n";
  return reply;
}

}  // namespace livery::providers
