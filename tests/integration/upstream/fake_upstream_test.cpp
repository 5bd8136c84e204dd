// The fake provider itself: each provider's wire format (JSON and SSE), authentication errors,
// deterministic usage, tool calls, scripted faults, request recording, the control endpoints and
// the standalone binary. Other suites rely on these behaviours, so they are pinned here.
#include "support/fake_upstream.hpp"

#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace livery::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const HeaderList kOpenAiAuth = {{"Authorization", "Bearer sk-fake-openai-key"},
                                {"Content-Type", "application/json"}};
const HeaderList kAnthropicAuth = {{"x-api-key", "sk-ant-fake-anthropic-key"},
                                   {"anthropic-version", "2023-06-01"},
                                   {"Content-Type", "application/json"}};
const HeaderList kAzureAuth = {{"api-key", "fake-azure-key"}, {"Content-Type", "application/json"}};

constexpr const char* kChat =
    R"({"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},)"
    R"({"role":"user","content":[{"type":"text","text":"hello there world"}]}]})";
constexpr const char* kChatStream =
    R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},)"
    R"("messages":[{"role":"user","content":"hello there"}]})";
constexpr const char* kMessages =
    R"({"model":"claude-sonnet-4-20250514","max_tokens":100,"system":"be brief",)"
    R"("messages":[{"role":"user","content":"hello there world"}]})";

json::object parse(const std::string& body) {
  return json::parse(body).as_object();
}

// "data: {...}" payloads of an OpenAI-style stream, in order.
std::vector<std::string> dataLines(const std::string& sse) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    auto end = sse.find("\n\n", pos);
    out.push_back(sse.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

// (event, data) pairs of an Anthropic-style stream.
std::vector<std::pair<std::string, std::string>> events(const std::string& sse) {
  std::vector<std::pair<std::string, std::string>> out;
  static const std::regex kEvent("event: ([a-z_]+)\ndata: ([^\n]*)\n\n");
  for (std::sregex_iterator it(sse.begin(), sse.end(), kEvent), end; it != end; ++it) {
    out.emplace_back((*it)[1].str(), (*it)[2].str());
  }
  return out;
}

class FakeUpstreamTest : public ::testing::Test {
 protected:
  FakeUpstream fake_;
  TestHttpClient http_{"127.0.0.1", fake_.port()};
};

TEST_F(FakeUpstreamTest, AnswersOpenAiChatWithUsageDerivedFromTheRequest) {
  auto r = http_.post("/v1/chat/completions", kChat, kOpenAiAuth);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("content-type"), "application/json");
  auto o = parse(r.body);
  EXPECT_EQ(o.at("object"), "chat.completion");
  EXPECT_EQ(o.at("model"), "gpt-4o");
  const auto& choice = o.at("choices").as_array().at(0).as_object();
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(choice.at("message").at("content"), "Hello from the fake upstream.");
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  const auto& usage = o.at("usage").as_object();
  EXPECT_EQ(usage.at("prompt_tokens").as_int64(), 5);  // "be brief" + "hello there world"
  EXPECT_EQ(usage.at("completion_tokens").as_int64(), 5);
  EXPECT_EQ(usage.at("total_tokens").as_int64(), 10);
  EXPECT_EQ(usage.at("prompt_tokens_details").at("cached_tokens").as_int64(), 0);
}

