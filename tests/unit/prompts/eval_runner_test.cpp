#include "prompts/eval_runner.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "support/co_test.hpp"
#include "support/fake_clock.hpp"
#include "unit/prompts/fake_chat_runner.hpp"

namespace livery::prompts {
namespace {

using testing::FakeChatRunner;

constexpr const char* kCanaryKey = "sk-live-CANARY0123456789abcdefCANARY";
constexpr const char* kCanaryPrompt = "CANARY-PROMPT-7f3a9c: never print me";

std::string line(const std::string& id, const std::string& user_text, const std::string& asserts) {
  return R"({"id":")" + id + R"(","messages":[{"role":"user","content":")" + user_text +
         R"("}],"assert":[)" + asserts + "]}\n";
}

EvalSubject subject(const std::string& dataset_text,
                    const std::string& meta_yaml = "eval:\n  model: gpt-4o-mini\n") {
  EvalSubject s;
  s.tenant_id = "tnt_acme";
  s.tenant_slug = "acme";
  s.version_id = "pv_3";
  s.version = 3;
  s.prompt = "You are Acme's assistant.";
  s.ref = "main";
  s.commit_id = std::string(40, 'c');
  auto meta = parsePromptMeta(meta_yaml);
  EXPECT_TRUE(meta) << meta.error().client_message;
  s.meta = *meta;
  auto ds = parseGoldenDataset(dataset_text);
  EXPECT_TRUE(ds) << ds.error().client_message;
  if (ds) {
    s.dataset = std::move(*ds);
  }
  return s;
}

// Echoes the last user message, so each case decides its own reply.
Result<std::string> echo(const ChatCall& call) {
  return call.messages.back().content;
}

class EvalRunnerTest : public ::testing::Test {
 protected:
  Result<EvalReport> run(FakeChatRunner& runner, EvalSubject s, EvalOptions options = {}) {
    EvalRunner eval(runner, clock_, options);
    return livery::testing::runAwaitable(eval.run(std::move(s)));
  }

  livery::testing::FakeClock clock_;
};

TEST_F(EvalRunnerTest, RunsEveryCaseAndReportsWhichAssertionFailedAndWhy) {
  FakeChatRunner runner(echo);
  std::string ds =
      line("greets", "Welcome to Acme", R"({"type":"contains","value":"Acme"})") +
      line("short",
           "Welcome to Acme, how can I help you today?",
           R"({"type":"contains","value":"Acme"},{"type":"max_length","value":20})") +
      line(
          "brand",
          "We love Globex",
          R"({"type":"not_contains","value":"globex","ignore_case":true},{"type":"contains","value":"Acme"})") +
      line("json", "{\\\"ok\\\":true}", R"({"type":"json_schema","schema":{"required":["ok"]}})");
  auto report = run(runner, subject(ds, "eval:\n  model: gpt-4o-mini\n  threshold: 0.5\n"));
  ASSERT_TRUE(report) << report.error().client_message;
  ASSERT_EQ(report->cases.size(), 4U);
  EXPECT_EQ(report->cases_total, 4U);
  EXPECT_EQ(report->cases_passed, 2U);
  EXPECT_TRUE(report->passed);  // 2/4 >= 50%
  EXPECT_DOUBLE_EQ(report->passRate(), 0.5);

  EXPECT_TRUE(report->cases[0].passed);
  EXPECT_EQ(report->cases[0].line, 1U);
  EXPECT_EQ(report->cases[0].reply_chars, 15U);
  const CaseResult& shortc = report->cases[1];
  EXPECT_FALSE(shortc.passed);
  ASSERT_EQ(shortc.failures.size(), 1U);
  EXPECT_EQ(shortc.failures[0].index, 1U);
  EXPECT_EQ(shortc.failures[0].type, "max_length");
  const CaseResult& brand = report->cases[2];
  ASSERT_EQ(brand.failures.size(), 2U);  // every failing assertion is listed
  EXPECT_EQ(brand.failures[0].type, "not_contains");
  EXPECT_EQ(brand.failures[1].type, "contains");
  EXPECT_TRUE(report->cases[3].passed);

  EXPECT_EQ(report->tenant_id, "tnt_acme");
  EXPECT_EQ(report->version_id, "pv_3");
  EXPECT_EQ(report->model, "gpt-4o-mini");
  EXPECT_EQ(report->content_sha256, sha256Hex("You are Acme's assistant."));
  EXPECT_EQ(report->commit_id, std::string(40, 'c'));
}

TEST_F(EvalRunnerTest, ThresholdDefaultsToEveryCase) {
  FakeChatRunner runner(echo);
  std::string ds = line("a", "Acme", R"({"type":"contains","value":"Acme"})") +
                   line("b", "nope", R"({"type":"contains","value":"Acme"})");
  auto report = run(runner, subject(ds));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->cases_passed, 1U);
  EXPECT_FALSE(report->passed);
}

