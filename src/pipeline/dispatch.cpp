#include "pipeline/dispatch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <openssl/rand.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "pipeline/meter.hpp"
#include "providers/mock_response.hpp"
#include "providers/provider_adapter.hpp"
#include "providers/registry.hpp"
#include "providers/sse/sse_parser.hpp"
#include "routing/cooldown.hpp"
#include "upstream/client.hpp"

namespace livery::pipeline {

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

net::awaitable<bool> clientGone() {
  auto state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

// Maps an upstream-client error (no HTTP status) to the retry policy's view.
routing::AttemptFailure transportFailure(const Error& e) {
  routing::AttemptFailure f;
  switch (e.code) {
    case ErrorCode::kUpstreamTimeout:
      f.retryable = true;
      f.fallback_eligible = true;
      f.reason = "timeout";
      break;
    case ErrorCode::kUpstreamUnavailable:
      f.retryable = true;
      f.fallback_eligible = true;
      f.reason = "unavailable";
      break;
    case ErrorCode::kPermissionDenied:  // the outbound guard refused the deployment's address
      f.fallback_eligible = true;
      f.reason = "blocked";
      break;
    default:
      f.fallback_eligible = true;
      f.reason = std::string(toString(e.code));
  }
  return f;
}

routing::AttemptFailure fromUpstream(const providers::UpstreamFailure& u) {
  routing::AttemptFailure f;
  f.retryable = u.retryable;
  f.fallback_eligible = u.fallback_eligible;
  f.context_window_exceeded = u.context_window_exceeded;
  f.credential_refused = u.credential_refused;
  if (u.retry_after_s) {
    f.retry_after = std::chrono::seconds(*u.retry_after_s);
  }
  f.reason = std::to_string(u.upstream_status);
  return f;
}

std::uint64_t randomSeed() {
  std::uint64_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v));  // NOLINT: byte view of a word
  return v;
}

}  // namespace

// The state of the attempt in progress, and what it left behind.
struct DispatchStage::Attempt {
  bool succeeded = false;
  bool client_gone = false;
  bool after_first_byte = false;  // a stream had started: no fallback possible
  routing::AttemptFailure failure;
  Error error;
  const storage::Credential* credential = nullptr;
};

DispatchStage::DispatchStage(const providers::ProviderRegistry& providers,
                             std::vector<upstream::Client*> clients_per_worker,
                             KeyOpener& keys,
                             routing::CooldownTracker& cooldowns,
                             ControlPlaneEvents& events,
                             MeterStage& meter,
                             const Clock& clock,
                             DispatchOptions options,
                             MetricsRegistry& metrics,
                             Logger& log)
    : providers_(providers),
      clients_(std::move(clients_per_worker)),
      keys_(keys),
      cooldowns_(cooldowns),
      events_(events),
      meter_(meter),
      clock_(clock),
      options_(options),
      log_(log),
      attempts_total_(metrics.counter("livery_upstream_attempts_total", "Upstream attempts")),
      fallbacks_total_(
          metrics.counter("livery_fallbacks_total", "Attempts that moved to another deployment")),
      aborted_total_(metrics.counter("livery_requests_aborted_total",
                                     "Requests whose client went away before the end")),
      random_state_(randomSeed()) {}