TEST_F(FakeUpstreamTest, StreamsOpenAiChunksWithAUsageChunkAndDone) {
  fake_.setReply("alpha beta gamma delta", 4);
  auto r = http_.post("/v1/chat/completions", kChatStream, kOpenAiAuth);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.headers.get("transfer-encoding"), "chunked");
  auto lines = dataLines(r.body);
  ASSERT_EQ(lines.size(), 1u + 4u + 1u + 1u + 1u);  // role, content x4, finish, usage, [DONE]
  EXPECT_EQ(lines.back(), "[DONE]");
  std::string text;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    auto chunk = parse(lines[i]);
    EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
    ASSERT_TRUE(chunk.contains("usage"));  // include_usage: null everywhere but the last
    if (i + 2 < lines.size()) {
      EXPECT_TRUE(chunk.at("usage").is_null());
      const auto& delta = chunk.at("choices").at(0).at("delta").as_object();
      if (const auto* c = delta.if_contains("content"); c != nullptr && c->is_string()) {
        text += c->as_string();
      }
    }
  }
  EXPECT_EQ(text, "alpha beta gamma delta");
  EXPECT_EQ(parse(lines[0]).at("choices").at(0).at("delta").at("role"), "assistant");
  EXPECT_EQ(parse(lines[5]).at("choices").at(0).at("finish_reason"), "stop");
  auto usage = parse(lines[6]);
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(usage.at("usage").at("prompt_tokens").as_int64(), 2);
  EXPECT_EQ(usage.at("usage").at("completion_tokens").as_int64(), 4);
}

TEST_F(FakeUpstreamTest, OmitsTheUsageChunkUnlessAskedFor) {
  auto r =
      http_.post("/v1/chat/completions",
                 R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]})",
                 kOpenAiAuth);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("usage"), std::string::npos);
  EXPECT_EQ(dataLines(r.body).back(), "[DONE]");
}

TEST_F(FakeUpstreamTest, StreamsAnthropicsExactEventSequence) {
  fake_.setReply("one two three", 3);
  std::string body = kMessages;
  body.insert(1, R"("stream":true,)");
  auto r = http_.post("/v1/messages", body, kAnthropicAuth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto ev = events(r.body);
  std::vector<std::string> names;
  for (const auto& [name, data] : ev) {
    names.push_back(name);
    EXPECT_EQ(parse(data).at("type").as_string(), name);  // data.type repeats the event name
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"message_start",
                                      "content_block_start",
                                      "ping",
                                      "content_block_delta",
                                      "content_block_delta",
                                      "content_block_delta",
                                      "content_block_stop",
                                      "message_delta",
                                      "message_stop"}));
  std::string text;
  for (const auto& [name, data] : ev) {
    if (name == "content_block_delta") {
      auto delta = parse(data).at("delta").as_object();
      EXPECT_EQ(delta.at("type"), "text_delta");
      text += delta.at("text").as_string();
    }
  }
  EXPECT_EQ(text, "one two three");
  auto start = parse(ev[0].second);
  EXPECT_EQ(start.at("message").at("usage").at("input_tokens").as_int64(), 5);
  auto delta = parse(ev[7].second);
  EXPECT_EQ(delta.at("delta").at("stop_reason"), "end_turn");
  EXPECT_EQ(delta.at("usage").at("output_tokens").as_int64(), 3);
}

