// libFuzzer target for the SSE parser and the two stream translators that consume its events.
//
// Build and run (clang only; the normal build compiles this file into unit_providers_tests,
// where fuzz_corpus_test.cpp replays the seed corpus through the same entry point,
// sseParserFuzzOne, which LLVMFuzzerTestOneInput forwards to):
//
//   cmake -S . -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
//         -DCMAKE_BUILD_TYPE=Debug -DLIVERY_FUZZ=ON -DLIVERY_SANITIZE="address;undefined"
//         -DLIVERY_WARNINGS_AS_ERRORS=OFF                                   (one command line)
//   cmake --build build/fuzz --target sse_parser_fuzz
//   mkdir -p build/fuzz/work && build/fuzz/tests/sse_parser_fuzz -max_total_time=600
//         -max_len=4096 build/fuzz/work tests/fuzz/corpus/sse_parser
//   (new inputs go to the first directory; copy a crash input into the corpus to keep it)
// ctest in that build directory also runs a 10-second smoke per target (label fuzz-smoke).
//
// Input layout: byte 0 picks the event-size bound (16..4111 bytes), byte 1 the chunk size used
// for the split run; the rest is the stream. Invariants checked on every input:
//   - the events and the failure state do not depend on the split;
//   - no event is larger than the bound;
//   - the OpenAI and Anthropic translators accept any event sequence without crashing, their
//     output stays within a fixed factor of their input, and once done they write nothing more.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "providers/chat_request.hpp"
#include "providers/registry.hpp"
#include "providers/sse/sse_parser.hpp"

namespace livery::fuzz {

namespace {

struct Outcome {
  std::vector<providers::sse::SseEvent> events;
  bool failed = false;
};

Outcome parse(std::string_view input, std::size_t max, std::size_t chunk) {
  Outcome out;
  providers::sse::SseParser parser(max);
  while (!input.empty()) {
    std::size_t n = chunk == 0 ? input.size() : std::min(chunk, input.size());
    auto r = parser.feed(input.substr(0, n),
                         [&](const providers::sse::SseEvent& e) { out.events.push_back(e); });
    input.remove_prefix(n);
    if (!r) {
      out.failed = true;
      return out;
    }
  }
  parser.finish();
  return out;
}

std::string translate(const providers::ProviderRegistry& registry,
                      std::string_view adapter,
                      const providers::ChatRequest& request,
                      const std::vector<providers::sse::SseEvent>& events,
                      std::string& problem) {
  const providers::ProviderAdapter* a = registry.find(adapter);
  auto translator = a->makeStreamTranslator(request, {.created_unix_s = 1});
  std::string out;
  std::size_t in_bytes = 0;
  bool done = false;
  for (const auto& e : events) {
    in_bytes += e.data.size() + e.event.size();
    std::size_t before = out.size();
    auto step = translator->onEvent(e, out);
    if (done && out.size() != before) {
      problem = std::string(adapter) + ": wrote after done";
    }
    done = done || step.done;
    if (step.failure) {
      break;
    }
  }
  auto step = translator->onEnd(out);
  (void)step;
  // Every chunk is the event's text plus a bounded envelope (ids and model names come from
  // earlier events, so they are bounded by the input too).
  if (out.size() > 64 * in_bytes + 4096 * (events.size() + 1)) {
    problem = std::string(adapter) + ": output out of proportion to input";
  }
  return out;
}

}  // namespace

// Returns a description of the first violated invariant, or an empty string.
std::string checkSseInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return {};
  }
  const std::size_t max = 16 + static_cast<std::size_t>(data[0]) * 16;
  const std::size_t chunk = 1 + data[1] % 17;
  std::string_view input(reinterpret_cast<const char*>(data + 2),  // NOLINT(*-reinterpret-cast)
                         size - 2);
  Outcome whole = parse(input, max, 0);
  Outcome split = parse(input, max, chunk);
  if (whole.failed != split.failed || whole.events != split.events) {
    return "events depend on the split (chunk " + std::to_string(chunk) + ")";
  }
  for (const auto& e : whole.events) {
    if (e.data.size() + e.event.size() > max) {
      return "event larger than the bound";
    }
  }
  providers::ProviderRegistry registry;
  providers::registerBuiltinProviders(registry);
  auto request = providers::parseChatRequest(
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"x"}]})");
  if (!request) {
    return "fixture request did not parse";
  }
  std::string problem;
  translate(registry, "openai", *request, whole.events, problem);
  translate(registry, "anthropic", *request, whole.events, problem);
  return problem;
}

}  // namespace livery::fuzz

namespace livery::fuzz {

// The fuzz entry: aborts on a violated invariant. The unit build calls it directly on the corpus.
int sseParserFuzzOne(const std::uint8_t* data, std::size_t size) {
  std::string problem = checkSseInput(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "sse_parser_fuzz: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace livery::fuzz

#ifdef LIVERY_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return livery::fuzz::sseParserFuzzOne(data, size);
}
#endif
