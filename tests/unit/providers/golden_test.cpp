// Data-driven golden tests (STYLE §3 #20, DuckDB-style): every fixture case under
// tests/fixtures/providers/<adapter>/ is one test. Adding a fixture needs no code; the format is
// described in tests/fixtures/providers/README.md.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "providers/chat_request.hpp"
#include "providers/registry.hpp"
#include "providers/sse/sse_parser.hpp"
#include "unit/providers/golden_support.hpp"

namespace livery::providers {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::readFile;
using testing::sameJson;
using testing::sameSse;

const fs::path kRoot = fs::path(LIVERY_SOURCE_DIR) / "tests" / "fixtures" / "providers";

struct GoldenCase {
  std::string adapter;
  std::string name;
  fs::path dir;

  fs::path file(std::string_view suffix) const { return dir / (name + std::string(suffix)); }
  bool has(std::string_view suffix) const { return fs::exists(file(suffix)); }
};

// gtest prints the parameter of a failing case: name it instead of dumping its bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << c.adapter << "/" << c.name;
}

std::vector<GoldenCase> discover() {
  std::vector<GoldenCase> cases;
  if (!fs::is_directory(kRoot)) {
    return cases;
  }
  for (const auto& adapter_dir : fs::directory_iterator(kRoot)) {
    if (!adapter_dir.is_directory()) {
      continue;
    }
    std::set<std::string> names;
    for (const auto& f : fs::directory_iterator(adapter_dir.path())) {
      std::string file = f.path().filename().string();
      if (auto dot = file.find('.'); dot != std::string::npos && dot > 0) {
        names.insert(file.substr(0, dot));
      }
    }
    for (const auto& name : names) {
      cases.push_back({adapter_dir.path().filename().string(), name, adapter_dir.path()});
    }
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) {
    return a.adapter + a.name < b.adapter + b.name;
  });
  return cases;
}

std::string testName(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string s = info.param.adapter + "_" + info.param.name;
  for (char& c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      c = '_';
    }
  }
  return s;
}

std::string str(const json::object& o, std::string_view key, std::string_view fallback = {}) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string(fallback);
}

