#include "providers/body_rewrite.hpp"

#include <random>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "unit/providers/golden_support.hpp"

namespace livery::providers {
namespace {

namespace json = boost::json;
using testing::sameJson;

ChatRequest parse(std::string body) {
  auto r = parseChatRequest(std::move(body));
  EXPECT_TRUE(r.has_value()) << r.error().client_message;
  return r.has_value() ? std::move(*r) : ChatRequest{};
}

TEST(PromptLayersTest, JoinsNonEmptyLayersWithABlankLine) {
  EXPECT_EQ(layeredSystemPrompt({"policy", "tenant"}), "policy\n\ntenant");
  EXPECT_EQ(layeredSystemPrompt({"", "tenant"}), "tenant");
  EXPECT_EQ(layeredSystemPrompt({"policy", ""}), "policy");
  EXPECT_EQ(layeredSystemPrompt({"", ""}), "");
}

TEST(BodyRewriteTest, ReplacesTheModelAndKeepsEverythingElse) {
  auto req = parse(
      R"({"model":"alias","temperature":0.3,"messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100}})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(req, {.model = "gpt-4o-2024-08-06"}),
      R"({"model":"gpt-4o-2024-08-06","temperature":0.3,"messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100}})"));
  EXPECT_TRUE(sameJson(rewriteChatBody(req, {}), req.body)) << "an empty model keeps the client's";
}

TEST(BodyRewriteTest, MergesThePromptIntoALeadingSystemMessage) {
  auto req = parse(
      R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(req, {.system_prompt = "Policy.\n\nTenant."}),
      R"({"model":"m","messages":[{"role":"system","content":"Policy.\n\nTenant.\n\nBe brief."},{"role":"user","content":"hi"}]})"));
}

TEST(BodyRewriteTest, PrependsATextPartToALeadingSystemMessageWithParts) {
  auto req = parse(
      R"({"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"Be brief."}]},{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(req, {.system_prompt = "Tenant."}),
      R"({"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"Tenant.\n\n"},{"type":"text","text":"Be brief."}]},{"role":"user","content":"hi"}]})"));
  auto empty = parse(
      R"({"model":"m","messages":[{"role":"system","content":[]},{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(empty, {.system_prompt = "Tenant."}),
      R"({"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"Tenant."}]},{"role":"user","content":"hi"}]})"));
}

TEST(BodyRewriteTest, InsertsASystemMessageWhenTheFirstIsNotOne) {
  auto req = parse(
      R"({"model":"m","messages":[{"role":"user","content":"hi"},{"role":"system","content":"late"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(req, {.system_prompt = "Tenant."}),
      R"({"model":"m","messages":[{"role":"system","content":"Tenant."},{"role":"user","content":"hi"},{"role":"system","content":"late"}]})"));
  auto null_content = parse(
      R"({"model":"m","messages":[{"role":"system","content":null},{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(null_content, {.system_prompt = "T"}),
      R"({"model":"m","messages":[{"role":"system","content":"T"},{"role":"system","content":null},{"role":"user","content":"hi"}]})"));
}

TEST(BodyRewriteTest, EscapesThePromptWhateverItsBytes) {
  auto req = parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  std::string prompt = "quote\" backslash\\ newline\n tab\t ctrl\x01 bad\xff utf8 é";
  std::string out = rewriteChatBody(req, {.system_prompt = prompt});
  auto v = testing::parseJsonOrFail(out, "rewritten body");
  EXPECT_EQ(v.at("messages").at(0).at("content").as_string(),
            "quote\" backslash\\ newline\n tab\t ctrl\x01 bad\xEF\xBF\xBD utf8 é");
}

TEST(BodyRewriteTest, ForcesIncludeUsageOnlyWhenStreaming) {
  auto plain = parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(rewriteChatBody(plain, {}), plain.body));
  auto stream = parse(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(stream, {}),
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}})"));
  EXPECT_TRUE(sameJson(rewriteChatBody(stream, {.stream_usage = false}), stream.body));
  auto opted_out = parse(
      R"({"stream_options":{"include_obfuscation":false,"include_usage":false},"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(opted_out, {}),
      R"({"stream_options":{"include_usage":true,"include_obfuscation":false},"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})"));
  auto null_options = parse(
      R"({"model":"m","stream":true,"stream_options":null,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(sameJson(
      rewriteChatBody(null_options, {}),
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})"));
}

