#include "app/prompt_runner.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "http/io_threads.hpp"
#include "pipeline/pipeline.hpp"

namespace livery::app {

namespace json = boost::json;

PipelineChatRunner::PipelineChatRunner(const pipeline::Pipeline& pipeline,
                                       http::IoThreads& io,
                                       const Clock& clock,
                                       Options options)
    : pipeline_(pipeline), io_(io), clock_(clock), options_(options) {}

std::string PipelineChatRunner::nextRequestId() {
  std::lock_guard lock(ids_mu_);
  return ids_.nextTimed("req", clock_.unixMillis());
}

std::string PipelineChatRunner::requestBody(const prompts::ChatCall& call) {
  json::array messages;
  for (const auto& m : call.messages) {
    messages.emplace_back(json::object{{"role", m.role}, {"content", m.content}});
  }
  json::object body;
  body["model"] = call.model;
  body["messages"] = std::move(messages);
  body["stream"] = false;
  if (call.temperature) {
    body["temperature"] = *call.temperature;
  }
  if (call.max_tokens) {
    body["max_tokens"] = *call.max_tokens;
  }
  return json::serialize(body);
}

Result<std::string> PipelineChatRunner::replyText(std::string_view body) {
  auto none = [] {
    return fail(ErrorCode::kUnprocessable,
                "The model's answer has no text (for example, it called a tool).");
  };
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return fail(ErrorCode::kUpstreamUnavailable, "The answer could not be read.", ec.message());
  }
  const auto* choices = v.as_object().if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->as_array().empty() ||
      !choices->as_array()[0].is_object()) {
    return none();
  }
  const auto* message = choices->as_array()[0].as_object().if_contains("message");
  if (message == nullptr || !message->is_object()) {
    return none();
  }
  const auto* content = message->as_object().if_contains("content");
  if (content == nullptr || !content->is_string()) {
    return none();
  }
  return std::string(content->as_string());
}

net::awaitable<Result<std::string>> PipelineChatRunner::complete(prompts::ChatCall call) {
  if (call.tenant_id.empty() || call.model.empty() || call.messages.empty()) {
    co_return fail(ErrorCode::kBadRequest,
                   "An evaluation call needs a tenant, a model and messages.");
  }
  pipeline::InternalRequest request;
  request.principal.kind = pipeline::Principal::Kind::kInternal;
  request.principal.tenant_id = call.tenant_id;
  request.principal.api_key_id = std::string(kEvaluationKeyId);
  request.principal.end_user = call.end_user;
  request.principal.end_user_bound = true;
  request.body = requestBody(call);
  pipeline::PromptOverride prompt;
  if (call.purpose == prompts::ChatPurpose::kCase) {
    prompt.template_text = std::move(call.prompt_template);
    prompt.version_id = std::move(call.prompt_version_id);
  } else {
    prompt.operator_policy = false;  // the judge's instructions come first (chat_runner.hpp)
  }
  request.prompt = std::move(prompt);
  request.timeout = call.timeout.count() > 0 ? std::min(call.timeout, options_.max_timeout)
                                             : options_.max_timeout;
  std::size_t worker = next_worker_.fetch_add(1, std::memory_order_relaxed) % io_.size();
  request.worker = static_cast<int>(worker);
  request.request_id = nextRequestId();

  // The call runs on its I/O thread (per-thread parser and upstream client); this coroutine
  // resumes on its own executor, and its cancellation is forwarded by co_spawn.
  auto executor = io_.context(worker).get_executor();
  auto op = pipeline_.runInternal(std::move(request));
  Result<pipeline::InternalReply> reply =
      co_await net::co_spawn(executor, std::move(op), net::use_awaitable);
  if (!reply) {
    co_return reply.error();
  }
  co_return replyText(reply->body);
}

}  // namespace livery::app
