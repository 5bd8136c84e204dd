// Costs of the prompt evaluation gate (issue 11): assertion checks on a typical reply, RE2 on
// hostile patterns (linear in the input), JSON Schema validation, golden dataset parsing, the
// EvalRunner's own overhead per case, and the Git history walk used by sync. None of this is on
// the request path; the numbers bound how long `livery prompts eval` / `sync` spend outside the
// model calls.

#include <cstdio>
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "prompts/assertion.hpp"
#include "prompts/dataset.hpp"
#include "prompts/eval_runner.hpp"
#include "prompts/git_repository.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace livery;           // NOLINT(google-build-using-namespace): benchmark file
using namespace livery::prompts;  // NOLINT(google-build-using-namespace)

Assertion assertion(const std::string& json_text) {
  auto a = parseAssertion(boost::json::parse(json_text));
  if (!a) {
    std::abort();
  }
  return std::move(*a);
}

std::string typicalReply() {
  std::string reply;
  while (reply.size() < 4000) {
    reply += "Thank you for contacting Acme support. Returns are accepted within 30 days. ";
  }
  return reply;
}

void BM_ContainsIgnoreCase(benchmark::State& state) {
  Assertion a = assertion(R"({"type":"not_contains","value":"globex","ignore_case":true})");
  std::string reply = typicalReply();
  for (auto _ : state) {
    benchmark::DoNotOptimize(checkAssertion(a, reply));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * reply.size()));
}
BENCHMARK(BM_ContainsIgnoreCase);

void BM_RegexTypical(benchmark::State& state) {
  Assertion a = assertion(R"({"type":"regex","pattern":"\\b30\\s+days\\b","ignore_case":true})");
  std::string reply = typicalReply();
  for (auto _ : state) {
    benchmark::DoNotOptimize(checkAssertion(a, reply));
  }
}
BENCHMARK(BM_RegexTypical);

// ^(a+)+$ against "aaa…a!": exponential in a backtracking engine, linear with RE2.
void BM_RegexHostile(benchmark::State& state) {
  Assertion a = assertion(R"({"type":"regex","pattern":"^(a+)+$"})");
  std::string reply(static_cast<std::size_t>(state.range(0)), 'a');
  reply += '!';
  for (auto _ : state) {
    benchmark::DoNotOptimize(checkAssertion(a, reply));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * reply.size()));
}
BENCHMARK(BM_RegexHostile)->Arg(1'000)->Arg(10'000)->Arg(100'000);

void BM_JsonSchemaReply(benchmark::State& state) {
  Assertion a = assertion(
      R"({"type":"json_schema","schema":{"type":"object","required":["items"],"properties":{"items":{"type":"array","items":{"type":"object","required":["sku","qty"],"properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"},"qty":{"type":"integer","minimum":1}},"additionalProperties":false}}}}})");
  std::string reply = R"({"items":[)";
  for (int i = 0; i < 50; ++i) {
    reply += (i == 0 ? "" : ",") + std::string(R"({"sku":"ABC-1234","qty":3})");
  }
  reply += "]}";
  for (auto _ : state) {
    benchmark::DoNotOptimize(checkAssertion(a, reply));
  }
}
BENCHMARK(BM_JsonSchemaReply);

std::string dataset(int cases) {
  std::string text;
  for (int i = 0; i < cases; ++i) {
    text +=
        R"({"id":"case-)" + std::to_string(i) +
        R"(","messages":[{"role":"user","content":"How long do I have to return a machine?"}],"assert":[{"type":"contains","value":"Acme"},{"type":"regex","pattern":"\\b30\\s+days\\b"},{"type":"max_length","value":800}]})" +
        "\n";
  }
  return text;
}

void BM_ParseGoldenDataset500(benchmark::State& state) {
  std::string text = dataset(500);
  for (auto _ : state) {
    benchmark::DoNotOptimize(parseGoldenDataset(text));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseGoldenDataset500);

class InstantRunner final : public ChatRunner {
 public:
  explicit InstantRunner(std::string reply) : reply_(std::move(reply)) {}
  net::awaitable<Result<std::string>> complete(ChatCall /*call*/) override { co_return reply_; }

 private:
  std::string reply_;
};

// Everything the EvalRunner adds around the model calls: scheduling, deadlines, assertions,
// the report. Per case: time / 100.
void BM_EvalRunner100Cases(benchmark::State& state) {
  livery::testing::FakeClock clock;
  InstantRunner runner(typicalReply());
  EvalSubject subject;
  subject.tenant_id = "tnt_acme";
  subject.prompt = "You are Acme's assistant.";
  subject.meta.model = "gpt-4o-mini";
  subject.meta.concurrency = 8;
  subject.dataset = *parseGoldenDataset(dataset(100));
  EvalRunner eval(runner, clock);
  for (auto _ : state) {
    net::io_context ioc;
    auto fut = net::co_spawn(ioc, eval.run(subject), net::use_future);
    ioc.run();
    benchmark::DoNotOptimize(fut.get());
  }
}
BENCHMARK(BM_EvalRunner100Cases)->Unit(benchmark::kMillisecond);

// A linear history of `commits` commits where every 4th one changes the tenant's prompt, written
// with `git fast-import` (libgit2 loose-object writes would dominate the smoke run).
bool buildHistory(const std::string& dir, int commits) {
  std::string init = "git init -q -b main '" + dir + "'";
  if (std::system(init.c_str()) != 0) {  // NOLINT(cert-env33-c,concurrency-mt-unsafe): bench setup
    return false;
  }
  std::string cmd = "git -C '" + dir + "' fast-import --quiet";
  FILE* pipe = popen(cmd.c_str(), "w");  // NOLINT(cert-env33-c): bench setup
  if (pipe == nullptr) {
    return false;
  }
  std::string stream;
  for (int i = 0; i < commits; ++i) {
    std::string path = i % 4 == 0 ? "tenants/acme/prompt.md" : "tenants/other/notes.md";
    std::string msg = "c" + std::to_string(i);
    std::string content = "content " + std::to_string(i);
    std::string when = std::to_string(1'790'000'000 + i) + " +0000";
    stream += "commit refs/heads/main\nauthor A <a@example.com> " + when +
              "\ncommitter A <a@example.com> " + when + "\ndata " + std::to_string(msg.size()) +
              "\n" + msg + "\nM 100644 inline " + path + "\ndata " +
              std::to_string(content.size()) + "\n" + content + "\n\n";
  }
  std::fwrite(stream.data(), 1, stream.size(), pipe);
  return pclose(pipe) == 0;
}

void BM_GitHistoryWalk(benchmark::State& state) {
  livery::testing::TempDir dir;
  const int commits = static_cast<int>(state.range(0));
  if (!buildHistory(dir.str(), commits)) {
    state.SkipWithError("git fast-import is not available");
    return;
  }
  auto repo = GitRepository::open(dir.str());
  auto tip = repo->resolve("main");
  for (auto _ : state) {
    auto h = repo->history(tip->id, "tenants/acme/prompt.md");
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * commits);
}
BENCHMARK(BM_GitHistoryWalk)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