std::uint64_t DispatchStage::randomWord() noexcept {
  // Load-balancing order and retry jitter need well-spread numbers, not secrets: a splitmix64
  // step over an atomic counter seeded from the CSPRNG (RAND_bytes per request cost a getpid
  // syscall and a lock).
  std::uint64_t z = random_state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

http::Headers DispatchStage::responseHeaders(const RequestContext& ctx, bool stream) const {
  http::Headers h;
  if (stream) {
    h.add("Content-Type", "text/event-stream; charset=utf-8");
    h.add("Cache-Control", "no-cache");
    h.add("X-Accel-Buffering", "no");
  } else {
    h.add("Content-Type", "application/json");
  }
  if (!ctx.outcome.deployment.empty()) {
    h.add("x-livery-deployment", ctx.outcome.deployment);
  }
  h.add("x-livery-attempts", std::to_string(ctx.outcome.attempts));
  if (!ctx.outcome.fallback_reason.empty()) {
    h.add("x-livery-fallback-reason", ctx.outcome.fallback_reason);
  }
  for (const auto& [name, value] : ctx.rate_headers.toHeaders()) {
    h.add(std::string(name), value);
  }
  return h;
}

net::awaitable<Result<void>> DispatchStage::onRequest(RequestContext& ctx) {
  if (ctx.outcome.mock) {
    co_return co_await serveMock(ctx);
  }
  co_return co_await runAttempts(ctx);
}

net::awaitable<Result<void>> DispatchStage::serveMock(RequestContext& ctx) {
  auto id = "chatcmpl-mock-" + ctx.ex.request_id;
  auto reply =
      providers::buildMockResponse(ctx.chat, *ctx.chat.mock_response, {id, clock_.unixSeconds()});
  ctx.outcome.usage = reply.usage;
  ctx.outcome.deployment = "mock";
  ctx.outcome.provider = "mock";
  ctx.outcome.status = 200;
  ctx.outcome.streamed = reply.stream;
  auto committed = co_await meter_.commit(ctx);
  if (!committed) {
    co_return committed.error();
  }
  if (!reply.stream) {
    http::Response res;
    res.status = 200;
    res.headers = responseHeaders(ctx, false);
    res.body = std::move(reply.body);
    ctx.response = std::move(res);
    co_return Result<void>{};
  }
  auto began = co_await ctx.ex.stream.begin(200, responseHeaders(ctx, true));
  if (began) {
    auto wrote = co_await ctx.ex.stream.write(reply.body);
    if (wrote) {
      co_await ctx.ex.stream.end();
    }
  }
  co_return Result<void>{};
}

net::awaitable<Result<void>> DispatchStage::runAttempts(RequestContext& ctx) {
  const auto& tenant = *ctx.tenant;  // resolve_tenant ran (pipeline.cpp)
  auto plan = routing::planRoute(tenant.tenant.id, *ctx.route, cooldowns_, randomWord());
  if (plan.order.empty()) {
    co_return Error{ErrorCode::kUnavailable,
                    fmt::format("Every deployment of `{}` is cooling down after failures; try "
                                "again shortly.",
                                ctx.model)}
        .withCode("deployments_unavailable")
        .withRetryAfter(5);
  }
  auto deadline = ctx.started + options_.total_deadline;
  std::size_t index = 0;
  int attempts = 0;
  std::string refused_credentials;
  for (;;) {
    const storage::Deployment& d = *plan.order[index];
    Attempt attempt;
    ++attempts;
    attempts_total_.inc();
    ctx.outcome.attempts = static_cast<std::uint32_t>(attempts);
    co_await attemptOnce(ctx, d, attempt);
    LIVERY_LOG(log_,
               Debug,
               "upstream_attempt",
               {"request_id", ctx.ex.request_id},
               {"tenant_id", tenant.tenant.id},
               {"deployment", d.name},
               {"attempt", attempts},
               {"succeeded", attempt.succeeded},
               {"client_gone", attempt.client_gone});
    if (attempt.succeeded) {
      cooldowns_.recordSuccess(tenant.tenant.id, d.name);
      if (attempt.credential != nullptr) {
        events_.credentialWorked(tenant.tenant.id, attempt.credential->id);
      }
      co_return Result<void>{};
    }
    if (attempt.client_gone) {
      aborted_total_.inc();
      ctx.outcome.result = "aborted";
      ctx.outcome.status = 499;
      co_return Result<void>{};
    }
    if (attempt.after_first_byte) {
      co_return Result<void>{};  // the stream ended with an error event; nothing to fall back to
    }
    // Failed before the client saw a byte: record and decide.
    if (!ctx.outcome.fallback_reason.empty()) {
      ctx.outcome.fallback_reason += "; ";
    }
    ctx.outcome.fallback_reason += d.name + "=" + attempt.failure.reason;
    auto retry_after = attempt.failure.retry_after.value_or(std::chrono::milliseconds(0));
    if (attempt.failure.retryable || attempt.failure.credential_refused) {
      cooldowns_.recordFailure(tenant.tenant.id, d.name, retry_after);
    }
    if (attempt.failure.credential_refused && attempt.credential != nullptr) {
      events_.credentialRefused(
          tenant.tenant.id, attempt.credential->id, attempt.error.upstream_status);
      if (!refused_credentials.empty()) {
        refused_credentials += ", ";
      }
      refused_credentials +=
          fmt::format("'{}' ({})", attempt.credential->label, attempt.credential->provider);
    }
    bool more = index + 1 < plan.order.size();
    bool larger_context = false;
    for (std::size_t i = index + 1; i < plan.order.size(); ++i) {
      if (d.max_context_tokens != 0 && plan.order[i]->max_context_tokens > d.max_context_tokens) {
        larger_context = true;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.now());
    auto next = routing::decideNext(
        attempt.failure, options_.retry, attempts, more, larger_context, left, randomWord());
    LIVERY_LOG(log_,
               Info,
               "upstream_attempt_failed",
               {"request_id", ctx.ex.request_id},
               {"tenant_id", tenant.tenant.id},
               {"deployment", d.name},
               {"reason", attempt.failure.reason},
               {"attempt", attempts},
               {"next",
                next.step == routing::NextStep::kNextDeployment ? "fallback"
                : next.step == routing::NextStep::kRetrySame    ? "retry"
                                                                : "stop"});
    if (next.step == routing::NextStep::kStop) {
      Error e = attempt.error;
      if (!refused_credentials.empty() && e.code == ErrorCode::kUpstreamAuth) {
        e.client_message = fmt::format(
            "The provider refused this account's credential {}. Update the key in the console.",
            refused_credentials);
      }
      co_return e;
    }
    if (next.step == routing::NextStep::kNextDeployment) {
      fallbacks_total_.inc();
      ++index;
      if (attempt.failure.context_window_exceeded) {
        while (index < plan.order.size() &&
               plan.order[index]->max_context_tokens <= d.max_context_tokens) {
          ++index;
        }
      }
      continue;
    }
    auto executor = co_await net::this_coro::executor;
    net::steady_timer wait(executor, next.delay);
    auto [ec] = co_await wait.async_wait(kAsTuple);
    bool gone = co_await clientGone();
    if (ec || gone) {
      ctx.outcome.result = "aborted";
      ctx.outcome.status = 499;
      co_return Result<void>{};
    }
  }
}

net::awaitable<void> DispatchStage::attemptOnce(RequestContext& ctx,
                                                const storage::Deployment& d,
                                                Attempt& attempt) {
  const auto& tenant = *ctx.tenant;
  const storage::Credential* cred = tenant.credential(d.credential_id);
  if (cred == nullptr) {
    attempt.failure = {.fallback_eligible = true, .reason = "missing-credential"};
    attempt.error =
        Error{ErrorCode::kUnprocessable,
              fmt::format("Deployment `{}` refers to a credential that does not exist.", d.name)};
    co_return;
  }
  attempt.credential = cred;
  const providers::ProviderAdapter* adapter = providers_.find(d.provider);
  if (adapter == nullptr) {
    attempt.failure = {.fallback_eligible = true, .reason = "unknown-provider"};
    attempt.error = Error{ErrorCode::kUnprocessable,
                          fmt::format("Deployment `{}` names an unknown provider.", d.name)};
    co_return;
  }
  providers::Target target{cred->base_url, d.model, cred->options_json};
  Result<providers::UpstreamRequest> built =
      ctx.endpoint == Endpoint::kChat
          ? adapter->buildChatRequest(ctx.chat, target, ctx.system_prompt)
          : adapter->buildEmbeddingsRequest(ctx.embeddings, target);
  if (!built) {
    // A request this provider cannot express (kBadRequest) is the client's; a bad deployment
    // (kUnprocessable) may work elsewhere.
    attempt.failure = {.fallback_eligible = built.error().code != ErrorCode::kBadRequest,
                       .reason = "build"};
    attempt.error = built.error();
    co_return;
  }
  auto key = co_await keys_.open(*cred);
  if (!key) {
    attempt.failure = {.fallback_eligible = true, .reason = "credential-unavailable"};
    attempt.error = Error{
        ErrorCode::kUnavailable, "The provider credential is unavailable.", key.error().log_detail};
    co_return;
  }
  upstream::Request req;
  req.method = built->method;
  req.url = std::move(built->url);
  for (auto& [name, value] : built->headers) {
    req.headers.push_back({std::move(name), std::move(value)});
  }
  req.body = std::move(built->body);
  req.auth = {built->auth.header, built->auth.prefix, &*key};
  ctx.outcome.upstream_called = true;
  ctx.outcome.deployment = d.name;
  ctx.outcome.provider = d.provider;
  ctx.outcome.upstream_model = d.model;
  auto& client = *clients_.at(static_cast<std::size_t>(ctx.ex.worker) % clients_.size());
  auto sent = co_await client.send(std::move(req));
  key->wipe();  // the key lived for this send only
  if (co_await clientGone()) {
    attempt.client_gone = true;
    co_return;
  }
  if (!sent) {
    attempt.failure = transportFailure(sent.error());
    attempt.error = sent.error();
    co_return;
  }
  upstream::Response& res = **sent;
  int status = res.status();
  if (status < 200 || status >= 300) {
    auto body = co_await res.readAll();
    std::string text = body ? std::move(*body) : std::string();
    providers::UpstreamReply reply{
        status, text, res.header("retry-after"), res.header("retry-after-ms")};
    auto failure = adapter->classifyError(reply);
    attempt.failure = fromUpstream(failure);
    attempt.error = failure.error;
    co_return;
  }
  bool stream = ctx.endpoint == Endpoint::kChat && ctx.chat.stream;
  if (stream) {
    co_await relayStream(ctx, *adapter, &res, attempt);
    co_return;
  }
  auto body = co_await res.readAll();
  if (co_await clientGone()) {
    attempt.client_gone = true;
    co_return;
  }
  if (!body) {
    attempt.failure = transportFailure(body.error());
    attempt.error = body.error();
    co_return;
  }
  providers::UpstreamReply reply{status, *body, {}, {}};
  std::string client_body;
  if (ctx.endpoint == Endpoint::kChat) {
    auto parsed = adapter->parseChatResponse(ctx.chat, reply, {clock_.unixSeconds()});
    if (!parsed) {
      attempt.failure = {.retryable = true, .fallback_eligible = true, .reason = "malformed"};
      attempt.error = parsed.error();
      co_return;
    }
    ctx.outcome.usage = parsed->usage;
    client_body = std::move(parsed->body);
  } else {
    auto parsed = adapter->parseEmbeddingsResponse(ctx.embeddings, reply);
    if (!parsed) {
      attempt.failure = {.retryable = true, .fallback_eligible = true, .reason = "malformed"};
      attempt.error = parsed.error();
      co_return;
    }
    ctx.outcome.usage = parsed->usage;
    client_body = std::move(parsed->body);
  }
  if (!ctx.outcome.usage.reported) {
    ctx.outcome.usage.prompt_tokens = ctx.endpoint == Endpoint::kChat
                                          ? ctx.chat.prompt_tokens_estimate
                                          : ctx.embeddings.prompt_tokens_estimate;
  }
  ctx.outcome.status = 200;
  ctx.outcome.first_token_at = clock_.now();
  // The usage record is durable before the client can have the answer.
  auto committed = co_await meter_.commit(ctx);
  if (!committed) {
    attempt.after_first_byte = true;  // do not call another provider for an answer we have
    ctx.outcome.status = httpStatus(committed.error());
    ctx.outcome.result = "error";
    ctx.response = http::Response::error(committed.error());
    attempt.succeeded = false;
    co_return;
  }
  http::Response out;
  out.status = 200;
  out.headers = responseHeaders(ctx, false);
  out.body = std::move(client_body);
  ctx.response = std::move(out);
  attempt.succeeded = true;
}

net::awaitable<void> DispatchStage::relayStream(RequestContext& ctx,
                                                const providers::ProviderAdapter& adapter,
                                                void* response,
                                                Attempt& attempt) {
  auto& res = *static_cast<upstream::Response*>(response);
  auto translator = adapter.makeStreamTranslator(ctx.chat, {clock_.unixSeconds()});
  providers::sse::SseParser parser;
  std::string out;
  std::uint64_t client_bytes = 0;
  bool begun = false;
  ctx.outcome.streamed = true;

  // Ends a stream that already started with an error event (the SDKs raise APIError on it).
  auto failMidStream = [&](const Error& e) -> net::awaitable<void> {
    attempt.after_first_byte = true;
    ctx.outcome.result = "error";
    ctx.outcome.error = e;
    std::string event = providers::streamErrorEvent(e);
    auto wrote = co_await ctx.ex.stream.write(event);
    if (wrote) {
      co_await ctx.ex.stream.end();
    }
  };
  auto partialUsage = [&] {
    ctx.outcome.usage = translator->usage();
    if (!ctx.outcome.usage.reported) {
      // The stream was cut before the provider reported usage: estimate what was consumed.
      ctx.outcome.usage.prompt_tokens = ctx.chat.prompt_tokens_estimate;
      ctx.outcome.usage.completion_tokens = client_bytes / 4;
    }
  };

  for (;;) {
    auto piece = co_await res.readSome();
    if (co_await clientGone()) {
      res.abort();
      attempt.client_gone = true;
      partialUsage();
      co_return;
    }
    providers::StreamStep step;
    if (!piece) {
      if (!begun) {
        attempt.failure = transportFailure(piece.error());
        attempt.error = piece.error();
        co_return;
      }
      partialUsage();
      Error interrupted{ErrorCode::kUpstreamUnavailable,
                        "The provider's stream was interrupted.",
                        piece.error().log_detail};
      co_await failMidStream(interrupted);
      co_return;
    }
    if (piece->empty()) {
      step = translator->onEnd(out);
    } else {
      auto fed = parser.feed(*piece, [&](const providers::sse::SseEvent& ev) {
        if (step.done || step.failure) {
          return;  // ignore anything after the terminal event
        }
        step = translator->onEvent(ev, out);
      });
      if (!fed) {
        step.failure = providers::UpstreamFailure{fed.error(), true, true};
      }
    }
    if (step.failure) {
      if (!begun) {
        attempt.failure = fromUpstream(*step.failure);
        attempt.error = step.failure->error;
        co_return;
      }
      partialUsage();
      co_await failMidStream(step.failure->error);
      co_return;
    }
    if (step.done) {
      ctx.outcome.usage = translator->usage();
      if (!ctx.outcome.usage.reported) {
        ctx.outcome.usage.prompt_tokens = ctx.chat.prompt_tokens_estimate;
        ctx.outcome.usage.completion_tokens = client_bytes / 4;
      }
      ctx.outcome.status = 200;
      if (!ctx.outcome.first_token_at) {
        ctx.outcome.first_token_at = clock_.now();
      }
      // Withhold the final usage chunk and [DONE] until the usage record is durable.
      auto committed = co_await meter_.commit(ctx);
      if (!begun) {
        if (!committed) {
          attempt.after_first_byte = true;
          ctx.outcome.status = httpStatus(committed.error());
          ctx.outcome.result = "error";
          ctx.response = http::Response::error(committed.error());
          co_return;
        }
        auto began = co_await ctx.ex.stream.begin(200, responseHeaders(ctx, true));
        if (!began) {
          attempt.client_gone = true;
          co_return;
        }
      }
      if (!committed) {
        co_await failMidStream(committed.error());
        co_return;
      }
      auto wrote = co_await ctx.ex.stream.write(out);
      if (!wrote) {
        attempt.client_gone = true;
        co_return;
      }
      co_await ctx.ex.stream.end();
      attempt.succeeded = true;
      co_return;
    }
    if (!out.empty()) {
      if (!begun) {
        ctx.outcome.first_token_at = clock_.now();
        auto began = co_await ctx.ex.stream.begin(200, responseHeaders(ctx, true));
        if (!began) {
          res.abort();
          attempt.client_gone = true;
          partialUsage();
          co_return;
        }
        begun = true;
        ctx.outcome.first_byte_sent = true;
      }
      client_bytes += out.size();
      auto wrote = co_await ctx.ex.stream.write(out);
      out.clear();
      if (!wrote) {
        // The client went away mid-stream: stop reading and close the upstream connection.
        res.abort();
        attempt.client_gone = true;
        partialUsage();
        co_return;
      }
    }
  }
}

}  // namespace livery::pipeline