TEST_F(FakeUpstreamTest, AnswersAnthropicMessagesAsJson) {
  auto r = http_.post("/v1/messages", kMessages, kAnthropicAuth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = parse(r.body);
  EXPECT_EQ(o.at("type"), "message");
  EXPECT_EQ(o.at("content").at(0).at("type"), "text");
  EXPECT_EQ(o.at("content").at(0).at("text"), "Hello from the fake upstream.");
  EXPECT_EQ(o.at("stop_reason"), "end_turn");
  EXPECT_EQ(o.at("usage").at("input_tokens").as_int64(), 5);
  EXPECT_EQ(o.at("usage").at("output_tokens").as_int64(), 5);
}

TEST_F(FakeUpstreamTest, RequiresAnthropicVersionAndMaxTokens) {
  HeaderList no_version = {{"x-api-key", "sk-ant-fake-anthropic-key"}};
  auto r = http_.post("/v1/messages", kMessages, no_version);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(parse(r.body).at("error").at("message"), "anthropic-version: header is required");
  auto no_max = http_.post("/v1/messages",
                           R"({"model":"x","messages":[{"role":"user","content":"hi"}]})",
                           kAnthropicAuth);
  EXPECT_EQ(no_max.status, 400);
  EXPECT_EQ(parse(no_max.body).at("error").at("type"), "invalid_request_error");
}

TEST_F(FakeUpstreamTest, RejectsBadKeysWithEachProvidersReal401) {
  auto none = http_.post("/v1/chat/completions", kChat, {});
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(parse(none.body).at("error").at("code").is_null());
  auto wrong = http_.post(
      "/v1/chat/completions", kChat, {{"Authorization", "Bearer sk-wrong-0123456789abcdef"}});
  EXPECT_EQ(wrong.status, 401);
  auto err = parse(wrong.body).at("error").as_object();
  EXPECT_EQ(err.at("code"), "invalid_api_key");
  EXPECT_EQ(err.at("type"), "invalid_request_error");
  std::string message(err.at("message").as_string());
  EXPECT_NE(message.find("sk-*"), std::string::npos);  // masked, as OpenAI does
  EXPECT_EQ(message.find("sk-wrong-0123456789abcdef"), std::string::npos);

  auto azure = http_.post("/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
                          kChat,
                          {{"api-key", "nope"}});
  EXPECT_EQ(azure.status, 401);
  EXPECT_EQ(parse(azure.body).at("error").at("code"), "401");

  auto anthropic = http_.post(
      "/v1/messages", kMessages, {{"x-api-key", "nope"}, {"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(anthropic.status, 401);
  EXPECT_EQ(parse(anthropic.body).at("type"), "error");
  EXPECT_EQ(parse(anthropic.body).at("error").at("type"), "authentication_error");
}

TEST(FakeUpstreamOllamaTest, ServesWithoutAuthenticationAndListsTags) {
  FakeUpstreamOptions options;
  options.flavour = FakeUpstreamOptions::Flavour::kOllama;
  FakeUpstream ollama(options);
  TestHttpClient http("127.0.0.1", ollama.port());
  auto chat = http.post("/v1/chat/completions",
                        R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(chat.status, 200);
  EXPECT_EQ(parse(chat.body).at("system_fingerprint"), "fp_ollama");
  auto tags = http.get("/api/tags");
  ASSERT_EQ(tags.status, 200);
  EXPECT_EQ(parse(tags.body).at("models").at(0).at("name"), "llama3.2:latest");
}

TEST_F(FakeUpstreamTest, ServesAzureDeploymentsWithApiVersionAndPromptFilterResults) {
  auto missing = http_.post("/openai/deployments/gpt4o/chat/completions", kChat, kAzureAuth);
  EXPECT_EQ(missing.status, 404);
  auto r = http_.post(
      "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", kChat, kAzureAuth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = parse(r.body);
  EXPECT_EQ(o.at("model"), "gpt-4o-2024-08-06");
  EXPECT_TRUE(o.contains("prompt_filter_results"));
  auto s = http_.post(
      "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", kChatStream, kAzureAuth);
  ASSERT_EQ(s.status, 200);
  auto first = parse(dataLines(s.body).at(0));
  EXPECT_TRUE(first.at("choices").as_array().empty());
  EXPECT_EQ(first.at("id"), "");
  EXPECT_TRUE(first.contains("prompt_filter_results"));
  auto models = http_.get("/openai/models?api-version=2024-10-21", kAzureAuth);
  EXPECT_EQ(models.status, 200);
  auto emb = http_.post("/openai/deployments/emb/embeddings?api-version=2024-10-21",
                        R"({"input":"hello"})",
                        kAzureAuth);
  EXPECT_EQ(emb.status, 200);
}

TEST_F(FakeUpstreamTest, CallsTheRequestedToolWhenTheRequestHasTools) {
  auto r = http_.post(
      "/v1/chat/completions",
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}],)"
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]})",
      kOpenAiAuth);
  ASSERT_EQ(r.status, 200);
  auto choice = parse(r.body).at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  const auto& call = choice.at("message").at("tool_calls").at(0).as_object();
  EXPECT_EQ(call.at("function").at("name"), "get_weather");
  EXPECT_EQ(call.at("function").at("arguments"), R"({"query":"fake"})");

  auto a = http_.post("/v1/messages",
                      R"({"model":"claude","max_tokens":50,"messages":[{"role":"user",)"
                      R"("content":"hi"}],"tools":[{"name":"lookup","input_schema":{}}]})",
                      kAnthropicAuth);
  ASSERT_EQ(a.status, 200);
  auto msg = parse(a.body);
  EXPECT_EQ(msg.at("stop_reason"), "tool_use");
  EXPECT_EQ(msg.at("content").at(0).at("type"), "tool_use");
  EXPECT_EQ(msg.at("content").at(0).at("name"), "lookup");
  EXPECT_EQ(msg.at("content").at(0).at("input").at("query"), "fake");
}

