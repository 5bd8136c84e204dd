// Adapter behaviour the golden fixtures do not pin: target validation, translation corner cases,
// stream translator edge cases, and the registry.

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "providers/registry.hpp"
#include "providers/target_options.hpp"
#include "unit/providers/golden_support.hpp"

namespace livery::providers {
namespace {

namespace json = boost::json;
using testing::sameJson;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class AdaptersTest : public ::testing::Test {
 protected:
  void SetUp() override { registerBuiltinProviders(registry_); }

  const ProviderAdapter& adapter(std::string_view name) const {
    const ProviderAdapter* a = registry_.find(name);
    EXPECT_NE(a, nullptr) << name;
    return *a;
  }

  static ChatRequest chat(std::string body) {
    auto r = parseChatRequest(std::move(body));
    EXPECT_TRUE(r.has_value()) << r.error().client_message;
    return r.has_value() ? std::move(*r) : ChatRequest{};
  }

  // The Anthropic body for `client_body`, as JSON.
  json::object anthropicBody(const std::string& client_body, std::string_view prompt = {}) {
    auto up = adapter("anthropic").buildChatRequest(chat(client_body), {.model = "claude"}, prompt);
    EXPECT_TRUE(up.has_value()) << (up ? "" : up.error().client_message);
    if (!up) {
      return {};
    }
    return testing::parseJsonOrFail(up->body, "anthropic body").as_object();
  }

  Error anthropicError(const std::string& client_body) {
    auto up = adapter("anthropic").buildChatRequest(chat(client_body), {.model = "claude"}, {});
    EXPECT_FALSE(up.has_value()) << client_body;
    return up ? Error{} : up.error();
  }

  // Feeds SSE text through a translator; returns the client bytes.
  static std::string translate(StreamTranslator& t, std::string_view sse, StreamStep& last) {
    sse::SseParser parser;
    std::string out;
    EXPECT_TRUE(parser
                    .feed(sse,
                          [&](const sse::SseEvent& e) {
                            if (!last.done && !last.failure) {
                              last = t.onEvent(e, out);
                            }
                          })
                    .has_value());
    return out;
  }

  ProviderRegistry registry_;
};

TEST_F(AdaptersTest, RegistryHoldsTheFiveBuiltinsByStorageName) {
  std::vector<std::string_view> names = registry_.names();
  EXPECT_EQ(names,
            (std::vector<std::string_view>{
                "anthropic", "azure", "ollama", "openai", "openai_compatible"}));
  for (auto name : names) {
    EXPECT_EQ(registry_.find(name)->name(), name);
  }
  EXPECT_EQ(registry_.find("mistral"), nullptr);
  EXPECT_FALSE(registry_.add("openai", nullptr));
}

// A stand-in adapter: only its identity matters to the registry.
class NullAdapter final : public ProviderAdapter {
 public:
  std::string_view name() const override { return "null"; }
  Result<UpstreamRequest> buildChatRequest(const ChatRequest&,
                                           const Target&,
                                           std::string_view) const override {
    return fail(ErrorCode::kInternal, "null");
  }
  Result<ChatReply> parseChatResponse(const ChatRequest&,
                                      const UpstreamReply&,
                                      const ResponseContext&) const override {
    return fail(ErrorCode::kInternal, "null");
  }
  std::unique_ptr<StreamTranslator> makeStreamTranslator(const ChatRequest&,
                                                         const ResponseContext&) const override {
    return nullptr;
  }
  Result<UpstreamRequest> buildEmbeddingsRequest(const EmbeddingsRequest&,
                                                 const Target&) const override {
    return fail(ErrorCode::kInternal, "null");
  }
  Result<EmbeddingsReply> parseEmbeddingsResponse(const EmbeddingsRequest&,
                                                  const UpstreamReply&) const override {
    return fail(ErrorCode::kInternal, "null");
  }
  Result<UpstreamRequest> buildListModelsRequest(const Target&) const override {
    return fail(ErrorCode::kInternal, "null");
  }
  ModelsProbe parseListModelsResponse(const UpstreamReply&) const override { return {}; }
  UpstreamFailure classifyError(const UpstreamReply&) const override { return {}; }
};

TEST_F(AdaptersTest, RegistryRefusesADuplicateName) {
  const ProviderAdapter* before = registry_.find("openai");
  EXPECT_FALSE(registry_.add("openai", std::make_unique<NullAdapter>()));
  EXPECT_EQ(registry_.find("openai"), before);
  EXPECT_TRUE(registry_.add("null", std::make_unique<NullAdapter>()));
  EXPECT_EQ(registry_.find("null")->name(), "null");
}

TEST_F(AdaptersTest, RefusesMalformedBaseUrls) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  for (std::string_view base : {"ftp://host/v1",
                                "https://",
                                "https://user:pw@host/v1",
                                "https://host/v1?x=1",
                                "https://host/v1#frag",
                                "https://ho st/v1",
                                "host/v1",
                                "https://host/v1\r\nX: y"}) {
    for (std::string_view name : {"openai", "azure", "anthropic", "ollama", "openai_compatible"}) {
      auto up = adapter(name).buildChatRequest(req, {.base_url = base, .model = "dep"}, {});
      ASSERT_FALSE(up.has_value()) << name << " " << base;
      EXPECT_EQ(up.error().code, ErrorCode::kUnprocessable);
    }
  }
}

TEST_F(AdaptersTest, RequiresABaseUrlWhereThereIsNoDefault) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_FALSE(adapter("azure").buildChatRequest(req, {.model = "dep"}, {}).has_value());
  EXPECT_FALSE(adapter("openai_compatible").buildChatRequest(req, {.model = "m"}, {}).has_value());
  EXPECT_TRUE(adapter("openai").buildChatRequest(req, {.model = "m"}, {}).has_value());
  EXPECT_TRUE(adapter("anthropic").buildChatRequest(req, {.model = "m"}, {}).has_value());
  auto ollama = adapter("ollama").buildChatRequest(req, {.model = "m"}, {});
  ASSERT_TRUE(ollama.has_value());
  EXPECT_EQ(ollama->url, "http://localhost:11434/v1/chat/completions");
}