TEST(RequiredPassesTest, RoundsUpWithoutBinaryFractionSurprises) {
  EXPECT_EQ(requiredPasses(1.0, 3), 3U);
  EXPECT_EQ(requiredPasses(0.9, 10), 9U);
  EXPECT_EQ(requiredPasses(0.7, 10), 7U);  // 0.7 * 10 is 7.000000000000001 in binary
  EXPECT_EQ(requiredPasses(0.3, 10), 3U);
  EXPECT_EQ(requiredPasses(0.5, 3), 2U);
  EXPECT_EQ(requiredPasses(0.01, 10), 1U);
  EXPECT_EQ(requiredPasses(1.0, 0), 1U);  // an empty run never passes
}

TEST_F(EvalRunnerTest, ConcurrencyIsBoundedByPromptYamlAndTheOperatorCap) {
  std::string ds;
  for (int i = 0; i < 10; ++i) {
    ds += line("c" + std::to_string(i),
               "Acme " + std::to_string(i),
               R"({"type":"contains","value":"Acme"})");
  }
  FakeChatRunner runner(echo);
  runner.yields = 5;  // every call suspends, so cases overlap as much as allowed
  auto report = run(runner, subject(ds, "eval:\n  model: m\n  concurrency: 3\n"));
  ASSERT_TRUE(report);
  EXPECT_EQ(runner.max_in_flight, 3);
  EXPECT_EQ(runner.calls.size(), 10U);
  EXPECT_EQ(report->cases_passed, 10U);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(report->cases[static_cast<std::size_t>(i)].id, "c" + std::to_string(i));
  }

  FakeChatRunner capped(echo);
  capped.yields = 5;
  EvalOptions options;
  options.max_concurrency = 2;
  ASSERT_TRUE(run(capped, subject(ds, "eval:\n  model: m\n  concurrency: 16\n"), options));
  EXPECT_EQ(capped.max_in_flight, 2);

  FakeChatRunner serial(echo);
  serial.yields = 5;
  ASSERT_TRUE(run(serial, subject(ds, "eval:\n  model: m\n  concurrency: 1\n")));
  EXPECT_EQ(serial.max_in_flight, 1);
  for (int i = 0; i < 10; ++i) {  // cases start in dataset order
    EXPECT_EQ(serial.calls[static_cast<std::size_t>(i)].messages[0].content,
              "Acme " + std::to_string(i));
  }
}

TEST_F(EvalRunnerTest, ACaseThatNeverAnswersTimesOutAndIsCancelled) {
  FakeChatRunner runner(echo);
  runner.hang_when = [](const ChatCall& call) {
    return call.messages[0].content == "hang";
  };
  std::string ds = line("ok", "Acme", R"({"type":"contains","value":"Acme"})") +
                   line("stuck", "hang", R"({"type":"contains","value":"hang"})") +
                   line("ok2", "Acme", R"({"type":"contains","value":"Acme"})");
  EvalOptions options;
  options.max_case_timeout = std::chrono::milliseconds(50);
  auto start = std::chrono::steady_clock::now();
  auto report = run(runner, subject(ds), options);
  ASSERT_TRUE(report);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(runner.in_flight, 0);  // the hanging call was cancelled, not abandoned
  EXPECT_TRUE(report->cases[0].passed);
  EXPECT_TRUE(report->cases[2].passed);
  const CaseResult& stuck = report->cases[1];
  EXPECT_FALSE(stuck.passed);
  EXPECT_NE(stuck.error.find("no reply before the case deadline (50 ms)"), std::string::npos)
      << stuck.error;
  EXPECT_LE(runner.calls[1].timeout, std::chrono::milliseconds(50));
  EXPECT_GT(runner.calls[1].timeout, std::chrono::milliseconds(0));
}

TEST_F(EvalRunnerTest, RunnerErrorsShowOnlyTheirClientSafeMessage) {
  FakeChatRunner runner([](const ChatCall& call) -> Result<std::string> {
    if (call.messages[0].content == "throw") {
      throw std::runtime_error(std::string("upstream said ") + kCanaryKey);
    }
    return fail(ErrorCode::kUpstreamAuth,
                "the provider refused the tenant's key",
                std::string("Authorization: Bearer ") + kCanaryKey);
  });
  std::string ds = line("refused", "hi", R"({"type":"contains","value":"x"})") +
                   line("thrown", "throw", R"({"type":"contains","value":"x"})");
  auto report = run(runner, subject(ds));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->cases[0].error, "the provider refused the tenant's key");
  EXPECT_NE(report->cases[1].error.find("internal error"), std::string::npos);
  for (const std::string& out : {renderText(*report), toJson(*report)}) {
    EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  }
}

