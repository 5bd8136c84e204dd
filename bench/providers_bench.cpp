// Provider translation costs on the request path (issue 5 "Done when": the whole non-streaming
// path must stay under 25 µs of CPU, a 20-chunk stream under 40 µs, a 1 MiB body under 1 ms).
//
//   cmake --preset release && cmake --build --preset release --target providers_bench
//   build/release/bench/providers_bench

#include <string>

#include <benchmark/benchmark.h>

#include "providers/body_rewrite.hpp"
#include "providers/chat_request.hpp"
#include "providers/registry.hpp"
#include "providers/sse/sse_parser.hpp"

namespace livery::providers {
namespace {

// A typical ~1 KB chat request: a system message, a few turns, sampling parameters.
std::string typicalRequest(bool stream) {
  std::string body = R"({"model":"gpt-4o","temperature":0.7,"max_tokens":512,"user":"user-1234",)";
  if (stream) {
    body += R"("stream":true,)";
  }
  body += R"("messages":[{"role":"system","content":"You are a helpful assistant for an online )"
          R"(bookshop. Answer briefly and politely, and recommend at most three books."},)";
  for (int i = 0; i < 3; ++i) {
    body += R"({"role":"user","content":"I liked The Name of the Wind and The Lies of Locke )"
            R"(Lamora. What should I read next, and why would I like it?"},)";
    body += R"({"role":"assistant","content":"You might enjoy The Blade Itself by Joe )"
            R"(Abercrombie: sharp dialogue and morally grey characters."},)";
  }
  body += R"({"role":"user","content":"Thanks! Anything shorter?"}]})";
  return body;
}

// A 1 MiB request: one long document pasted into the user message.
std::string largeRequest() {
  std::string text;
  while (text.size() < 1024 * 1024) {
    text += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ";
  }
  return R"({"model":"gpt-4o","messages":[{"role":"system","content":"Summarise."},)"
         R"({"role":"user","content":")" +
         text + R"("}]})";
}

constexpr std::string_view kPrompt = "Policy: be safe.\n\nYou are the Acme bookshop assistant.";

void parseAndBuild(benchmark::State& state, const std::string& body, std::string_view adapter) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  const ProviderAdapter* a = registry.find(adapter);
  RequestParser parser;
  for (auto _ : state) {
    auto req = parser.parseChat(body);
    auto up = a->buildChatRequest(*req, {.model = "upstream-model"}, kPrompt);
    benchmark::DoNotOptimize(up->body.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void BM_OpenAiParseAndRewrite_1KB(benchmark::State& state) {
  parseAndBuild(state, typicalRequest(false), "openai");
}
BENCHMARK(BM_OpenAiParseAndRewrite_1KB);

void BM_OpenAiParseAndRewrite_1MiB(benchmark::State& state) {
  parseAndBuild(state, largeRequest(), "openai");
}
BENCHMARK(BM_OpenAiParseAndRewrite_1MiB)->Unit(benchmark::kMicrosecond);

void BM_AnthropicParseAndTranslate_1KB(benchmark::State& state) {
  parseAndBuild(state, typicalRequest(false), "anthropic");
}
BENCHMARK(BM_AnthropicParseAndTranslate_1KB);

// The splice alone, on an already parsed request.
void BM_RewriteOnly_1MiB(benchmark::State& state) {
  auto req = parseChatRequest(largeRequest());
  for (auto _ : state) {
    std::string out = rewriteChatBody(*req, {.model = "upstream-model", .system_prompt = kPrompt});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RewriteOnly_1MiB)->Unit(benchmark::kMicrosecond);

void BM_ParseOnly_1MiB(benchmark::State& state) {
  const std::string body = largeRequest();
  RequestParser parser;
  for (auto _ : state) {
    auto req = parser.parseChat(body);
    benchmark::DoNotOptimize(req->prompt_tokens_estimate);
  }
}
BENCHMARK(BM_ParseOnly_1MiB)->Unit(benchmark::kMicrosecond);

std::string anthropicStream(int text_chunks) {
  std::string s =
      "event: message_start\ndata: "
      "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAA"
      "CzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
      "\"claude-3-"
      "5-sonnet-20241022\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
      "25,"
      "\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: "
      "{\"type\":\"content_block_start\",\"index\":0,\"content_block"
      "\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
  for (int i = 0; i < text_chunks; ++i) {
    s +=
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"text_delta\",\"text\":\" some words of the answer\"}}\n\n";
  }
  s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
       "event: message_delta\ndata: "
       "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
       "\"stop_sequence\":null},\"usage\":{\"output_tokens\":120}}\n\n"
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return s;
}

std::string openAiStream(int text_chunks) {
  const std::string head =
      R"(data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,)"
      R"("model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":)";
  std::string s =
      head +
      R"({"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null})"
      "\n\n";
  for (int i = 0; i < text_chunks; ++i) {
    s +=
        head +
        R"({"content":" some words of the answer"},"logprobs":null,"finish_reason":null}],"usage":null})"
        "\n\n";
  }
  s += head + R"({},"logprobs":null,"finish_reason":"stop"}],"usage":null})"
              "\n\n";
  s +=
      R"(data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":120,"total_tokens":129}})"
      "\n\n";
  s += "data: [DONE]\n\n";
  return s;
}

