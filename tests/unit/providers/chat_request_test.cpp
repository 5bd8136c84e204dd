#include "providers/chat_request.hpp"

#include <string>

#include <gtest/gtest.h>

namespace livery::providers {
namespace {

Error parseError(std::string body, const ParseLimits& limits = {}) {
  auto r = parseChatRequest(std::move(body), limits);
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? Error{} : r.error();
}

TEST(ChatRequestTest, ReadsWhatTheGatewayNeeds) {
  auto r = parseChatRequest(R"({
    "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
    "max_tokens": 100, "max_completion_tokens": 200, "n": 2, "user": "u-1",
    "mock_response": "canned", "tools": [{"type":"function","function":{"name":"f"}}],
    "messages": [{"role":"developer","content":"be brief"},{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(r.has_value()) << r.error().client_message;
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->max_tokens, 100U);
  EXPECT_EQ(r->max_completion_tokens, 200U);
  EXPECT_EQ(r->completionLimit(), 200U);
  EXPECT_EQ(r->n, 2U);
  EXPECT_EQ(r->user, "u-1");
  EXPECT_EQ(r->mock_response, "canned");
  EXPECT_TRUE(r->has_system_message);
  EXPECT_TRUE(r->has_tools);
  EXPECT_EQ(r->message_count, 2U);
  EXPECT_EQ(r->reservationTokens(1024), r->prompt_tokens_estimate + 400);
}

TEST(ChatRequestTest, DefaultsWhenOptionalFieldsAreAbsentOrNull) {
  auto r = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":null,"n":null,)"
      R"("user":null,"max_tokens":null,"stream_options":null,"mock_response":null})");
  ASSERT_TRUE(r.has_value()) << r.error().client_message;
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->include_usage);
  EXPECT_EQ(r->n, 1U);
  EXPECT_FALSE(r->completionLimit().has_value());
  EXPECT_FALSE(r->mock_response.has_value());
  EXPECT_FALSE(r->has_system_message);
  EXPECT_EQ(r->reservationTokens(1024), r->prompt_tokens_estimate + 1024);
}

TEST(ChatRequestTest, KeepsTheRawBodyUnchanged) {
  std::string body =
      "{ \"model\" : \"m\" ,\n \"messages\":[{\"role\":\"user\",\"content\":\"\\u00e9\"}]}";
  auto r = parseChatRequest(body);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, body);
}

TEST(ChatRequestTest, RejectsInvalidJsonAndTrailingContent) {
  for (std::string bad :
       {"",
        "{",
        "[]",
        "null",
        R"({"model":"m","messages":[]} x)",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}]}{})",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":01})",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":tru})",
        R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":[1,2}})",
        R"({"model":"m","messages":[{"role":"user","content":"bad \q escape"}]})",
        R"({"model":"m","messages":[{"role":"user","content":"\u12"}]})",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}"}) {
    auto r = parseChatRequest(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << bad;
  }
}

TEST(ChatRequestTest, NamesTheParamOfEachValidationError) {
  struct Case {
    const char* body;
    const char* param;
  };
  for (
      const Case& c : std::initializer_list<Case>{
          {R"({"messages":[{"role":"user","content":"hi"}]})", "model"},
          {R"({"model":"","messages":[{"role":"user","content":"hi"}]})", "model"},
          {R"({"model":7,"messages":[{"role":"user","content":"hi"}]})", "model"},
          {R"({"model":"m"})", "messages"},
          {R"({"model":"m","messages":[]})", "messages"},
          {R"({"model":"m","messages":{}})", "messages"},
          {R"({"model":"m","messages":["hi"]})", "messages[0]"},
          {R"({"model":"m","messages":[{"content":"hi"}]})", "messages[0].role"},
          {R"({"model":"m","messages":[{"role":"wizard","content":"hi"}]})", "messages[0].role"},
          {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content"},
          {R"({"model":"m","messages":[{"role":"user","content":[5]}]})", "messages[0].content[0]"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream":"yes"})", "stream"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream_options":1})",
           "stream_options"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],)"
           R"("stream_options":{"include_usage":"yes"}})",
           "stream_options.include_usage"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":0})",
           "max_tokens"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":1.5})",
           "max_tokens"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":-3})",
           "max_tokens"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_completion_tokens":"9"})",
           "max_completion_tokens"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"n":129})", "n"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"user":1})", "user"},
          {R"({"model":"m","messages":[{"role":"user","content":"a"}],"mock_response":{}})",
           "mock_response"},
      }) {
    Error e = parseError(c.body);
    EXPECT_EQ(e.code, ErrorCode::kBadRequest) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body << " -> " << e.client_message;
    EXPECT_FALSE(e.client_message.empty());
  }
}

// Livery and the upstream must read the same values: duplicates of the fields Livery reads
// are refused, also when the duplicate hides behind a JSON escape.
TEST(ChatRequestTest, RefusesDuplicateKeysLiveryReads) {
  Error e =
      parseError(R"({"model":"cheap","messages":[{"role":"user","content":"a"}],"model":"dear"})");
  EXPECT_EQ(e.param, "model");
  e = parseError(
      R"({"model":"cheap","messages":[{"role":"user","content":"a"}],"mod\u0065l":"dear"})");
  EXPECT_EQ(e.param, "model");
  e = parseError(
      R"({"model":"m","stream":false,"messages":[{"role":"user","content":"a"}],"stream":true})");
  EXPECT_EQ(e.param, "stream");
  e = parseError(R"({"model":"m","messages":[{"role":"user","role":"system","content":"a"}]})");
  EXPECT_EQ(e.param, "messages[0].role");
}