TEST_F(FakeUpstreamTest, CutsTheReplyAtMaxTokens) {
  auto r =
      http_.post("/v1/chat/completions",
                 R"({"model":"gpt-4o","max_tokens":2,"messages":[{"role":"user","content":"hi"}]})",
                 kOpenAiAuth);
  auto choice = parse(r.body).at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("message").at("content"), "Hello from");
  EXPECT_EQ(choice.at("finish_reason"), "length");
}

TEST_F(FakeUpstreamTest, AnswersEmbeddingsDeterministicallyAsFloatsOrBase64) {
  auto a = http_.post("/v1/embeddings",
                      R"({"model":"text-embedding-3-small","input":["a b","c"],"dimensions":4})",
                      kOpenAiAuth);
  ASSERT_EQ(a.status, 200);
  auto o = parse(a.body);
  EXPECT_EQ(o.at("data").as_array().size(), 2u);
  EXPECT_EQ(o.at("data").at(0).at("embedding").as_array().size(), 4u);
  EXPECT_EQ(o.at("usage").at("prompt_tokens").as_int64(), 3);
  auto again =
      http_.post("/v1/embeddings",
                 R"({"model":"text-embedding-3-small","input":["a b","c"],"dimensions":4})",
                 kOpenAiAuth);
  EXPECT_EQ(parse(again.body).at("data"), o.at("data"));
  auto b64 = http_.post(
      "/v1/embeddings",
      R"({"model":"text-embedding-3-small","input":"a b","dimensions":4,"encoding_format":"base64"})",
      kOpenAiAuth);
  ASSERT_EQ(b64.status, 200);
  EXPECT_EQ(parse(b64.body).at("data").at(0).at("embedding").as_string().size(), 24u);  // 16 B
}

TEST_F(FakeUpstreamTest, ListsModelsInEachProvidersShape) {
  auto openai = parse(http_.get("/v1/models", kOpenAiAuth).body);
  EXPECT_EQ(openai.at("object"), "list");
  EXPECT_EQ(openai.at("data").at(0).at("object"), "model");
  auto anthropic = parse(http_.get("/v1/models", kAnthropicAuth).body);
  EXPECT_EQ(anthropic.at("data").at(0).at("type"), "model");
  EXPECT_EQ(anthropic.at("has_more"), false);
}