TEST(BodyRewriteTest, DropsMockResponseWhereverItIs) {
  for (
      std::string body :
      {R"({"mock_response":"x","model":"m","messages":[{"role":"user","content":"hi"}]})",
       R"({"model":"m","mock_response":"x","messages":[{"role":"user","content":"hi"}]})",
       R"({"model":"m","messages":[{"role":"user","content":"hi"}],"mock_response":"x"})",
       R"( { "model" : "m" ,  "messages" : [{"role":"user","content":"hi"}] , "mock_response" : null } )"}) {
    auto req = parse(body);
    EXPECT_TRUE(sameJson(rewriteChatBody(req, {}),
                         R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"))
        << body;
  }
}

TEST(BodyRewriteTest, RewritesEmbeddingsModelOnly) {
  auto req = parseEmbeddingsRequest(R"({"input":["a","b"],"model":"alias","dimensions":256})");
  ASSERT_TRUE(req.has_value());
  EXPECT_TRUE(sameJson(rewriteEmbeddingsBody(*req, "text-embedding-3-large"),
                       R"({"input":["a","b"],"model":"text-embedding-3-large","dimensions":256})"));
}

// ---- property: the splice equals an independent rewrite done on a parsed document ----

std::string ws(std::mt19937& rng) {
  static const char* kSpaces[] = {"", "", "", " ", "\n  ", "\t", " \r\n "};
  return kSpaces[rng() % 7];
}

std::string randomBody(std::mt19937& rng) {
  std::vector<std::string> members;
  auto add = [&](std::string key, std::string value) {
    members.push_back(ws(rng) + "\"" + key + "\"" + ws(rng) + ":" + ws(rng) + value + ws(rng));
  };
  add("model", "\"client-model\"");
  std::string messages = "[";
  int first = static_cast<int>(rng() % 4);
  if (first == 1) {
    messages += R"({"role":"system","content":"Own rules \u00e9 \"q\""},)";
  } else if (first == 2) {
    messages += R"({"content":[{"type":"text","text":"Own rules"}],"role":"developer"},)";
  } else if (first == 3) {
    messages += R"({"role":"system","content":[]},)";
  }
  messages += R"({"role":"user","content":"hello"})";
  if (rng() % 2 == 0) {
    messages +=
        R"(,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"})";
  }
  messages += "]";
  add("messages", messages);
  if (rng() % 2 == 0) {
    add("stream", rng() % 2 == 0 ? "true" : "false");
  }
  switch (rng() % 4) {
    case 0:
      add("stream_options", R"({"include_usage":false})");
      break;
    case 1:
      add("stream_options", R"({"include_obfuscation":true})");
      break;
    case 2:
      add("stream_options", "null");
      break;
    default:
      break;
  }
  if (rng() % 2 == 0) {
    add("mock_response", "\"canned\"");
  }
  if (rng() % 2 == 0) {
    add("temperature", "0.25");
  }
  if (rng() % 2 == 0) {
    add("metadata", R"({"a":[1,{"b":null}],"c":"d"})");
  }
  if (rng() % 2 == 0) {
    add("tools", R"([{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])");
  }
  std::shuffle(members.begin(), members.end(), rng);
  std::string body = ws(rng) + "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    body += (i > 0 ? "," : "") + members[i];
  }
  return body + "}" + ws(rng);
}

// What the rewrite must produce, computed on a parsed document.
json::object expectedRewrite(const json::object& in,
                             std::string_view model,
                             std::string_view prompt,
                             bool stream_usage) {
  json::object out = in;
  out.erase("mock_response");
  if (!model.empty()) {
    out["model"] = model;
  }
  if (!prompt.empty()) {
    json::array& messages = out["messages"].as_array();
    json::object& first = messages[0].as_object();
    std::string_view role = first["role"].as_string();
    json::value& content = first["content"];
    if ((role == "system" || role == "developer") && content.is_string()) {
      content = std::string(prompt) + "\n\n" + std::string(content.as_string());
    } else if ((role == "system" || role == "developer") && content.is_array()) {
      json::object part;
      part["type"] = "text";
      part["text"] =
          content.as_array().empty() ? std::string(prompt) : std::string(prompt) + "\n\n";
      content.as_array().insert(content.as_array().begin(), std::move(part));
    } else {
      json::object system;
      system["role"] = "system";
      system["content"] = prompt;
      messages.insert(messages.begin(), std::move(system));
    }
  }
  const json::value* stream = in.if_contains("stream");
  if (stream_usage && stream != nullptr && stream->is_bool() && stream->get_bool()) {
    json::value& options = out["stream_options"];
    if (!options.is_object()) {
      options = json::object();
    }
    options.as_object()["include_usage"] = true;
  }
  return out;
}

TEST(BodyRewritePropertyTest, SpliceMatchesARewriteOfTheParsedDocument) {
  std::mt19937 rng(42);
  const std::vector<std::string> prompts = {"", "Tenant prompt.", "Policy \"x\"\n\nTenant é"};
  for (int round = 0; round < 500; ++round) {
    std::string body = randomBody(rng);
    auto req = parseChatRequest(body);
    ASSERT_TRUE(req.has_value()) << body << "\n" << req.error().client_message;
    const std::string& prompt = prompts[rng() % prompts.size()];
    const std::string model = rng() % 4 == 0 ? "" : "upstream-model";
    const bool stream_usage = rng() % 4 != 0;
    std::string out = rewriteChatBody(
        *req, {.model = model, .system_prompt = prompt, .stream_usage = stream_usage});
    auto in = testing::parseJsonOrFail(body, "input").as_object();
    auto want = expectedRewrite(in, model, prompt, stream_usage);
    ASSERT_TRUE(sameJson(out, json::serialize(want))) << "input: " << body;
    // And the output is itself a valid request the parser accepts.
    ASSERT_TRUE(parseChatRequest(out).has_value()) << out;
  }
}

}  // namespace
}  // namespace livery::providers