TEST_F(EvalRunnerTest, TheCandidatePromptIsSentButNeverReported) {
  FakeChatRunner runner(echo);
  EvalSubject s = subject(line("a", "Acme", R"({"type":"contains","value":"Acme"})"),
                          "eval:\n  model: gpt-4o-mini\n  temperature: 0.2\n  max_tokens: 300\n");
  s.prompt = kCanaryPrompt;
  s.dataset.cases[0].user = "ana-42";
  auto report = run(runner, std::move(s));
  ASSERT_TRUE(report);
  ASSERT_EQ(runner.calls.size(), 1U);
  const ChatCall& call = runner.calls[0];
  EXPECT_EQ(call.purpose, ChatPurpose::kCase);
  EXPECT_EQ(call.tenant_id, "tnt_acme");
  EXPECT_EQ(call.model, "gpt-4o-mini");
  EXPECT_EQ(call.prompt_template, kCanaryPrompt);
  EXPECT_EQ(call.prompt_version_id, "pv_3");
  EXPECT_EQ(call.end_user, "ana-42");
  EXPECT_EQ(call.temperature, 0.2);
  EXPECT_EQ(call.max_tokens, 300U);
  EXPECT_EQ(call.messages, (std::vector<ChatMessage>{{"user", "Acme"}}));
  EXPECT_EQ(report->content_sha256, sha256Hex(kCanaryPrompt));
  for (const std::string& out : {renderText(*report), toJson(*report)}) {
    EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  }
}

// A judge that fails replies mentioning Globex, answers garbage when asked to, and records what
// it was sent.
Result<std::string> judgeOrEcho(const ChatCall& call) {
  if (call.purpose == ChatPurpose::kCase) {
    return call.messages.back().content;
  }
  const std::string& task = call.messages.back().content;
  std::string reply = task.substr(task.find("Reply to grade: "));
  if (reply.find("garbage") != std::string::npos) {
    return std::string("I think it passes!");
  }
  if (reply.find("Globex") != std::string::npos) {
    return std::string(R"({"verdict":"fail","reason":"Recommends Globex."})");
  }
  return std::string(R"({"verdict":"pass","reason":"Fine."})");
}

TEST_F(EvalRunnerTest, JudgeAssertionsAskTheJudgeModelWithoutTheTenantPrompt) {
  FakeChatRunner runner(judgeOrEcho);
  const std::string judge = R"({"type":"judge","rubric":"Must not recommend competitors."})";
  std::string ds = line("fine", "Buy Acme", judge) + line("competitor", "Buy Globex", judge) +
                   line("garbage", "garbage", judge) +
                   line("local-fail", "nope", R"({"type":"contains","value":"Acme"},)" + judge);
  auto report = run(runner,
                    subject(ds,
                            "eval:\n  model: gpt-4o-mini\n  concurrency: 1\n"
                            "judge:\n  model: gpt-4o\n  max_tokens: 100\n"));
  ASSERT_TRUE(report) << report.error().client_message;
  EXPECT_TRUE(report->cases[0].passed);
  ASSERT_EQ(report->cases[1].failures.size(), 1U);
  EXPECT_EQ(report->cases[1].failures[0].type, "judge");
  EXPECT_EQ(report->cases[1].failures[0].message, "the judge failed the reply: Recommends Globex.");
  ASSERT_EQ(report->cases[2].failures.size(), 1U);
  EXPECT_NE(report->cases[2].failures[0].message.find("not a verdict"), std::string::npos);
  EXPECT_EQ(report->cases[3].judges_skipped, 1U);

  // 4 case calls + 3 judge calls (none for the case that had already failed).
  ASSERT_EQ(runner.calls.size(), 7U);
  const ChatCall& jc = runner.calls[1];
  EXPECT_EQ(jc.purpose, ChatPurpose::kJudge);
  EXPECT_EQ(jc.model, "gpt-4o");
  EXPECT_TRUE(jc.prompt_template.empty());
  EXPECT_TRUE(jc.prompt_version_id.empty());
  EXPECT_EQ(jc.max_tokens, 100U);
  EXPECT_EQ(jc.temperature, 0.0);
  EXPECT_EQ(
      jc.messages,
      buildJudgeMessages("Must not recommend competitors.", {{"user", "Buy Acme"}}, "Buy Acme"));
}

TEST_F(EvalRunnerTest, JudgeAssertionsNeedJudgeSettingsBeforeAnyCallIsMade) {
  FakeChatRunner runner(judgeOrEcho);
  auto report = run(runner, subject(line("a", "x", R"({"type":"judge","rubric":"r"})")));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kUnprocessable);
  EXPECT_NE(report.error().client_message.find("judge.model"), std::string::npos);
  EXPECT_TRUE(runner.calls.empty());
}