TEST_F(FakeUpstreamTest, ScriptsStatusFaultsInEachProvidersShape) {
  fake_.push("/v1/chat/completions", FakeBehaviour::rateLimited(3));
  auto limited = http_.post("/v1/chat/completions", kChat, kOpenAiAuth);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers.get("retry-after"), "3");
  EXPECT_EQ(parse(limited.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(http_.post("/v1/chat/completions", kChat, kOpenAiAuth).status, 200);  // one-shot

  fake_.push("/v1/messages", FakeBehaviour::rateLimited(2));
  auto a429 = http_.post("/v1/messages", kMessages, kAnthropicAuth);
  EXPECT_EQ(a429.status, 429);
  EXPECT_EQ(parse(a429.body).at("error").at("type"), "rate_limit_error");

  fake_.push("/v1/chat/completions", FakeBehaviour::contextLengthExceeded());
  auto ctx = http_.post("/v1/chat/completions", kChat, kOpenAiAuth);
  EXPECT_EQ(ctx.status, 400);
  EXPECT_EQ(parse(ctx.body).at("error").at("code"), "context_length_exceeded");
  fake_.push("/v1/messages", FakeBehaviour::contextLengthExceeded());
  auto actx = http_.post("/v1/messages", kMessages, kAnthropicAuth);
  EXPECT_EQ(actx.status, 400);
  EXPECT_NE(std::string(parse(actx.body).at("error").at("message").as_string()).find("too long"),
            std::string::npos);

  fake_.push("/v1/messages", FakeBehaviour::withStatus(529));
  EXPECT_EQ(
      parse(http_.post("/v1/messages", kMessages, kAnthropicAuth).body).at("error").at("type"),
      "overloaded_error");

  fake_.setDefault("*", FakeBehaviour::serverError());
  EXPECT_EQ(http_.post("/v1/embeddings", R"({"input":"x"})", kOpenAiAuth).status, 500);
  EXPECT_EQ(http_.get("/v1/models", kOpenAiAuth).status, 500);
  fake_.reset();
  EXPECT_EQ(http_.get("/v1/models", kOpenAiAuth).status, 200);
}

TEST_F(FakeUpstreamTest, EndsAStreamWithTheProvidersInStreamErrorEvent) {
  fake_.push("/v1/chat/completions", FakeBehaviour::errorEvent(2));
  auto r = http_.post("/v1/chat/completions", kChatStream, kOpenAiAuth);
  auto lines = dataLines(r.body);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(parse(lines[2]).at("error").at("type"), "server_error");

  std::string body = kMessages;
  body.insert(1, R"("stream":true,)");
  fake_.push("/v1/messages", FakeBehaviour::errorEvent(1));
  auto a = http_.post("/v1/messages", body, kAnthropicAuth);
  auto ev = events(a.body);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].first, "error");
  EXPECT_EQ(parse(ev[1].second).at("error").at("type"), "overloaded_error");
}

TEST_F(FakeUpstreamTest, TruncatesResetsAndHangsOnRequest) {
  fake_.push("*", FakeBehaviour::closeAfter(20));
  RawConnection raw("127.0.0.1", fake_.port());
  ASSERT_TRUE(
      raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer sk-fake-openai-key\r\n\r\n"));
  EXPECT_EQ(raw.readUntilClose(2s), "HTTP/1.1 200 OK\r\nCon");

  fake_.push("*", FakeBehaviour::hang());
  RawConnection hung("127.0.0.1", fake_.port());
  ASSERT_TRUE(hung.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(hung.readUntil("HTTP", 300ms), "");
  ASSERT_TRUE(fake_.waitForRequests(2, 1s));
  auto id = fake_.requests().back().connection_id;
  EXPECT_FALSE(fake_.connectionClosed(id));
  hung.close();
  EXPECT_TRUE(fake_.waitConnectionClosed(id, 1s));  // the fake notices the client left

  fake_.push("*", FakeBehaviour::reset());
  RawConnection reset("127.0.0.1", fake_.port());
  ASSERT_TRUE(reset.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(reset.readUntilClose(2s), "");  // no answer, the connection is gone
  ASSERT_TRUE(fake_.waitForRequests(3, 1s));
  EXPECT_TRUE(fake_.waitConnectionClosed(fake_.requests().back().connection_id, 1s));
}

TEST_F(FakeUpstreamTest, RecordsEveryProviderRequestButNotControlCalls) {
  http_.post("/v1/chat/completions", kChat, kOpenAiAuth);
  http_.get("/v1/models", kOpenAiAuth);
  http_.get("/__fake/requests");
  auto recorded = fake_.requests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].body, kChat);
  EXPECT_EQ(recorded[0].header("authorization"), "Bearer sk-fake-openai-key");
  EXPECT_EQ(recorded[0].connection_id, recorded[1].connection_id);
  EXPECT_EQ(recorded[1].sequence, 1u);
  EXPECT_EQ(fake_.requestCount("/v1/models"), 1u);
  EXPECT_EQ(fake_.connectionsAccepted(), 1u);
}

TEST_F(FakeUpstreamTest, IsDrivenOverHttpThroughTheControlEndpoints) {
  auto set = http_.post(
      "/__fake/behaviour",
      R"({"path":"/v1/chat/completions","times":2,"behaviour":{"status":503,"headers":{"Retry-After":"4"}}})");
  ASSERT_EQ(set.status, 200) << set.body;
  for (int i = 0; i < 2; ++i) {
    auto r = http_.post("/v1/chat/completions", kChat, kOpenAiAuth);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.headers.get("retry-after"), "4");
  }
  EXPECT_EQ(http_.post("/v1/chat/completions", kChat, kOpenAiAuth).status, 200);
  auto listed = parse(http_.get("/__fake/requests").body);
  EXPECT_EQ(listed.at("requests").as_array().size(), 3u);
  EXPECT_EQ(listed.at("requests").at(0).at("path"), "/v1/chat/completions");
  EXPECT_EQ(http_.post("/__fake/behaviour", R"({"behaviour":{"kind":"explode"}})").status, 400);
  EXPECT_EQ(http_.post("/__fake/reset", "").status, 200);
  EXPECT_TRUE(parse(http_.get("/__fake/requests").body).at("requests").as_array().empty());
}

