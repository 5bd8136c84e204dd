#include "providers/upstream_errors.hpp"

#include <gtest/gtest.h>

#include "providers/registry.hpp"

namespace livery::providers {
namespace {

TEST(UpstreamErrorsTest, ClassifiesEveryStatusClass) {
  struct Row {
    int status;
    ErrorCode code;
    int client_status;
    bool retryable;
    bool fallback;
    bool credential;
  };
  const std::string body = R"({"error":{"message":"something","type":"x"}})";
  for (const Row& r : std::initializer_list<Row>{
           {400, ErrorCode::kUpstreamRejected, 400, false, false, false},
           {401, ErrorCode::kUpstreamAuth, 502, false, true, true},
           {403, ErrorCode::kUpstreamAuth, 502, false, true, true},
           {404, ErrorCode::kNotFound, 404, false, true, false},
           {405, ErrorCode::kUpstreamUnavailable, 502, false, true, false},
           {408, ErrorCode::kUpstreamTimeout, 504, true, true, false},
           {409, ErrorCode::kUpstreamUnavailable, 502, true, true, false},
           {413, ErrorCode::kUpstreamRejected, 413, false, false, false},
           {422, ErrorCode::kUpstreamRejected, 422, false, false, false},
           {429, ErrorCode::kRateLimited, 429, true, true, false},
           {500, ErrorCode::kUpstreamUnavailable, 502, true, true, false},
           {502, ErrorCode::kUpstreamUnavailable, 502, true, true, false},
           {503, ErrorCode::kUpstreamUnavailable, 502, true, true, false},
           {504, ErrorCode::kUpstreamTimeout, 504, true, true, false},
           {529, ErrorCode::kUpstreamUnavailable, 502, true, true, false},
           {302, ErrorCode::kUpstreamUnavailable, 502, false, true, false},
           {0, ErrorCode::kUpstreamUnavailable, 502, false, true, false},
       }) {
    UpstreamFailure f = classifyHttpError("p", {.status = r.status, .body = body});
    EXPECT_EQ(f.error.code, r.code) << r.status;
    EXPECT_EQ(httpStatus(f.error), r.client_status) << r.status;
    EXPECT_EQ(f.retryable, r.retryable) << r.status;
    EXPECT_EQ(f.fallback_eligible, r.fallback) << r.status;
    EXPECT_EQ(f.credential_refused, r.credential) << r.status;
    EXPECT_EQ(f.upstream_status, r.status);
    EXPECT_FALSE(f.error.client_message.empty());
    EXPECT_FALSE(f.context_window_exceeded);
  }
}

TEST(UpstreamErrorsTest, ReadsRetryAfterInSecondsOrMilliseconds) {
  EXPECT_EQ(parseRetryAfter("7", ""), 7);
  EXPECT_EQ(parseRetryAfter(" 7 ", ""), 7);
  EXPECT_EQ(parseRetryAfter("0.2", ""), 1);
  EXPECT_EQ(parseRetryAfter("", "1500"), 2);
  EXPECT_EQ(parseRetryAfter("9", "250"), 1) << "retry-after-ms is the more precise";
  EXPECT_EQ(parseRetryAfter("99999999", ""), 86400);
  EXPECT_FALSE(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", "").has_value());
  EXPECT_FALSE(parseRetryAfter("-3", "").has_value());
  EXPECT_FALSE(parseRetryAfter("", "").has_value());
  EXPECT_FALSE(parseRetryAfter("nan", "").has_value());
  UpstreamFailure f = classifyHttpError("p", {.status = 503, .body = "", .retry_after = "4"});
  EXPECT_EQ(f.retry_after_s, 4);
  EXPECT_EQ(f.error.retry_after_s, 4);
}

TEST(UpstreamErrorsTest, ReadsEveryProviderErrorShape) {
  EXPECT_EQ(
      extractErrorText(R"({"error":{"message":"m","type":"t","code":"c","param":"p"}})").param,
      "p");
  EXPECT_EQ(
      extractErrorText(R"({"type":"error","error":{"type":"overloaded_error","message":"m"}})")
          .type,
      "overloaded_error");
  EXPECT_EQ(extractErrorText(R"({"error":"model not found"})").message, "model not found");
  EXPECT_EQ(extractErrorText(R"({"object":"error","message":"m","code":400})").code, "400");
  EXPECT_EQ(extractErrorText("<html>502 Bad Gateway</html>").message, "");
  UpstreamFailure html = classifyHttpError("p", {.status = 400, .body = "<html>oops</html>"});
  EXPECT_EQ(html.error.client_message, "The provider (p) rejected the request (HTTP 400).");
}

TEST(UpstreamErrorsTest, DetectsContextOverflowInEachProvidersWords) {
  for (const char* message :
       {"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens",
        "prompt is too long: 215000 tokens > 200000 maximum",
        "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000",
        "the input length exceeds the context length",
        "Input is too long for the context window"}) {
    EXPECT_TRUE(isContextOverflow({.message = message})) << message;
  }
  EXPECT_TRUE(isContextOverflow({.code = "context_length_exceeded"}));
  EXPECT_FALSE(isContextOverflow({.message = "max_tokens: 200000 > 8192"}));
}

TEST(UpstreamErrorsTest, ClientSafeTextMasksSecretsAndBoundsLength) {
  EXPECT_EQ(
      clientSafeText("key sk-proj-abcdefghijklmnopqrstuvwxyz0123 refused").find("abcdefghijkl"),
      std::string::npos);
  EXPECT_EQ(clientSafeText("token Bearer abcdefghijklmnop!").find("abcdefghijklmnop"),
            std::string::npos);
  EXPECT_EQ(
      clientSafeText("azure 0123456789abcdef0123456789abcdef ok").find("0123456789abcdef0123"),
      std::string::npos);
  EXPECT_EQ(clientSafeText("line\r\nbreak\x01"), "line  break ");
  std::string long_text(2000, 'a');
  for (std::size_t i = 10; i < long_text.size(); i += 11) {
    long_text[i] = ' ';  // short words: nothing to mask
  }
  EXPECT_LE(clientSafeText(long_text).size(), 520U);
  std::string utf8;
  for (int i = 0; i < 400; ++i) {
    utf8 += "é ";
  }
  std::string cut = clientSafeText(utf8);
  EXPECT_EQ(cut.substr(cut.size() - 3), "…");
  EXPECT_NE(static_cast<unsigned char>(cut[cut.size() - 4]), 0xC3) << "no split sequence";
}

TEST(UpstreamErrorsTest, ProbeVerdictsByStatus) {
  EXPECT_EQ(probeFromStatus("p", 200).outcome, ModelsProbe::Outcome::kOk);
  EXPECT_EQ(probeFromStatus("p", 401).outcome, ModelsProbe::Outcome::kKeyRefused);
  EXPECT_EQ(probeFromStatus("p", 403).outcome, ModelsProbe::Outcome::kNoPermission);
  EXPECT_EQ(probeFromStatus("p", 429).outcome, ModelsProbe::Outcome::kRateLimited);
  EXPECT_EQ(probeFromStatus("p", 502).outcome, ModelsProbe::Outcome::kUnavailable);
  EXPECT_EQ(probeFromStatus("p", 404).outcome, ModelsProbe::Outcome::kUnexpected);
  EXPECT_EQ(toString(ModelsProbe::Outcome::kNoPermission), "no_permission");
}

TEST(UpstreamErrorsTest, StreamErrorEventIsTheOpenAiErrorShape) {
  Error e = fail(ErrorCode::kUpstreamUnavailable, "gone");
  EXPECT_EQ(streamErrorEvent(e), "data: " + openAiErrorJson(e) + "\n\n");
}

// A provider key planted in every place an upstream can echo it never reaches a client message,
// an OpenAI error body or the log detail, for any adapter and status.
TEST(UpstreamErrorsTest, NeverEchoesAPlantedKey) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  const std::vector<std::string> canaries = {
      "sk-proj-CANARYcanary0123456789abcdefghij",
      "sk-ant-api03-CANARYcanary0123456789abcdef",
      "0123456789abcdef0123456789abcdef",  // Azure keys: 32 hex
      "lvr_live_CANARYcanary0123456789"};
  for (const auto& key : canaries) {
    const std::vector<std::string> bodies = {
        R"({"error":{"message":"Incorrect API key provided: )" + key +
            R"(.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
        R"({"type":"error","error":{"type":"invalid_request_error","message":"bad key )" + key +
            R"("}})",
        R"({"error":{"message":"x","type":")" + key + R"(","code":")" + key + R"(","param":")" +
            key + R"("}})",
        R"({"error":")" + key + R"("})",
        R"({"object":"error","message":"Authorization: Bearer )" + key + R"(","code":400})",
        "Bearer " + key,
    };
    for (auto name : registry.names()) {
      for (int status : {400, 401, 403, 404, 408, 413, 422, 429, 500, 503, 529}) {
        for (const auto& body : bodies) {
          UpstreamFailure f = registry.find(name)->classifyError(
              {.status = status, .body = body, .retry_after = key});
          std::string client = openAiErrorJson(f.error);
          EXPECT_EQ(client.find(key), std::string::npos) << name << " " << status << " " << client;
          EXPECT_EQ(f.error.log_detail.find(key), std::string::npos)
              << name << " " << status << " " << f.error.log_detail;
        }
      }
    }
    // And in stream error events.
    auto request = parseChatRequest(
        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})");
    ASSERT_TRUE(request.has_value());
    for (auto name : registry.names()) {
      auto t = registry.find(name)->makeStreamTranslator(*request, {});
      sse::SseEvent event;
      event.event = "error";
      event.data =
          R"({"type":"error","error":{"type":"authentication_error","message":")" + key + R"("}})";
      std::string out;
      StreamStep step = t->onEvent(event, out);
      ASSERT_TRUE(step.failure.has_value()) << name;
      EXPECT_EQ(streamErrorEvent(step.failure->error).find(key), std::string::npos) << name;
      EXPECT_EQ(out.find(key), std::string::npos) << name;
    }
  }
}

}  // namespace
}  // namespace livery::providers
