#include "providers/mock_response.hpp"

#include <gtest/gtest.h>

#include "unit/providers/golden_support.hpp"

namespace livery::providers {
namespace {

ChatRequest chat(std::string body) {
  auto r = parseChatRequest(std::move(body));
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? std::move(*r) : ChatRequest{};
}

TEST(MockResponseTest, BuildsACompleteChatCompletion) {
  auto req = chat(
      R"({"model":"gpt-4o","mock_response":"x","messages":[{"role":"user","content":"hello there"}]})");
  MockReply reply =
      buildMockResponse(req, "Canned \"answer\".", {.id = "chatcmpl-mock-1", .created_unix_s = 42});
  EXPECT_FALSE(reply.stream);
  auto v = testing::parseJsonOrFail(reply.body, "mock").as_object();
  EXPECT_EQ(v["id"], "chatcmpl-mock-1");
  EXPECT_EQ(v["object"], "chat.completion");
  EXPECT_EQ(v["created"], 42);
  EXPECT_EQ(v["model"], "gpt-4o");
  EXPECT_EQ(v["choices"].at(0).at("message").at("content"), "Canned \"answer\".");
  EXPECT_EQ(v["choices"].at(0).at("finish_reason"), "stop");
  EXPECT_EQ(v["usage"].at("prompt_tokens"), req.prompt_tokens_estimate);
  EXPECT_EQ(reply.usage.prompt_tokens, req.prompt_tokens_estimate);
  EXPECT_EQ(reply.usage.completion_tokens, 6U) << "ceil(17 / 3)";
  EXPECT_FALSE(reply.usage.reported) << "an estimate, not a provider count";
}

TEST(MockResponseTest, ReturnsNChoices) {
  auto req = chat(R"({"model":"m","n":3,"messages":[{"role":"user","content":"a"}]})");
  MockReply reply = buildMockResponse(req, "ok", {});
  auto v = testing::parseJsonOrFail(reply.body, "mock");
  ASSERT_EQ(v.at("choices").as_array().size(), 3U);
  EXPECT_EQ(v.at("choices").at(2).at("index"), 2);
}

TEST(MockResponseTest, StreamsTheTextInChunksThatJoinBackExactly) {
  const std::string text =
      "Ünïcödé text that is long enough to be split into several chunks: 日本語テキスト.";
  for (bool include_usage : {false, true}) {
    auto req = chat(std::string(R"({"model":"m","stream":true,)") +
                    (include_usage ? R"("stream_options":{"include_usage":true},)" : "") +
                    R"("messages":[{"role":"user","content":"a"}]})");
    MockReply reply = buildMockResponse(req, text, {.id = "id"});
    EXPECT_TRUE(reply.stream);
    auto events = testing::parseSse(reply.body);
    ASSERT_GE(events.size(), 5U);
    EXPECT_EQ(events.back().data, "[DONE]");
    std::string joined;
    bool saw_stop = false;
    bool saw_usage = false;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      auto v = testing::parseJsonOrFail(events[i].data, "chunk").as_object();
      EXPECT_EQ(v["object"], "chat.completion.chunk");
      if (v["choices"].as_array().empty()) {
        saw_usage = true;
        EXPECT_EQ(v["usage"].at("prompt_tokens"), req.prompt_tokens_estimate);
        continue;
      }
      const auto& choice = v["choices"].at(0).as_object();
      if (const auto* content = choice.at("delta").as_object().if_contains("content")) {
        joined += content->as_string();
      }
      saw_stop = saw_stop || choice.at("finish_reason") == "stop";
    }
    EXPECT_EQ(joined, text);
    EXPECT_TRUE(saw_stop);
    EXPECT_EQ(saw_usage, include_usage);
  }
}

}  // namespace
}  // namespace livery::providers