// SSE parsing plus translation of a whole stream, fed as the upstream client would (one network
// read per event here).
void translateStream(benchmark::State& state, std::string_view adapter, const std::string& stream) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  auto req =
      parseChatRequest(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]})");
  std::string out;
  for (auto _ : state) {
    auto translator = registry.find(adapter)->makeStreamTranslator(*req, {.created_unix_s = 1});
    sse::SseParser parser;
    out.clear();
    bool done = false;
    auto r = parser.feed(
        stream, [&](const sse::SseEvent& e) { done = translator->onEvent(e, out).done || done; });
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(done);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_AnthropicStream_20Chunks(benchmark::State& state) {
  translateStream(state, "anthropic", anthropicStream(20));
}
BENCHMARK(BM_AnthropicStream_20Chunks);

void BM_OpenAiStream_20Chunks(benchmark::State& state) {
  translateStream(state, "openai", openAiStream(20));
}
BENCHMARK(BM_OpenAiStream_20Chunks);

void BM_OpenAiUsageExtraction(benchmark::State& state) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  auto req = parseChatRequest(typicalRequest(false));
  const std::string body =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,)"
      R"("model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":)"
      R"("The Blade Itself is a good next read: grim, funny and fast. For something shorter, try )"
      R"(The Emperor's Soul by Brandon Sanderson.","refusal":null,"annotations":[]},"logprobs":null,)"
      R"("finish_reason":"stop"}],"usage":{"prompt_tokens":245,"completion_tokens":38,)"
      R"("total_tokens":283,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
      R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default",)"
      R"("system_fingerprint":"fp_6ec83003ad"})";
  const ProviderAdapter* openai = registry.find("openai");
  for (auto _ : state) {
    auto reply = openai->parseChatResponse(*req, {.status = 200, .body = body}, {});
    benchmark::DoNotOptimize(reply->usage.prompt_tokens);
  }
}
BENCHMARK(BM_OpenAiUsageExtraction);

void BM_AnthropicResponseTranslation(benchmark::State& state) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  auto req = parseChatRequest(typicalRequest(false));
  const std::string body =
      R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":)"
      R"("claude-3-5-sonnet-20241022","content":[{"type":"text","text":"The Blade Itself is a good )"
      R"(next read: grim, funny and fast."}],"stop_reason":"end_turn","stop_sequence":null,)"
      R"("usage":{"input_tokens":245,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
      R"("output_tokens":38}})";
  const ProviderAdapter* anthropic = registry.find("anthropic");
  for (auto _ : state) {
    auto reply = anthropic->parseChatResponse(*req, {.status = 200, .body = body}, {});
    benchmark::DoNotOptimize(reply->body.data());
  }
}
BENCHMARK(BM_AnthropicResponseTranslation);

}  // namespace
}  // namespace livery::providers