TEST_F(AdaptersTest, AzureKeepsDeploymentAndVersionOutOfThePathAndQuery) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  const Target base{.base_url = "https://r.openai.azure.com"};
  for (std::string_view dep : {"../admin", "a/b", "x?y=1", "a b", ""}) {
    Target t = base;
    t.model = dep;
    EXPECT_FALSE(adapter("azure").buildChatRequest(req, t, {}).has_value()) << dep;
  }
  Target bad_version = base;
  bad_version.model = "dep";
  bad_version.options_json = R"({"api_version":"2024-10-21&evil=1"})";
  EXPECT_FALSE(adapter("azure").buildChatRequest(req, bad_version, {}).has_value());
  Target bearer = base;
  bearer.model = "dep";
  bearer.options_json = R"({"auth":"bearer"})";
  auto up = adapter("azure").buildChatRequest(req, bearer, {});
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->auth.header, "Authorization");
  EXPECT_EQ(up->auth.prefix, "Bearer ");
}

TEST_F(AdaptersTest, CompatibleAllowsOnlyKnownKeyHeaders) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  for (std::string_view options : {R"({"auth_header":"Cookie"})",
                                   R"({"auth_header":"X-Forwarded-For"})",
                                   R"({"auth_prefix":"Basic "})",
                                   R"({"auth_header":7})",
                                   R"([1])",
                                   R"(not json)"}) {
    auto up = adapter("openai_compatible")
                  .buildChatRequest(
                      req, {.base_url = "https://h/v1", .model = "m", .options_json = options}, {});
    ASSERT_FALSE(up.has_value()) << options;
    EXPECT_EQ(up.error().code, ErrorCode::kUnprocessable);
  }
  auto api_key = adapter("openai_compatible")
                     .buildChatRequest(req,
                                       {.base_url = "https://h/v1",
                                        .model = "m",
                                        .options_json = R"({"auth_header":"api-key"})"},
                                       {});
  ASSERT_TRUE(api_key.has_value());
  EXPECT_EQ(api_key->auth.header, "api-key");
  EXPECT_EQ(api_key->auth.prefix, "");
}

TEST_F(AdaptersTest, NoAdapterEverPutsAKeyHeaderInTheRequest) {
  auto req = chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  for (auto name : registry_.names()) {
    auto up = adapter(name).buildChatRequest(req, {.base_url = "https://h/v1", .model = "m"}, {});
    ASSERT_TRUE(up.has_value()) << name;
    for (const auto& [header, value] : up->headers) {
      EXPECT_FALSE(iequals(header, up->auth.header)) << name << " sets " << header;
    }
    EXPECT_FALSE(up->auth.header.empty()) << name;
  }
}

// ---- Anthropic translation corner cases -----------------------------------------------------