TEST_F(FakeUpstreamTest, AcceptsTheKeysSetWhileServing) {
  const HeaderList other = {{"Authorization", "Bearer sk-other-key"}};
  EXPECT_EQ(http_.get("/v1/models", other).status, 401);
  ASSERT_EQ(http_.post("/__fake/keys", R"({"openai":["sk-other-key"]})").status, 200);
  EXPECT_EQ(http_.get("/v1/models", other).status, 200);
  EXPECT_EQ(http_.get("/v1/models", kOpenAiAuth).status, 401);  // replaced, not added
  EXPECT_EQ(http_.post("/v1/messages", kMessages, kAnthropicAuth).status, 200);  // untouched
  fake_.reset();
  EXPECT_EQ(http_.get("/v1/models", other).status, 200);  // a reset keeps the keys

  ASSERT_EQ(http_.post("/__fake/keys", R"({"openai":[]})").status, 200);
  EXPECT_EQ(http_.get("/v1/models", {{"Authorization", "Bearer anything"}}).status, 200);
  // A bad body changes nothing, not even the valid lists before the bad one.
  EXPECT_EQ(http_.post("/__fake/keys", R"({"openai":["sk-x"],"mistral":[]})").status, 400);
  EXPECT_EQ(http_.post("/__fake/keys", R"({"openai":"sk-x"})").status, 400);
  EXPECT_EQ(http_.post("/__fake/keys", R"({"openai":[1]})").status, 400);
  EXPECT_EQ(http_.get("/v1/models", {{"Authorization", "Bearer anything"}}).status, 200);

  fake_.setAcceptedKeys(FakeUpstreamOptions::Provider::kAnthropic, {"sk-ant-second"});
  EXPECT_EQ(http_.post("/v1/messages", kMessages, kAnthropicAuth).status, 401);
  EXPECT_EQ(http_
                .post("/v1/messages",
                      kMessages,
                      {{"x-api-key", "sk-ant-second"},
                       {"anthropic-version", "2023-06-01"},
                       {"Content-Type", "application/json"}})
                .status,
            200);
}

TEST_F(FakeUpstreamTest, RecordsWhetherTheClientStayedForTheWholeAnswer) {
  auto settled = [&](std::size_t i) {
    for (int tries = 0; tries < 300; ++tries) {
      auto recorded = fake_.requests();
      if (recorded.size() > i && (recorded[i].completed || recorded[i].cancelled)) {
        return recorded[i];
      }
      std::this_thread::sleep_for(10ms);
    }
    return fake_.requests().at(i);
  };
  ASSERT_EQ(http_.post("/v1/chat/completions", kChatStream, kOpenAiAuth).status, 200);
  auto whole = settled(0);
  EXPECT_TRUE(whole.completed);
  EXPECT_FALSE(whole.cancelled);

  // The client reads the first piece of a slow stream, then closes (a gateway's Stop).
  fake_.push("/v1/chat/completions", FakeBehaviour::delayEvents(200ms));
  TestHttpClient reader("127.0.0.1", fake_.port());
  reader.stream("POST", "/v1/chat/completions", kChatStream, kOpenAiAuth, [](std::string_view) {
    return false;
  });
  auto left = settled(1);
  EXPECT_TRUE(left.cancelled);
  EXPECT_FALSE(left.completed);

  // A scripted fault is neither: the fake cut it, not the client.
  fake_.push("*", FakeBehaviour::closeAfter(20));
  RawConnection raw("127.0.0.1", fake_.port());
  ASSERT_TRUE(
      raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer sk-fake-openai-key\r\n\r\n"));
  EXPECT_EQ(raw.readUntilClose(2s), "HTTP/1.1 200 OK\r\nCon");
  std::this_thread::sleep_for(50ms);
  auto cut = fake_.requests().at(2);
  EXPECT_FALSE(cut.completed);
  EXPECT_FALSE(cut.cancelled);

  auto listed = parse(http_.get("/__fake/requests").body).at("requests").as_array();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].at("completed"), true);
  EXPECT_EQ(listed[1].at("cancelled"), true);
  EXPECT_EQ(listed[1].at("completed"), false);
  EXPECT_EQ(listed[2].at("cancelled"), false);
}

