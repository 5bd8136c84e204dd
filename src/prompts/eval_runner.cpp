#include "prompts/eval_runner.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "prompts/assertion.hpp"
#include "whitelabel/text.hpp"

namespace livery::prompts {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::size_t kMaxErrorBytes = 300;

// What a report may say about a runner error: the client-safe message only, cleaned and bounded.
std::string safeMessage(const Error& e) {
  whitelabel::TextPolicy policy;
  policy.max_bytes = kMaxErrorBytes;
  std::string m = whitelabel::sanitizeText(e.client_message, policy);
  return m.empty() ? std::string(toString(e.code)) : m;
}

std::size_t codePoints(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

struct RunState {
  RunState(ChatRunner& r, const Clock& c, EvalOptions o, EvalSubject s, net::any_io_executor strand)
      : runner(r),
        clock(c),
        options(o),
        subject(std::move(s)),
        done(std::move(strand), net::steady_timer::time_point::max()) {}

  ChatRunner& runner;
  const Clock& clock;
  EvalOptions options;
  EvalSubject subject;
  milliseconds case_timeout{0};
  // Touched only on the run's strand:
  std::size_t next_case = 0;
  std::size_t workers_left = 0;
  std::vector<CaseResult> results;
  net::steady_timer done;  // cancelled when the last worker finishes
};

// Sends `call` and races it against `deadline` (the case's timer, which lives in the awaiting
// runCase frame and so outlives this coroutine; the runner is borrowed for the whole run).
// Whichever finishes first wins and the other is cancelled: wait_for_one, not the
// awaitable_operators `||`, whose wait_for_one_success would let a runner that fails fast (an
// exception) wait for the whole deadline.
net::awaitable<Result<std::string>> callWithDeadline(ChatRunner& runner,
                                                     ChatCall call,
                                                     net::steady_timer& deadline) {
  auto left = duration_cast<milliseconds>(deadline.expiry() - net::steady_timer::clock_type::now());
  if (left.count() <= 0) {
    co_return fail(ErrorCode::kUpstreamTimeout, "no time left before the case deadline");
  }
  call.timeout = left;
  auto ex = co_await net::this_coro::executor;
  auto call_op = net::co_spawn(ex, runner.complete(std::move(call)), net::deferred);
  auto wait_op = deadline.async_wait(net::deferred);
  auto group = net::experimental::make_parallel_group(std::move(call_op), std::move(wait_op));
  auto outcome =
      co_await std::move(group).async_wait(net::experimental::wait_for_one(), net::use_awaitable);
  const auto& order = std::get<0>(outcome);
  if (order[0] == 1) {
    co_return fail(ErrorCode::kUpstreamTimeout, "no reply before the case deadline");
  }
  if (std::get<1>(outcome)) {
    // Neither the exception's text (it may come from anywhere) nor its type reach the report.
    co_return fail(ErrorCode::kInternal, "the chat runner failed with an internal error");
  }
  co_return std::move(std::get<2>(outcome));
}

net::awaitable<CaseResult> runCase(std::shared_ptr<RunState> st, std::size_t index) {
  const EvalSubject& s = st->subject;
  const GoldenCase& gc = s.dataset.cases[index];
  CaseResult r;
  r.id = gc.id;
  r.line = gc.line;
  auto ex = co_await net::this_coro::executor;
  net::steady_timer deadline(ex, st->case_timeout);

  ChatCall call;
  call.purpose = ChatPurpose::kCase;
  call.tenant_id = s.tenant_id;
  call.model = s.meta.model;
  call.prompt_template = s.prompt;
  call.prompt_version_id = s.version_id;
  call.end_user = gc.user;
  call.messages = gc.messages;
  call.temperature = s.meta.temperature;
  call.max_tokens = s.meta.max_tokens;
  const Clock::SteadyTime started = st->clock.now();
  Result<std::string> reply = co_await callWithDeadline(st->runner, std::move(call), deadline);
  r.latency_ms = duration_cast<milliseconds>(st->clock.now() - started).count();
  if (!reply) {
    r.error = safeMessage(reply.error());
    if (reply.error().code == ErrorCode::kUpstreamTimeout &&
        deadline.expiry() <= net::steady_timer::clock_type::now()) {
      r.error += " (" + std::to_string(st->case_timeout.count()) + " ms)";
    }
    co_return r;
  }
  if (reply->size() > st->options.max_reply_bytes) {
    r.error = "the reply is " + std::to_string(reply->size()) + " bytes, more than the limit of " +
              std::to_string(st->options.max_reply_bytes);
    co_return r;
  }
  r.reply_chars = codePoints(*reply);

  std::vector<std::size_t> judges;
  for (std::size_t i = 0; i < gc.assertions.size(); ++i) {
    const Assertion& a = gc.assertions[i];
    if (a.kind == AssertionKind::kJudge) {
      judges.push_back(i);
      continue;
    }
    CheckOutcome outcome = checkAssertion(a, *reply);
    if (!outcome.passed) {
      r.failures.push_back({i, std::string(toString(a.kind)), std::move(outcome.message)});
    }
  }
  if (!r.failures.empty()) {
    r.judges_skipped = judges.size();
    co_return r;
  }
  for (std::size_t i : judges) {
    const JudgeSettings& judge = *s.meta.judge;  // checked by run()
    ChatCall jc;
    jc.purpose = ChatPurpose::kJudge;
    jc.tenant_id = s.tenant_id;
    jc.model = judge.model;
    jc.messages = buildJudgeMessages(gc.assertions[i].text, gc.messages, *reply);
    jc.temperature = judge.temperature;
    jc.max_tokens = judge.max_tokens;
    Result<std::string> answer = co_await callWithDeadline(st->runner, std::move(jc), deadline);
    if (!answer) {
      r.failures.push_back({i, "judge", "the judge call failed: " + safeMessage(answer.error())});
      continue;
    }
    auto verdict = parseJudgeVerdict(*answer);
    if (!verdict) {
      r.failures.push_back({i, "judge", verdict.error().client_message});
    } else if (!verdict->pass) {
      r.failures.push_back({i, "judge", "the judge failed the reply: " + verdict->reason});
    }
  }
  r.passed = r.failures.empty();
  co_return r;
}

net::awaitable<void> worker(std::shared_ptr<RunState> st) {
  while (st->next_case < st->subject.dataset.cases.size()) {
    std::size_t index = st->next_case++;
    CaseResult result = co_await runCase(st, index);
    st->results[index] = std::move(result);
  }
}

net::awaitable<EvalReport> runOnStrand(std::shared_ptr<RunState> st, std::size_t workers) {
  auto strand = co_await net::this_coro::executor;
  const Clock::SteadyTime started = st->clock.now();
  EvalReport report;
  report.started_at_ms = st->clock.unixMillis();

  const auto& cases = st->subject.dataset.cases;
  st->results.resize(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    st->results[i].id = cases[i].id;
    st->results[i].line = cases[i].line;
    st->results[i].error = "not run";  // replaced by the worker; stays if a worker died
  }
  st->workers_left = workers;
  for (std::size_t w = 0; w < workers; ++w) {
    // co_spawn posts the start, so no worker runs (or finishes) before the wait below begins.
    net::co_spawn(strand, worker(st), net::bind_executor(strand, [st](const std::exception_ptr&) {
                    if (--st->workers_left == 0) {
                      st->done.cancel();
                    }
                  }));
  }
  if (workers > 0) {
    auto waited = co_await st->done.async_wait(net::as_tuple(net::use_awaitable));
    (void)waited;  // operation_aborted: the last worker finished
  }

  const EvalSubject& s = st->subject;
  report.tenant_id = s.tenant_id;
  report.tenant_slug = s.tenant_slug;
  report.version_id = s.version_id;
  report.version = s.version;
  report.content_sha256 = sha256Hex(s.prompt);
  report.dataset_sha256 = s.dataset.sha256;
  report.ref = s.ref;
  report.commit_id = s.commit_id;
  report.model = s.meta.model;
  report.threshold = s.meta.threshold;
  report.cases = std::move(st->results);
  report.cases_total = report.cases.size();
  report.cases_passed = static_cast<std::size_t>(std::count_if(
      report.cases.begin(), report.cases.end(), [](const CaseResult& c) { return c.passed; }));
  report.passed = report.cases_total > 0 &&
                  report.cases_passed >= requiredPasses(report.threshold, report.cases_total);
  report.duration_ms = duration_cast<milliseconds>(st->clock.now() - started).count();
  co_return report;
}

}  // namespace

EvalRunner::EvalRunner(ChatRunner& runner, const Clock& clock, EvalOptions options)
    : runner_(runner), clock_(clock), options_(options) {}

std::chrono::milliseconds EvalRunner::caseTimeout(const PromptMeta& meta) const {
  return std::min<milliseconds>(duration_cast<milliseconds>(meta.case_timeout),
                                options_.max_case_timeout);
}

std::size_t EvalRunner::concurrency(const PromptMeta& meta, std::size_t cases) const {
  std::size_t n = std::min({meta.concurrency, options_.max_concurrency, cases});
  return std::max<std::size_t>(n, cases == 0 ? 0 : 1);
}

net::awaitable<Result<EvalReport>> EvalRunner::run(EvalSubject subject) {
  if (subject.dataset.cases.empty()) {
    co_return fail(ErrorCode::kUnprocessable, "the golden dataset has no cases");
  }
  if (subject.dataset.usesJudge() && !subject.meta.judge) {
    co_return fail(ErrorCode::kUnprocessable,
                   "golden.jsonl uses judge assertions but prompt.yaml has no judge section "
                   "(judge.model)");
  }
  auto ex = co_await net::this_coro::executor;
  net::any_io_executor strand = net::make_strand(ex);
  std::size_t workers = concurrency(subject.meta, subject.dataset.cases.size());
  milliseconds timeout = caseTimeout(subject.meta);
  auto st = std::make_shared<RunState>(runner_, clock_, options_, std::move(subject), strand);
  st->case_timeout = timeout;
  EvalReport report = co_await net::co_spawn(strand, runOnStrand(st, workers), net::use_awaitable);
  co_return report;
}

}  // namespace livery::prompts