TEST_F(AdaptersTest, AnthropicRefusesWhatItCannotExpress) {
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_object"}})")
          .param,
      "response_format");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]})")
          .param,
      "messages[0].content[0]");
  EXPECT_EQ(
      anthropicError(R"({"model":"m","messages":[{"role":"function","name":"f","content":"x"}]})")
          .param,
      "messages[0].role");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]})")
          .param,
      "messages[1].tool_calls[0].function.arguments");
  EXPECT_EQ(anthropicError(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})").param,
            "messages[0].tool_call_id");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,raw"}}]}]})")
          .param,
      "messages[0].content[0].image_url");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA=="}}]}]})")
          .param,
      "messages[0].content[0].image_url");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]})")
          .param,
      "messages[0].content[0].image_url");
  EXPECT_EQ(anthropicError(R"({"model":"m","messages":[{"role":"system","content":"only rules"}]})")
                .param,
            "messages");
  EXPECT_EQ(
      anthropicError(
          R"({"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"type":"retrieval"}]})")
          .param,
      "tools[0]");
}

TEST_F(AdaptersTest, AnthropicMergesConsecutiveTurnsAndCollectsSystemMessages) {
  auto body = anthropicBody(
      R"({"model":"m","messages":[{"role":"system","content":"one"},{"role":"user","content":"a"},)"
      R"({"role":"developer","content":"two"},{"role":"user","content":[{"type":"text","text":"b"}]}]})",
      "layer");
  EXPECT_EQ(body["system"], "layer\n\none\n\ntwo");
  EXPECT_TRUE(sameJson(
      json::serialize(body["messages"]),
      R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])"));
}

TEST_F(AdaptersTest, AnthropicToolChoiceVariants) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"a"}])";
  auto none = anthropicBody(R"({"model":"m",)" + tools + R"(,"tool_choice":"none"})");
  EXPECT_TRUE(sameJson(json::serialize(none["tool_choice"]), R"({"type":"none"})"));
  EXPECT_TRUE(sameJson(json::serialize(none["tools"]),
                       R"([{"name":"f","input_schema":{"type":"object","properties":{}}}])"));
  auto no_parallel = anthropicBody(R"({"model":"m",)" + tools + R"(,"parallel_tool_calls":false})");
  EXPECT_TRUE(sameJson(json::serialize(no_parallel["tool_choice"]),
                       R"({"type":"auto","disable_parallel_tool_use":true})"));
  auto plain = anthropicBody(R"({"model":"m",)" + tools + "}");
  EXPECT_FALSE(plain.contains("tool_choice"));
}

TEST_F(AdaptersTest, AnthropicTranslatesPdfFilePartsToDocuments) {
  auto body = anthropicBody(
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}}]}]})");
  EXPECT_TRUE(sameJson(
      json::serialize(body["messages"]),
      R"([{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}]}])"));
}

TEST_F(AdaptersTest, AnthropicResponseWithoutTextOrToolsIsAnEmptyMessage) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"a"}]})");
  auto reply =
      adapter("anthropic")
          .parseChatResponse(
              req,
              {.status = 200,
               .body =
                   R"({"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"thinking","thinking":"hmm","signature":"s"}],"stop_reason":"refusal","usage":{"input_tokens":3,"output_tokens":4}})"},
              {.created_unix_s = 5});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->finish_reason, "content_filter");
  auto v = testing::parseJsonOrFail(reply->body, "reply");
  EXPECT_EQ(v.at("choices").at(0).at("message").at("content"), "");
  EXPECT_EQ(reply->usage.totalTokens(), 7U);
  EXPECT_FALSE(adapter("anthropic")
                   .parseChatResponse(req, {.status = 200, .body = R"({"type":"message"})"}, {})
                   .has_value());
  EXPECT_FALSE(adapter("anthropic")
                   .parseChatResponse(req, {.status = 200, .body = "<html>"}, {})
                   .has_value());
}

// ---- stream translator edge cases -----------------------------------------------------------

TEST_F(AdaptersTest, AnthropicStreamFinishesWhenOnlyMessageStopIsMissing) {
  auto t =
      adapter("anthropic")
          .makeStreamTranslator(
              chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"),
              {});
  StreamStep last;
  std::string out = translate(*t,
                              "event: message_start\ndata: "
                              "{\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":"
                              "\"c\",\"usage\":{\"input_tokens\":2,\"output_tokens\":1}}}\n\n"
                              "event: message_delta\ndata: "
                              "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}"
                              ",\"usage\":{\"output_tokens\":9}}\n\n",
                              last);
  EXPECT_FALSE(last.done);
  StreamStep end = t->onEnd(out);
  EXPECT_TRUE(end.done);
  EXPECT_FALSE(end.failure.has_value());
  EXPECT_EQ(out.substr(out.size() - 14), "data: [DONE]\n\n");
  EXPECT_EQ(t->usage().completion_tokens, 9U);
}