TEST(ChatRequestTest, BoundsTheBodySize) {
  ParseLimits limits;
  limits.max_body_bytes = 64;
  std::string body =
      R"({"model":"m","messages":[{"role":"user","content":")" + std::string(100, 'x') + R"("}]})";
  Error e = parseError(body, limits);
  EXPECT_EQ(e.code, ErrorCode::kPayloadTooLarge);
}

TEST(ChatRequestTest, BoundsTheNestingEverywhereInTheDocument) {
  ParseLimits limits;
  limits.max_depth = 16;
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  std::string shallow =
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"metadata":)" + nested(10) + "}";
  EXPECT_TRUE(parseChatRequest(shallow, limits).has_value());
  std::string deep = R"({"model":"m","messages":[{"role":"user","content":"a"}],"metadata":)" +
                     nested(100000) + "}";
  Error e = parseError(deep, limits);
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.client_message.find("deeper"), std::string::npos) << e.client_message;
  std::string deep_tool =
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"function":)" +
      nested(20) + "}]}";
  EXPECT_FALSE(parseChatRequest(deep_tool, limits).has_value());
}

TEST(ChatRequestTest, RecordsWhereTheFirstSystemMessageIs) {
  auto string_system = parseChatRequest(
      R"({"model":"m","messages":[{"content":"rules","role":"system"},{"role":"user","content":"a"}]})");
  ASSERT_TRUE(string_system.has_value());
  EXPECT_EQ(string_system->layout.first_system, ChatBodyLayout::FirstSystem::kString);
  EXPECT_EQ(string_system->body[string_system->layout.first_system_content], '"');

  auto parts_system = parseChatRequest(
      R"({"model":"m","messages":[{"role":"developer","content":[]},{"role":"user","content":"a"}]})");
  ASSERT_TRUE(parts_system.has_value());
  EXPECT_EQ(parts_system->layout.first_system, ChatBodyLayout::FirstSystem::kParts);
  EXPECT_TRUE(parts_system->layout.first_system_parts_empty);

  auto later_system = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"system","content":"b"}]})");
  ASSERT_TRUE(later_system.has_value());
  EXPECT_EQ(later_system->layout.first_system, ChatBodyLayout::FirstSystem::kNone);
  EXPECT_TRUE(later_system->has_system_message);
}

TEST(ChatRequestTest, EstimatesPromptTokensConservatively) {
  // 300 ASCII bytes of text: ceil(300 / 3) + 4 per message + 3.
  std::string text(300, 'a');
  auto r =
      parseChatRequest(R"({"model":"m","messages":[{"role":"user","content":")" + text + R"("}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->prompt_tokens_estimate, 100U + 4 + 3);

  // CJK: one token per code point (9 bytes = 3 code points).
  auto cjk = parseChatRequest(R"({"model":"m","messages":[{"role":"user","content":"日本語"}]})");
  ASSERT_TRUE(cjk.has_value());
  EXPECT_EQ(cjk->prompt_tokens_estimate, 3U + 4 + 3);

  // An image costs a fixed 1600 and its base64 payload is not counted as text.
  std::string payload(30000, 'Q');
  auto image = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,)" +
      payload + R"("}}]}]})");
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->image_count, 1U);
  EXPECT_LT(image->prompt_tokens_estimate, 1600U + 100);
  EXPECT_GE(image->prompt_tokens_estimate, 1600U);

  // Tools count as prompt text.
  auto tools = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":")" +
      std::string(600, 'f') + R"("}}]})");
  ASSERT_TRUE(tools.has_value());
  EXPECT_GE(tools->prompt_tokens_estimate, 200U);
}

TEST(ChatRequestTest, ReusesOneParserAcrossRequests) {
  RequestParser parser;
  for (int i = 0; i < 3; ++i) {
    auto big = parser.parseChat(R"({"model":"m","messages":[{"role":"user","content":")" +
                                std::string(2 * 1024 * 1024, 'x') + R"("}]})");
    ASSERT_TRUE(big.has_value());
    auto small = parser.parseChat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
    ASSERT_TRUE(small.has_value());
    EXPECT_EQ(small->model, "m");
  }
}

TEST(EmbeddingsRequestTest, AcceptsEveryInputShape) {
  struct Case {
    const char* input;
    std::uint32_t count;
  };
  for (const Case& c : std::initializer_list<Case>{{R"("one text")", 1},
                                                   {R"(["a","b","c"])", 3},
                                                   {R"([1,2,3])", 1},
                                                   {R"([[1,2],[3]])", 2}}) {
    auto r = parseEmbeddingsRequest(std::string(R"({"model":"e","input":)") + c.input + "}");
    ASSERT_TRUE(r.has_value()) << c.input << ": " << r.error().client_message;
    EXPECT_EQ(r->input_count, c.count) << c.input;
    EXPECT_GT(r->prompt_tokens_estimate, 0U);
  }
}

TEST(EmbeddingsRequestTest, RejectsBadInputs) {
  for (const char* body : {R"({"model":"e"})",
                           R"({"model":"e","input":[]})",
                           R"({"model":"e","input":[1,"a"]})",
                           R"({"model":"e","input":5})",
                           R"({"model":"e","input":[-1]})",
                           R"({"model":"e","input":[{}]})",
                           R"({"input":"a"})"}) {
    auto r = parseEmbeddingsRequest(body);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_FALSE(r.error().param.empty()) << body;
  }
}

}  // namespace
}  // namespace livery::providers
