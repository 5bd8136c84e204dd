// libFuzzer target for the edge request parser, the body splice and the Anthropic translation.
// Built like sse_parser_fuzz.cpp (see there), as chat_request_fuzz:
//   build/fuzz/tests/chat_request_fuzz -max_total_time=600 build/fuzz/work
//         tests/fuzz/corpus/chat_request
//
// Invariants checked on every input that parses as a chat request:
//   - the spliced upstream body parses again as a chat request, with the upstream model, and
//     still says what the client said about streaming;
//   - the Anthropic translation either succeeds with a JSON body or refuses with kBadRequest;
//   - the embeddings parser never crashes (same bytes).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "providers/body_rewrite.hpp"
#include "providers/chat_request.hpp"
#include "providers/registry.hpp"

namespace livery::fuzz {

std::string checkChatInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);  // NOLINT(*-reinterpret-cast)
  providers::ParseLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.max_depth = 32;
  (void)providers::parseEmbeddingsRequest(body, limits);
  auto request = providers::parseChatRequest(body, limits);
  if (!request) {
    return request.error().code == ErrorCode::kBadRequest ||
                   request.error().code == ErrorCode::kPayloadTooLarge
               ? ""
               : "parse failed with an unexpected code";
  }
  std::string spliced = providers::rewriteChatBody(
      *request, {.model = "up\"stream", .system_prompt = "policy\n\"quoted\"\xff"});
  providers::ParseLimits relaxed = limits;
  relaxed.max_depth = 64;  // the splice never adds more than two levels
  auto again = providers::parseChatRequest(spliced, relaxed);
  if (!again) {
    return "spliced body does not parse: " + again.error().log_detail + " " +
           again.error().client_message;
  }
  if (again->model != "up\"stream" || again->stream != request->stream ||
      again->mock_response.has_value() || (request->stream && !again->include_usage)) {
    return "spliced body lost the rewrite";
  }
  providers::ProviderRegistry registry;
  providers::registerBuiltinProviders(registry);
  auto anthropic =
      registry.find("anthropic")->buildChatRequest(*request, {.model = "claude"}, "policy");
  if (!anthropic && anthropic.error().code != ErrorCode::kBadRequest) {
    return "anthropic translation failed with an unexpected code";
  }
  if (anthropic && !providers::parseChatRequest(
                       R"({"model":"m","messages":[{"role":"user","content":"x"}],"a":)" +
                       anthropic->body + "}")) {
    return "anthropic body is not JSON";
  }
  return {};
}

}  // namespace livery::fuzz

namespace livery::fuzz {

// The fuzz entry: aborts on a violated invariant. The unit build calls it directly on the corpus.
int chatRequestFuzzOne(const std::uint8_t* data, std::size_t size) {
  std::string problem = checkChatInput(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "chat_request_fuzz: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace livery::fuzz

#ifdef LIVERY_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return livery::fuzz::chatRequestFuzzOne(data, size);
}
#endif