TEST_F(EvalRunnerTest, LatencyComesFromTheInjectedClock) {
  FakeChatRunner runner(echo);
  runner.clock = &clock_;
  runner.latency = std::chrono::milliseconds(250);
  std::string ds = line("a", "Acme", R"({"type":"contains","value":"Acme"})") +
                   line("b", "Acme", R"({"type":"contains","value":"Acme"})");
  auto report = run(runner, subject(ds, "eval:\n  model: m\n  concurrency: 1\n"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->cases[0].latency_ms, 250);
  EXPECT_EQ(report->cases[1].latency_ms, 250);
  EXPECT_EQ(report->duration_ms, 500);
}

TEST_F(EvalRunnerTest, AnOversizedReplyFailsItsCase) {
  FakeChatRunner runner(echo);
  EvalOptions options;
  options.max_reply_bytes = 10;
  auto report = run(runner,
                    subject(line("a", "Acme Acme Acme", R"({"type":"contains","value":"Acme"})")),
                    options);
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->cases[0].passed);
  EXPECT_NE(report->cases[0].error.find("more than the limit of 10"), std::string::npos);
}

TEST_F(EvalRunnerTest, TheTextReportListsCasesFailuresAndThePassRate) {
  FakeChatRunner runner(echo);
  std::string ds = line("greets", "Welcome to Acme", R"({"type":"contains","value":"Acme"})") +
                   line("refuses", "Sure, Globex", R"({"type":"not_contains","value":"Globex"})");
  auto report = run(runner, subject(ds));
  ASSERT_TRUE(report);
  std::string text = renderText(*report);
  EXPECT_NE(text.find("tenant acme: v3 (pv_3)"), std::string::npos) << text;
  EXPECT_NE(text.find("  PASS  greets"), std::string::npos) << text;
  EXPECT_NE(text.find("  FAIL  refuses"), std::string::npos) << text;
  EXPECT_NE(text.find("assert[0] not_contains: the reply contains \"Globex\" at character 6"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Pass rate: 1/2 (50%), needs 2/2 (threshold 100%): FAILED"),
            std::string::npos)
      << text;
}

// The lead may await run() from the gateway's multi-threaded io_context: the cases of a run stay
// on one strand, so the runner and the run's state are never touched by two threads at once
// (the tsan preset runs this).
TEST_F(EvalRunnerTest, RunsOnAMultiThreadedExecutor) {
  std::string ds;
  for (int i = 0; i < 40; ++i) {
    ds += line("c" + std::to_string(i), "Acme", R"({"type":"contains","value":"Acme"})");
  }
  FakeChatRunner runner(echo);
  runner.yields = 3;
  EvalRunner eval(runner, clock_);
  net::io_context ioc;
  auto future = net::co_spawn(
      ioc, eval.run(subject(ds, "eval:\n  model: m\n  concurrency: 8\n")), net::use_future);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ioc] { ioc.run(); });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto report = future.get();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->cases_passed, 40U);
  EXPECT_EQ(runner.calls.size(), 40U);
  EXPECT_LE(runner.max_in_flight, 8);
}

TEST(EvalReportTest, JsonCarriesWhatThePromotionGateChecks) {
  EvalReport r;
  r.tenant_id = "tnt_a";
  r.version_id = "pv_1";
  r.version = 1;
  r.content_sha256 = sha256Hex("p");
  r.commit_id = std::string(40, 'a');
  r.threshold = 0.9;
  r.cases_total = 10;
  r.cases_passed = 9;
  r.passed = true;
  r.cases.push_back({"c1", 1, false, "timeout", {{0, "contains", "why"}}, 1, 12, 3});
  auto summary = parseEvalSummary(toJson(r));
  ASSERT_TRUE(summary) << summary.error().client_message;
  EXPECT_EQ(summary->version_id, "pv_1");
  EXPECT_EQ(summary->content_sha256, r.content_sha256);
  EXPECT_EQ(summary->commit_id, r.commit_id);
  EXPECT_TRUE(summary->passed);
  EXPECT_EQ(summary->cases_total, 10U);
  EXPECT_EQ(summary->cases_passed, 9U);
  EXPECT_DOUBLE_EQ(summary->threshold, 0.9);
  for (const char* bad :
       {"", "{}", "[]", R"({"format":2})", "not json", R"({"format":1,"version_id":"x"})"}) {
    EXPECT_FALSE(parseEvalSummary(bad)) << bad;
  }
}

}  // namespace
}  // namespace livery::prompts