std::int64_t num(const json::object& o, std::string_view key, std::int64_t fallback) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<std::int64_t>() : fallback;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {
 protected:
  void SetUp() override {
    const GoldenCase& c = GetParam();
    registerBuiltinProviders(registry_);
    adapter_ = registry_.find(c.adapter);
    ASSERT_NE(adapter_, nullptr) << "no adapter named " << c.adapter;
    if (c.has(".case.json")) {
      meta_ = testing::parseJsonOrFail(readFile(c.file(".case.json")), "case.json").as_object();
    }
    if (const json::value* t = meta_.if_contains("target"); t != nullptr && t->is_object()) {
      base_url_ = str(t->get_object(), "base_url");
      model_ = str(t->get_object(), "model", "upstream-model");
      if (const json::value* o = t->get_object().if_contains("options")) {
        options_ = json::serialize(*o);
      }
    }
    target_ = Target{base_url_, model_, options_};
    ctx_.created_unix_s = num(meta_, "created", 1700000000);
  }

  UpstreamReply reply(std::string_view body) const {
    UpstreamReply r;
    r.status = static_cast<int>(num(meta_, "upstream_status", 200));
    r.body = body;
    if (const json::value* h = meta_.if_contains("upstream_headers"); h != nullptr) {
      for (const auto& kv : h->as_object()) {
        if (kv.key() == "retry-after") {
          r.retry_after = kv.value().as_string();
        } else if (kv.key() == "retry-after-ms") {
          r.retry_after_ms = kv.value().as_string();
        }
      }
    }
    return r;
  }

  void expectUpstreamRequest(const UpstreamRequest& up) const {
    const GoldenCase& c = GetParam();
    ASSERT_TRUE(c.has(".upstream_request.json"))
        << "missing " << c.name << ".upstream_request.json";
    auto expected =
        testing::parseJsonOrFail(readFile(c.file(".upstream_request.json")), "upstream_request")
            .as_object();
    EXPECT_EQ(up.method, str(expected, "method"));
    EXPECT_EQ(up.url, str(expected, "url"));
    json::object headers;
    for (const auto& [name, value] : up.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) {
        return static_cast<char>(std::tolower(ch));
      });
      EXPECT_FALSE(headers.contains(lower)) << "duplicate header " << name;
      headers[lower] = value;
    }
    json::object want_headers;
    for (const auto& kv : expected["headers"].as_object()) {
      std::string lower(kv.key());
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) {
        return static_cast<char>(std::tolower(ch));
      });
      want_headers[lower] = kv.value();
    }
    EXPECT_TRUE(testing::jsonEqual(headers, want_headers))
        << "headers " << json::serialize(headers) << " != " << json::serialize(want_headers);
    const auto& auth = expected["auth"].as_object();
    EXPECT_EQ(up.auth.header, str(auth, "header"));
    EXPECT_EQ(up.auth.prefix, str(auth, "prefix"));
    const json::value& body = expected["body"];
    if (body.is_null()) {
      EXPECT_TRUE(up.body.empty());
    } else {
      EXPECT_TRUE(sameJson(up.body, json::serialize(body)));
    }
  }

  void expectUsage(const Usage& usage) const {
    const json::value* u = meta_.if_contains("usage");
    if (u == nullptr) {
      return;
    }
    const auto& o = u->as_object();
    EXPECT_EQ(usage.prompt_tokens, static_cast<std::uint64_t>(num(o, "prompt_tokens", 0)));
    EXPECT_EQ(usage.completion_tokens, static_cast<std::uint64_t>(num(o, "completion_tokens", 0)));
    EXPECT_EQ(usage.cached_tokens, static_cast<std::uint64_t>(num(o, "cached_tokens", 0)));
    EXPECT_EQ(usage.cache_write_tokens,
              static_cast<std::uint64_t>(num(o, "cache_write_tokens", 0)));
    EXPECT_EQ(usage.reasoning_tokens, static_cast<std::uint64_t>(num(o, "reasoning_tokens", 0)));
    const json::value* reported = o.if_contains("reported");
    EXPECT_EQ(usage.reported, reported == nullptr || reported->as_bool());
  }

  void expectFailure(const UpstreamFailure& f) const {
    const json::value* fv = meta_.if_contains("failure");
    ASSERT_NE(fv, nullptr) << "the case failed but case.json has no \"failure\" expectation: "
                           << f.error.client_message;
    const auto& o = fv->as_object();
    EXPECT_EQ(httpStatus(f.error), num(o, "client_status", -1)) << f.error.client_message;
    auto flag = [&](std::string_view key) {
      const json::value* v = o.if_contains(key);
      return v != nullptr && v->as_bool();
    };
    EXPECT_EQ(f.retryable, flag("retryable"));
    EXPECT_EQ(f.fallback_eligible, flag("fallback_eligible"));
    EXPECT_EQ(f.context_window_exceeded, flag("context_window_exceeded"));
    EXPECT_EQ(f.credential_refused, flag("credential_refused"));
    const json::value* ra = o.if_contains("retry_after_s");
    if (ra != nullptr && !ra->is_null()) {
      ASSERT_TRUE(f.retry_after_s.has_value());
      EXPECT_EQ(*f.retry_after_s, ra->to_number<int>());
    } else {
      EXPECT_FALSE(f.retry_after_s.has_value());
    }
  }

  // Feeds the upstream SSE through the parser (split into chunks of `chunk` bytes; 0: whole)
  // and the translator, the way the gateway does. A failure after the translation started is
  // written as the gateway writes it (streamErrorEvent).
  std::string runStream(const ChatRequest& request,
                        const std::string& upstream,
                        std::size_t chunk,
                        std::optional<UpstreamFailure>& failure,
                        Usage& usage) const {
    auto translator = adapter_->makeStreamTranslator(request, ctx_);
    sse::SseParser parser;
    std::string out;
    bool done = false;
    auto on_event = [&](const sse::SseEvent& ev) {
      if (done || failure) {
        return;
      }
      StreamStep step = translator->onEvent(ev, out);
      done = step.done;
      failure = step.failure;
    };
    std::string_view rest = upstream;
    while (!rest.empty()) {
      std::size_t n = chunk == 0 ? rest.size() : std::min(chunk, rest.size());
      EXPECT_TRUE(parser.feed(rest.substr(0, n), on_event).has_value());
      rest.remove_prefix(n);
    }
    EXPECT_FALSE(parser.finish()) << "upstream.sse ends with an incomplete event";
    if (!done && !failure) {
      StreamStep step = translator->onEnd(out);
      done = step.done;
      failure = step.failure;
    }
    if (failure) {
      out += streamErrorEvent(failure->error);
    }
    usage = translator->usage();
    return out;
  }

  void runChat() {
    const GoldenCase& c = GetParam();
    ASSERT_TRUE(c.has(".request.json"));
    auto request = parseChatRequest(readFile(c.file(".request.json")));
    ASSERT_TRUE(request.has_value()) << request.error().client_message;
    auto up = adapter_->buildChatRequest(*request, target_, str(meta_, "system_prompt"));
    if (const json::value* be = meta_.if_contains("build_error")) {
      ASSERT_FALSE(up.has_value()) << "expected the build to fail";
      const auto& o = be->as_object();
      EXPECT_EQ(httpStatus(up.error()), num(o, "client_status", -1));
      EXPECT_EQ(up.error().param, str(o, "param"));
      return;
    }
    ASSERT_TRUE(up.has_value()) << up.error().client_message;
    EXPECT_EQ(up->stream, request->stream);
    expectUpstreamRequest(*up);

    if (c.has(".upstream.sse")) {
      ASSERT_TRUE(c.has(".expected.sse"));
      std::string upstream = readFile(c.file(".upstream.sse"));
      std::optional<UpstreamFailure> failure;
      Usage usage;
      std::string out = runStream(*request, upstream, 0, failure, usage);
      EXPECT_TRUE(sameSse(out, readFile(c.file(".expected.sse"))));
      expectUsage(usage);
      if (failure) {
        expectFailure(*failure);
      } else {
        EXPECT_EQ(meta_.if_contains("failure"), nullptr) << "expected the stream to fail";
      }
      // The same bytes whatever the upstream's chunking.
      for (std::size_t chunk : {1, 7, 64}) {
        std::optional<UpstreamFailure> f2;
        Usage u2;
        EXPECT_EQ(runStream(*request, upstream, chunk, f2, u2), out) << "chunk " << chunk;
        EXPECT_EQ(u2, usage);
      }
      return;
    }
    ASSERT_TRUE(c.has(".upstream.json"));
    ASSERT_TRUE(c.has(".expected.json"));
    std::string upstream = readFile(c.file(".upstream.json"));
    UpstreamReply r = reply(upstream);
    if (r.status >= 200 && r.status <= 299) {
      auto parsed = adapter_->parseChatResponse(*request, r, ctx_);
      ASSERT_TRUE(parsed.has_value()) << parsed.error().client_message;
      EXPECT_TRUE(sameJson(parsed->body, readFile(c.file(".expected.json"))));
      expectUsage(parsed->usage);
      if (meta_.contains("finish_reason")) {
        EXPECT_EQ(parsed->finish_reason, str(meta_, "finish_reason"));
      }
    } else {
      UpstreamFailure f = adapter_->classifyError(r);
      EXPECT_TRUE(sameJson(openAiErrorJson(f.error), readFile(c.file(".expected.json"))));
      expectFailure(f);
    }
  }

  void runEmbeddings() {
    const GoldenCase& c = GetParam();
    auto request = parseEmbeddingsRequest(readFile(c.file(".request.json")));
    ASSERT_TRUE(request.has_value()) << request.error().client_message;
    auto up = adapter_->buildEmbeddingsRequest(*request, target_);
    if (const json::value* be = meta_.if_contains("build_error")) {
      ASSERT_FALSE(up.has_value());
      const auto& o = be->as_object();
      EXPECT_EQ(httpStatus(up.error()), num(o, "client_status", -1));
      EXPECT_EQ(up.error().param, str(o, "param"));
      return;
    }
    ASSERT_TRUE(up.has_value()) << up.error().client_message;
    expectUpstreamRequest(*up);
    std::string upstream = readFile(c.file(".upstream.json"));
    UpstreamReply r = reply(upstream);
    if (r.status >= 200 && r.status <= 299) {
      auto parsed = adapter_->parseEmbeddingsResponse(*request, r);
      ASSERT_TRUE(parsed.has_value()) << parsed.error().client_message;
      EXPECT_TRUE(sameJson(parsed->body, readFile(c.file(".expected.json"))));
      expectUsage(parsed->usage);
    } else {
      UpstreamFailure f = adapter_->classifyError(r);
      EXPECT_TRUE(sameJson(openAiErrorJson(f.error), readFile(c.file(".expected.json"))));
      expectFailure(f);
    }
  }

  void runModels() {
    const GoldenCase& c = GetParam();
    auto up = adapter_->buildListModelsRequest(target_);
    ASSERT_TRUE(up.has_value()) << up.error().client_message;
    expectUpstreamRequest(*up);
    std::string upstream = readFile(c.file(".upstream.json"));
    ModelsProbe probe = adapter_->parseListModelsResponse(reply(upstream));
    const auto& want = meta_.at("probe").as_object();
    EXPECT_EQ(toString(probe.outcome), str(want, "outcome")) << probe.message;
    EXPECT_EQ(static_cast<std::int64_t>(probe.model_count), num(want, "model_count", 0));
    EXPECT_FALSE(probe.message.empty());
  }

  ProviderRegistry registry_;
  const ProviderAdapter* adapter_ = nullptr;
  json::object meta_;
  std::string base_url_;
  std::string model_ = "upstream-model";
  std::string options_ = "{}";
  Target target_;
  ResponseContext ctx_;
};

TEST_P(GoldenTest, MatchesFixtures) {
  std::string endpoint = str(meta_, "endpoint", "chat");
  if (endpoint == "chat") {
    runChat();
  } else if (endpoint == "embeddings") {
    runEmbeddings();
  } else if (endpoint == "models") {
    runModels();
  } else {
    FAIL() << "unknown endpoint " << endpoint;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest, ::testing::ValuesIn(discover()), testName);

// Every adapter in the registry has fixtures, and every fixture folder names an adapter.
TEST(GoldenFixturesTest, CoverEveryRegisteredAdapter) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  std::set<std::string> with_fixtures;
  for (const auto& c : discover()) {
    with_fixtures.insert(c.adapter);
    EXPECT_NE(registry.find(c.adapter), nullptr)
        << "fixture folder for unknown adapter " << c.adapter;
  }
  for (auto name : registry.names()) {
    EXPECT_TRUE(with_fixtures.count(std::string(name)) == 1) << "no fixtures for " << name;
  }
}

}  // namespace
}  // namespace livery::providers