TEST_F(AdaptersTest, AnthropicStreamReportsACutStreamWithItsPartialUsage) {
  auto t =
      adapter("anthropic")
          .makeStreamTranslator(
              chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"),
              {});
  StreamStep last;
  std::string out = translate(*t,
                              "event: message_start\ndata: "
                              "{\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":"
                              "\"c\",\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n",
                              last);
  StreamStep end = t->onEnd(out);
  ASSERT_TRUE(end.failure.has_value());
  EXPECT_FALSE(end.done);
  EXPECT_EQ(t->usage().prompt_tokens, 20U);
  EXPECT_TRUE(t->usage().reported);
}

TEST_F(AdaptersTest, AnthropicStreamIgnoresThinkingAndUnknownEvents) {
  auto t =
      adapter("anthropic")
          .makeStreamTranslator(
              chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"),
              {});
  StreamStep last;
  std::string out = translate(*t,
                              "event: content_block_start\ndata: "
                              "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{"
                              "\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
                              "event: content_block_delta\ndata: "
                              "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                              "\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n"
                              "event: brand_new\ndata: {\"type\":\"brand_new\"}\n\n"
                              ": comment\n\n",
                              last);
  EXPECT_EQ(out, "");
  EXPECT_FALSE(last.failure.has_value());
  auto bad =
      adapter("anthropic")
          .makeStreamTranslator(
              chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"),
              {});
  StreamStep bad_step;
  translate(*bad, "data: not json\n\n", bad_step);
  ASSERT_TRUE(bad_step.failure.has_value());
  EXPECT_EQ(bad_step.failure->error.code, ErrorCode::kUpstreamUnavailable);
}

TEST_F(AdaptersTest, OpenAiStreamOnlyDropsTheUsageOnlyChunk) {
  auto t = adapter("openai").makeStreamTranslator(
      chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"), {});
  StreamStep last;
  // A content chunk whose text mentions "usage": {, and a last content chunk that carries usage
  // (some servers do that) are both kept; the choices-empty usage chunk is dropped.
  std::string out = translate(
      *t,
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\\"usage\\\": {\"}}]}\n\n"
      "data: "
      "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_"
      "tokens\":1,\"completion_tokens\":2}}\n\n"
      "data: "
      "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"prompt_tokens_"
      "details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n"
      "data: [DONE]\n\n"
      "data: {\"late\":true}\n\n",
      last);
  EXPECT_TRUE(last.done);
  auto events = testing::parseSse(out);
  ASSERT_EQ(events.size(), 3U) << out;
  EXPECT_NE(events[0].data.find("usage"), std::string::npos);
  EXPECT_NE(events[1].data.find("\"usage\""), std::string::npos);
  EXPECT_EQ(events[2].data, "[DONE]");
  EXPECT_EQ(t->usage(),
            (Usage{.prompt_tokens = 5,
                   .completion_tokens = 6,
                   .cached_tokens = 4,
                   .reasoning_tokens = 3,
                   .reported = true}));
}

TEST_F(AdaptersTest, OpenAiStreamTurnsAnErrorChunkIntoAFailure) {
  auto t = adapter("openai").makeStreamTranslator(
      chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"), {});
  StreamStep last;
  std::string out = translate(
      *t,
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n",
      last);
  ASSERT_TRUE(last.failure.has_value());
  EXPECT_TRUE(last.failure->retryable);
  EXPECT_EQ(testing::parseSse(out).size(), 1U) << "nothing is written for the failure itself";
  auto rate = adapter("openai").makeStreamTranslator(
      chat(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})"), {});
  StreamStep rate_step;
  translate(*rate,
            "event: error\ndata: {\"error\":{\"message\":\"slow "
            "down\",\"type\":\"rate_limit_error\"}}\n\n",
            rate_step);
  ASSERT_TRUE(rate_step.failure.has_value());
  EXPECT_EQ(rate_step.failure->error.code, ErrorCode::kRateLimited);
}

TEST_F(AdaptersTest, OpenAiNonStreamingResponseWithoutUsageIsNotReported) {
  auto req = chat(R"({"model":"m","messages":[{"role":"user","content":"a"}]})");
  auto reply =
      adapter("openai_compatible")
          .parseChatResponse(
              req,
              {.status = 200,
               .body =
                   R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"length"}],"usage":null})"},
              {});
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->usage.reported);
  EXPECT_EQ(reply->finish_reason, "length");
  EXPECT_FALSE(
      adapter("openai").parseChatResponse(req, {.status = 200, .body = "[1,2]"}, {}).has_value());
  EXPECT_FALSE(
      adapter("openai").parseChatResponse(req, {.status = 200, .body = ""}, {}).has_value());
}

}  // namespace
}  // namespace livery::providers