TEST(FakeBehaviourTest, RoundTripsThroughJson) {
  FakeBehaviour b = FakeBehaviour::failMidStream(3);
  b.status = 0;
  b.error = FakeError::kContextLength;
  b.headers = {{"Retry-After", "2"}};
  b.head_delay = 15ms;
  b.event_delay = 5ms;
  b.close_after_bytes = 99;
  b.trickle_bytes = 4;
  b.trickle_interval = 7ms;
  b.reply = "hi";
  b.chunks = 2;
  b.close_connection = true;
  std::string error;
  auto back = FakeBehaviour::fromJson(b.toJson(), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->toJson(), b.toJson());
  EXPECT_EQ(back->kind, FakeBehaviour::Kind::kFailMidStream);
  EXPECT_EQ(back->fail_after_events, 3u);
  EXPECT_EQ(back->headers, b.headers);
  EXPECT_FALSE(FakeBehaviour::fromJson(R"({"head_delay_ms":-1})"));
  EXPECT_FALSE(FakeBehaviour::fromJson(R"({"unknown":1})"));
}

TEST(FakeUpstreamBinaryTest, PrintsItsPortAsJsonAndServesUntilSigterm) {
  ChildProcess p({LIVERY_FAKE_UPSTREAM_BINARY, "--port", "0", "--reply", "from the binary"});
  ASSERT_TRUE(p.waitForOutput("\n", 10s)) << p.err();
  auto line = json::parse(p.out()).as_object();
  auto port = static_cast<std::uint16_t>(line.at("port").as_int64());
  EXPECT_EQ(line.at("base_url").as_string(), "http://127.0.0.1:" + std::to_string(port));
  TestHttpClient http("127.0.0.1", port);
  auto r = http.post("/v1/chat/completions", kChat, kOpenAiAuth);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("from the binary"), std::string::npos);
  EXPECT_EQ(http.post("/__fake/behaviour", R"({"behaviour":{"status":500}})").status, 200);
  EXPECT_EQ(http.get("/v1/models", kOpenAiAuth).status, 500);
  p.signal(SIGTERM);
  EXPECT_EQ(p.waitExit(5s), 0);
}

TEST(FakeUpstreamBinaryTest, ServesTlsWithAGeneratedCaInTlsMode) {
  TempDir dir;
  ChildProcess p({LIVERY_FAKE_UPSTREAM_BINARY, "--port", "0", "--tls-dir", dir.str()});
  ASSERT_TRUE(p.waitForOutput("\n", 10s)) << p.err();
  auto line = json::parse(p.out()).as_object();
  EXPECT_EQ(std::string(line.at("base_url").as_string()).rfind("https://localhost:", 0), 0u);
  std::string ca_file(line.at("ca_file").as_string());
  EXPECT_NE(readFile(ca_file).find("BEGIN CERTIFICATE"), std::string::npos);
  p.signal(SIGTERM);
  EXPECT_EQ(p.waitExit(5s), 0);
}

}  // namespace
}  // namespace livery::testing
