#include "support/fake_upstream.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

namespace livery::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);
constexpr std::int64_t kCreated = 1735689600;  // fixed "created" timestamp: deterministic output

enum class Style { kOpenAI, kAzure, kAnthropic };

std::size_t words(std::string_view s) {
  std::size_t n = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool space = std::isspace(c) != 0;
    if (!space && !in_word) {
      ++n;
    }
    in_word = !space;
  }
  return n;
}

// The first `n` words of `s`, with the whitespace between them.
std::string firstWords(std::string_view s, std::size_t n) {
  std::size_t seen = 0;
  bool in_word = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool space = std::isspace(static_cast<unsigned char>(s[i])) != 0;
    if (!space && !in_word) {
      if (seen == n) {
        std::string out(s.substr(0, i));
        while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back())) != 0) {
          out.pop_back();
        }
        return out;
      }
      ++seen;
    }
    in_word = !space;
  }
  return std::string(s);
}

// Splits `text` into at most `n` pieces of near-equal length, never inside a UTF-8 sequence.
std::vector<std::string> splitPieces(std::string_view text, std::size_t n) {
  std::vector<std::string> out;
  if (text.empty()) {
    return out;
  }
  n = std::clamp<std::size_t>(n, 1, text.size());
  std::size_t start = 0;
  for (std::size_t i = 1; i <= n && start < text.size(); ++i) {
    std::size_t end = i == n ? text.size() : text.size() * i / n;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      ++end;
    }
    if (end > start) {
      out.emplace_back(text.substr(start, end - start));
      start = end;
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto v = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
             static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
             static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    auto v = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// OpenAI echoes a masked key in its 401 message.
std::string maskKey(std::string_view key) {
  if (key.size() <= 8) {
    return std::string(key.size(), '*');
  }
  return std::string(key.substr(0, 3)) + std::string(key.size() - 7, '*') +
         std::string(key.substr(key.size() - 4));
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 529:
      return "Site Overloaded";
    default:
      return "Status";
  }
}

std::string sseData(const json::value& v) {
  return "data: " + json::serialize(v) + "\n\n";
}

std::string sseEvent(std::string_view name, const json::value& v) {
  return fmt::format("event: {}\ndata: {}\n\n", name, json::serialize(v));
}

// ---- error bodies in each provider's real shape ---------------------------------------------

FakeError resolveError(int status, FakeError e) {
  if (e != FakeError::kAuto) {
    return e;
  }
  switch (status) {
    case 401:
      return FakeError::kAuth;
    case 403:
      return FakeError::kPermission;
    case 404:
      return FakeError::kNotFound;
    case 429:
      return FakeError::kRateLimit;
    case 503:
    case 529:
      return FakeError::kOverloaded;
    default:
      return status >= 500 ? FakeError::kServer : FakeError::kInvalidRequest;
  }
}

json::value openAiError(std::string_view message,
                        std::string_view type,
                        json::value param,
                        json::value code) {
  return json::object{{"error",
                       json::object{{"message", message},
                                    {"type", type},
                                    {"param", std::move(param)},
                                    {"code", std::move(code)}}}};
}

json::value errorBody(Style style, FakeError e) {
  if (style == Style::kAnthropic) {
    auto body = [](std::string_view type, std::string_view message) {
      return json::object{{"type", "error"},
                          {"error", json::object{{"type", type}, {"message", message}}}};
    };
    switch (e) {
      case FakeError::kContextLength:
        return body("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum");
      case FakeError::kRateLimit:
        return body("rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit "
                    "(https://docs.anthropic.com/en/api/rate-limits); see the response headers "
                    "for current usage. Please reduce the prompt length or the maximum tokens "
                    "requested, or try again later.");
      case FakeError::kInsufficientQuota:
        return body("invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API. Please go to "
                    "Plans & Billing to upgrade or purchase credits.");
      case FakeError::kServer:
        return body("api_error", "Internal server error");
      case FakeError::kOverloaded:
        return body("overloaded_error", "Overloaded");
      case FakeError::kAuth:
        return body("authentication_error", "invalid x-api-key");
      case FakeError::kNotFound:
        return body("not_found_error", "Not found");
      case FakeError::kPermission:
        return body("permission_error",
                    "Your API key does not have permission to use the specified resource.");
      default:
        return body("invalid_request_error", "messages: Field required");
    }
  }
  if (style == Style::kAzure) {
    auto body = [](std::string_view code, std::string_view message) {
      return json::object{{"error", json::object{{"code", code}, {"message", message}}}};
    };
    switch (e) {
      case FakeError::kAuth:
        return body("401",
                    "Access denied due to invalid subscription key or wrong API endpoint. Make "
                    "sure to provide a valid key for an active subscription and use a correct "
                    "regional API endpoint for your resource.");
      case FakeError::kRateLimit:
        return body("429",
                    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
                    "version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 "
                    "pricing tier. Please retry after 1 second. Please go here: "
                    "https://aka.ms/oai/quotaincrease if you would like to further increase the "
                    "default rate limit.");
      case FakeError::kNotFound:
        return body("DeploymentNotFound",
                    "The API deployment for this resource does not exist. If you created the "
                    "deployment within the last 5 minutes, please wait a moment and try again.");
      case FakeError::kServer:
        return body("InternalServerError",
                    "The server had an error while processing your request. Sorry about that!");
      case FakeError::kOverloaded:
        return body("ServiceUnavailable",
                    "The service is temporarily unable to process your request. Please try "
                    "again later.");
      case FakeError::kPermission:
        return body("PermissionDenied",
                    "The principal does not have permission to perform this action.");
      default:
        break;  // invalid request and context length: Azure passes OpenAI's shape through
    }
  }
  switch (e) {
    case FakeError::kContextLength:
      return openAiError(
          "This model's maximum context length is 128000 tokens. However, your messages "
          "resulted in 130512 tokens. Please reduce the length of the messages.",
          "invalid_request_error",
          "messages",
          "context_length_exceeded");
    case FakeError::kRateLimit:
      return openAiError(
          "Rate limit reached for gpt-4o in organization org-fake on tokens per min (TPM): "
          "Limit 30000, Used 29690, Requested 1200. Please try again in 1.78s. Visit "
          "https://platform.openai.com/account/rate-limits to learn more.",
          "tokens",
          nullptr,
          "rate_limit_exceeded");
    case FakeError::kInsufficientQuota:
      return openAiError(
          "You exceeded your current quota, please check your plan and billing details. For "
          "more information on this error, read the docs: "
          "https://platform.openai.com/docs/guides/error-codes/api-errors.",
          "insufficient_quota",
          nullptr,
          "insufficient_quota");
    case FakeError::kServer:
      return openAiError("The server had an error while processing your request. Sorry about that!",
                         "server_error",
                         nullptr,
                         nullptr);
    case FakeError::kOverloaded:
      return openAiError("The engine is currently overloaded, please try again later",
                         "server_error",
                         nullptr,
                         nullptr);
    case FakeError::kAuth:
      return openAiError(
          "Incorrect API key provided. You can find your API key at "
          "https://platform.openai.com/account/api-keys.",
          "invalid_request_error",
          nullptr,
          "invalid_api_key");
    case FakeError::kNotFound:
      return openAiError("The model `unknown` does not exist or you do not have access to it.",
                         "invalid_request_error",
                         nullptr,
                         "model_not_found");
    case FakeError::kPermission:
      return openAiError("You are not allowed to perform this request.",
                         "invalid_request_error",
                         nullptr,
                         "unsupported_country_region_territory");
    default:
      return openAiError("Invalid value for 'temperature': expected a number between 0 and 2.",
                         "invalid_request_error",
                         "temperature",
                         nullptr);
  }
}

// ---- the response to send ---------------------------------------------------------------------

struct Plan {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  bool streaming = false;
  std::string body;                 // when !streaming
  std::vector<std::string> events;  // when streaming: complete SSE events
  std::string error_event;          // the provider's in-stream error event
};

Plan jsonPlan(int status, const json::value& body) {
  Plan p;
  p.status = status;
  p.headers.emplace_back("Content-Type", "application/json");
  p.body = json::serialize(body);
  return p;
}

std::string_view kindName(FakeBehaviour::Kind k) {
  switch (k) {
    case FakeBehaviour::Kind::kRespond:
      return "respond";
    case FakeBehaviour::Kind::kReset:
      return "reset";
    case FakeBehaviour::Kind::kHang:
      return "hang";
    case FakeBehaviour::Kind::kFailMidStream:
      return "fail_mid_stream";
    case FakeBehaviour::Kind::kErrorEvent:
      return "error_event";
  }
  return "respond";
}

constexpr std::array<std::pair<FakeError, std::string_view>, 10> kErrorNames = {{
    {FakeError::kAuto, "auto"},
    {FakeError::kInvalidRequest, "invalid_request"},
    {FakeError::kContextLength, "context_length"},
    {FakeError::kRateLimit, "rate_limit"},
    {FakeError::kInsufficientQuota, "insufficient_quota"},
    {FakeError::kServer, "server"},
    {FakeError::kOverloaded, "overloaded"},
    {FakeError::kAuth, "auth"},
    {FakeError::kNotFound, "not_found"},
    {FakeError::kPermission, "permission"},
}};

// Text of a message `content` (string or array of parts) for token counting.
std::size_t contentWords(const json::value& content) {
  if (content.is_string()) {
    return words(content.get_string());
  }
  std::size_t n = 0;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (!part.is_object()) {
        continue;
      }
      const auto& o = part.get_object();
      if (const auto* text = o.if_contains("text"); text != nullptr && text->is_string()) {
        n += words(text->get_string());
      }
      if (const auto* inner = o.if_contains("content"); inner != nullptr) {
        n += contentWords(*inner);  // Anthropic tool_result blocks
      }
    }
  }
  return n;
}

std::optional<std::int64_t> intField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64()) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

bool boolField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::string stringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The tool the model "calls": tool_choice's named function, else the first tool. Empty: none.
std::string chosenTool(const json::object& req, Style style) {
  const auto* tools = req.if_contains("tools");
  if (tools == nullptr || !tools->is_array() || tools->get_array().empty()) {
    return {};
  }
  const auto* choice = req.if_contains("tool_choice");
  if (choice != nullptr) {
    if (choice->is_string() && choice->get_string() == "none") {
      return {};
    }
    if (choice->is_object()) {
      const auto& c = choice->get_object();
      if (stringField(c, "type") == "none") {
        return {};
      }
      if (style == Style::kAnthropic && !stringField(c, "name").empty()) {
        return stringField(c, "name");
      }
      if (const auto* fn = c.if_contains("function"); fn != nullptr && fn->is_object()) {
        auto name = stringField(fn->get_object(), "name");
        if (!name.empty()) {
          return name;
        }
      }
    }
  }
  const auto& first = tools->get_array().front();
  if (!first.is_object()) {
    return {};
  }
  if (style == Style::kAnthropic) {
    return stringField(first.get_object(), "name");
  }
  if (const auto* fn = first.get_object().if_contains("function");
      fn != nullptr && fn->is_object()) {
    return stringField(fn->get_object(), "name");
  }
  return {};
}

}  // namespace

// ---- FakeBehaviour ----------------------------------------------------------------------------

FakeBehaviour FakeBehaviour::withStatus(int status, FakeError error) {
  FakeBehaviour b;
  b.status = status;
  b.error = error;
  return b;
}

FakeBehaviour FakeBehaviour::rateLimited(int retry_after_s) {
  FakeBehaviour b = withStatus(429, FakeError::kRateLimit);
  b.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return b;
}

FakeBehaviour FakeBehaviour::serverError() {
  return withStatus(500, FakeError::kServer);
}

FakeBehaviour FakeBehaviour::unavailable() {
  return withStatus(503, FakeError::kOverloaded);
}

FakeBehaviour FakeBehaviour::invalidRequest() {
  return withStatus(400, FakeError::kInvalidRequest);
}

FakeBehaviour FakeBehaviour::contextLengthExceeded() {
  return withStatus(400, FakeError::kContextLength);
}

FakeBehaviour FakeBehaviour::reset() {
  FakeBehaviour b;
  b.kind = Kind::kReset;
  return b;
}

FakeBehaviour FakeBehaviour::hang() {
  FakeBehaviour b;
  b.kind = Kind::kHang;
  return b;
}

FakeBehaviour FakeBehaviour::delayHead(std::chrono::milliseconds delay) {
  FakeBehaviour b;
  b.head_delay = delay;
  return b;
}

FakeBehaviour FakeBehaviour::delayEvents(std::chrono::milliseconds delay) {
  FakeBehaviour b;
  b.event_delay = delay;
  return b;
}

FakeBehaviour FakeBehaviour::closeAfter(std::size_t bytes) {
  FakeBehaviour b;
  b.close_after_bytes = bytes;
  return b;
}

FakeBehaviour FakeBehaviour::trickle(std::size_t bytes, std::chrono::milliseconds interval) {
  FakeBehaviour b;
  b.trickle_bytes = bytes;
  b.trickle_interval = interval;
  return b;
}

FakeBehaviour FakeBehaviour::failMidStream(std::size_t events) {
  FakeBehaviour b;
  b.kind = Kind::kFailMidStream;
  b.fail_after_events = events;
  return b;
}

FakeBehaviour FakeBehaviour::errorEvent(std::size_t events) {
  FakeBehaviour b;
  b.kind = Kind::kErrorEvent;
  b.fail_after_events = events;
  return b;
}

FakeBehaviour FakeBehaviour::redirect(std::string location, int status) {
  FakeBehaviour b;
  b.status = status;
  b.body = "";
  b.headers.emplace_back("Location", std::move(location));
  return b;
}

std::string FakeBehaviour::toJson() const {
  json::object o;
  o["kind"] = kindName(kind);
  o["status"] = status;
  for (const auto& [e, name] : kErrorNames) {
    if (e == error) {
      o["error"] = name;
    }
  }
  if (body) {
    o["body"] = *body;
  }
  json::object h;
  for (const auto& [k, v] : headers) {
    h[k] = v;
  }
  o["headers"] = std::move(h);
  o["head_delay_ms"] = head_delay.count();
  o["event_delay_ms"] = event_delay.count();
  o["close_after_bytes"] = close_after_bytes;
  o["fail_after_events"] = fail_after_events;
  o["trickle_bytes"] = trickle_bytes;
  o["trickle_interval_ms"] = trickle_interval.count();
  if (reply) {
    o["reply"] = *reply;
  }
  if (chunks) {
    o["chunks"] = *chunks;
  }
  o["close_connection"] = close_connection;
  return json::serialize(o);
}

std::optional<FakeBehaviour> FakeBehaviour::fromJson(std::string_view text, std::string* error) {
  auto bad = [error](std::string message) -> std::optional<FakeBehaviour> {
    if (error != nullptr) {
      *error = std::move(message);
    }
    return std::nullopt;
  };
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return bad("behaviour must be a JSON object");
  }
  const auto& o = v.get_object();
  FakeBehaviour b;
  for (const auto& [key, value] : o) {
    auto number = [&value]() -> std::optional<std::int64_t> {
      if (value.is_int64()) {
        return value.get_int64();
      }
      if (value.is_uint64()) {
        return static_cast<std::int64_t>(value.get_uint64());
      }
      return std::nullopt;
    };
    auto count = [&]() -> std::optional<std::size_t> {
      auto n = number();
      if (!n || *n < 0) {
        return std::nullopt;
      }
      return static_cast<std::size_t>(*n);
    };
    if (key == "kind") {
      if (!value.is_string()) {
        return bad("kind must be a string");
      }
      std::string_view k = value.get_string();
      if (k == "respond") {
        b.kind = Kind::kRespond;
      } else if (k == "reset") {
        b.kind = Kind::kReset;
      } else if (k == "hang") {
        b.kind = Kind::kHang;
      } else if (k == "fail_mid_stream") {
        b.kind = Kind::kFailMidStream;
      } else if (k == "error_event") {
        b.kind = Kind::kErrorEvent;
      } else {
        return bad("unknown kind " + std::string(k));
      }
    } else if (key == "status") {
      auto n = number();
      if (!n || *n < 0 || *n > 999) {
        return bad("status must be an HTTP status");
      }
      b.status = static_cast<int>(*n);
    } else if (key == "error") {
      bool found = false;
      for (const auto& [e, name] : kErrorNames) {
        if (value.is_string() && value.get_string() == name) {
          b.error = e;
          found = true;
        }
      }
      if (!found) {
        return bad("unknown error kind");
      }
    } else if (key == "body") {
      if (!value.is_string()) {
        return bad("body must be a string");
      }
      b.body = std::string(value.get_string());
    } else if (key == "headers") {
      if (!value.is_object()) {
        return bad("headers must be an object");
      }
      for (const auto& [hk, hv] : value.get_object()) {
        if (!hv.is_string()) {
          return bad("header values must be strings");
        }
        b.headers.emplace_back(std::string(hk), std::string(hv.get_string()));
      }
    } else if (key == "reply") {
      if (!value.is_string()) {
        return bad("reply must be a string");
      }
      b.reply = std::string(value.get_string());
    } else if (key == "close_connection") {
      b.close_connection = value.is_bool() && value.get_bool();
    } else {
      auto n = count();
      if (!n) {
        return bad(std::string(key) + " must be a non-negative number");
      }
      if (key == "head_delay_ms") {
        b.head_delay = std::chrono::milliseconds(*n);
      } else if (key == "event_delay_ms") {
        b.event_delay = std::chrono::milliseconds(*n);
      } else if (key == "close_after_bytes") {
        b.close_after_bytes = *n;
      } else if (key == "fail_after_events") {
        b.fail_after_events = *n;
      } else if (key == "trickle_bytes") {
        b.trickle_bytes = *n;
      } else if (key == "trickle_interval_ms") {
        b.trickle_interval = std::chrono::milliseconds(*n);
      } else if (key == "chunks") {
        b.chunks = *n;
      } else {
        return bad("unknown behaviour field " + std::string(key));
      }
    }
  }
  return b;
}

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) {
      return v;
    }
  }
  return {};
}

// ---- the server -------------------------------------------------------------------------------

struct FakeUpstream::Impl {
  explicit Impl(FakeUpstreamOptions opts)
      : options(std::move(opts)),
        reply_text(options.reply_text),
        stream_chunks(options.stream_chunks),
        openai_keys(options.openai_keys),
        azure_keys(options.azure_keys),
        anthropic_keys(options.anthropic_keys),
        io(std::make_unique<net::io_context>(1)),
        acceptor(*io) {}

  FakeUpstreamOptions options;

  mutable std::mutex mu;  // guards every field up to `io`
  mutable std::condition_variable cv;
  std::map<std::string, std::deque<FakeBehaviour>> once;
  std::map<std::string, FakeBehaviour> defaults;
  std::string reply_text;
  std::size_t stream_chunks;
  std::vector<RecordedRequest> recorded;
  std::uint64_t next_connection = 1;
  std::size_t accepted = 0;
  std::set<std::uint64_t> open;
  std::set<std::uint64_t> closed;
  std::uint64_t next_id = 1;
  std::vector<std::string> openai_keys;  // the accepted keys (options' lists, then setAcceptedKeys)
  std::vector<std::string> azure_keys;
  std::vector<std::string> anthropic_keys;
  std::uint64_t epoch = 0;  // bumped by resetState: a late outcome never lands on a newer record

  std::unique_ptr<net::io_context> io;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::thread thread;

  FakeBehaviour behaviourFor(const std::string& path) {
    std::lock_guard lock(mu);
    for (const std::string& key : {path, std::string("*")}) {
      auto it = once.find(key);
      if (it != once.end() && !it->second.empty()) {
        FakeBehaviour b = std::move(it->second.front());
        it->second.pop_front();
        return b;
      }
    }
    for (const std::string& key : {path, std::string("*")}) {
      auto it = defaults.find(key);
      if (it != defaults.end()) {
        return it->second;
      }
    }
    return {};
  }

  std::string newId(std::string_view prefix) {
    std::lock_guard lock(mu);
    return fmt::format("{}{:06d}", prefix, next_id++);
  }

  // ---- answers ----

  Plan chat(Style style, const json::object& req, const FakeBehaviour& b, std::string model) {
    std::string reply;
    std::size_t chunks = 0;
    {
      std::lock_guard lock(mu);
      reply = b.reply.value_or(reply_text);
      chunks = b.chunks.value_or(stream_chunks);
    }
    std::size_t prompt = 0;
    if (const auto* msgs = req.if_contains("messages"); msgs != nullptr && msgs->is_array()) {
      for (const auto& m : msgs->get_array()) {
        if (m.is_object()) {
          if (const auto* c = m.get_object().if_contains("content"); c != nullptr) {
            prompt += contentWords(*c);
          }
        }
      }
    }
    if (const auto* system = req.if_contains("system"); system != nullptr) {
      prompt += contentWords(*system);
    }
    prompt = std::max<std::size_t>(prompt, 1);
    std::string tool = chosenTool(req, style);
    std::string text = tool.empty() ? reply : options.tool_arguments;
    auto limit = intField(req, "max_completion_tokens");
    if (!limit) {
      limit = intField(req, "max_tokens");
    }
    bool cut = false;
    if (limit && *limit >= 0 && static_cast<std::size_t>(*limit) < words(text) && tool.empty()) {
      text = firstWords(text, static_cast<std::size_t>(*limit));
      cut = true;
    }
    std::size_t completion = words(text);
    bool stream = boolField(req, "stream");
    if (style == Style::kAnthropic) {
      return anthropicMessage(req, b, model, text, tool, cut, prompt, completion, chunks, stream);
    }
    return openAiChat(style, req, model, text, tool, cut, prompt, completion, chunks, stream);
  }

  json::object openAiUsage(std::size_t prompt, std::size_t completion) const {
    json::object u{{"prompt_tokens", prompt},
                   {"completion_tokens", completion},
                   {"total_tokens", prompt + completion}};
    if (options.flavour == FakeUpstreamOptions::Flavour::kOpenAI) {
      u["prompt_tokens_details"] = json::object{{"cached_tokens", 0}, {"audio_tokens", 0}};
      u["completion_tokens_details"] = json::object{{"reasoning_tokens", 0},
                                                    {"audio_tokens", 0},
                                                    {"accepted_prediction_tokens", 0},
                                                    {"rejected_prediction_tokens", 0}};
    }
    return u;
  }

  static json::array azureFilterResults() {
    json::object safe{{"filtered", false}, {"severity", "safe"}};
    json::object results{{"hate", safe}, {"self_harm", safe}, {"sexual", safe}, {"violence", safe}};
    return json::array{json::object{{"prompt_index", 0}, {"content_filter_results", results}}};
  }

  std::string fingerprint() const {
    return options.flavour == FakeUpstreamOptions::Flavour::kOllama ? "fp_ollama" : "fp_fake";
  }

  Plan openAiChat(Style style,
                  const json::object& req,
                  const std::string& model,
                  const std::string& text,
                  const std::string& tool,
                  bool cut,
                  std::size_t prompt,
                  std::size_t completion,
                  std::size_t chunks,
                  bool stream) {
    std::string id = newId("chatcmpl-fake");
    std::string finish = !tool.empty() ? "tool_calls" : (cut ? "length" : "stop");
    if (!stream) {
      json::object message{{"role", "assistant"}};
      if (tool.empty()) {
        message["content"] = text;
      } else {
        message["content"] = nullptr;
        message["tool_calls"] = json::array{
            json::object{{"id", "call_fake_1"},
                         {"type", "function"},
                         {"function", json::object{{"name", tool}, {"arguments", text}}}}};
      }
      message["refusal"] = nullptr;
      json::object choice{{"index", 0}, {"message", message}, {"logprobs", nullptr}};
      choice["finish_reason"] = finish;
      if (style == Style::kAzure) {
        choice["content_filter_results"] =
            azureFilterResults()[0].get_object()["content_filter_results"];
      }
      json::object res{{"id", id},
                       {"object", "chat.completion"},
                       {"created", kCreated},
                       {"model", model},
                       {"system_fingerprint", fingerprint()},
                       {"choices", json::array{choice}},
                       {"usage", openAiUsage(prompt, completion)}};
      if (style == Style::kAzure) {
        res["prompt_filter_results"] = azureFilterResults();
      }
      Plan p = jsonPlan(200, res);
      p.headers.emplace_back("x-request-id", newId("req_fake"));
      return p;
    }
    bool include_usage = false;
    if (const auto* so = req.if_contains("stream_options"); so != nullptr && so->is_object()) {
      include_usage = boolField(so->get_object(), "include_usage");
    }
    Plan p;
    p.streaming = true;
    p.headers.emplace_back("Content-Type", "text/event-stream; charset=utf-8");
    p.headers.emplace_back("Cache-Control", "no-cache");
    p.headers.emplace_back("x-request-id", newId("req_fake"));
    auto chunk = [&](json::object delta, json::value finish_reason) {
      json::object c{{"id", id},
                     {"object", "chat.completion.chunk"},
                     {"created", kCreated},
                     {"model", model},
                     {"system_fingerprint", fingerprint()},
                     {"choices",
                      json::array{json::object{{"index", 0},
                                               {"delta", std::move(delta)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", std::move(finish_reason)}}}}};
      if (include_usage) {
        c["usage"] = nullptr;
      }
      return sseData(c);
    };
    if (style == Style::kAzure) {
      // Azure's first chunk carries only the prompt filter results, with empty fields.
      p.events.push_back(sseData(json::object{{"choices", json::array{}},
                                              {"created", 0},
                                              {"id", ""},
                                              {"model", ""},
                                              {"object", ""},
                                              {"prompt_filter_results", azureFilterResults()}}));
    }
    auto pieces = splitPieces(text, chunks);
    if (tool.empty()) {
      p.events.push_back(chunk(
          json::object{{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr));
      for (const auto& piece : pieces) {
        p.events.push_back(chunk(json::object{{"content", piece}}, nullptr));
      }
    } else {
      json::object call{{"index", 0},
                        {"id", "call_fake_1"},
                        {"type", "function"},
                        {"function", json::object{{"name", tool}, {"arguments", ""}}}};
      p.events.push_back(chunk(json::object{{"role", "assistant"},
                                            {"content", nullptr},
                                            {"tool_calls", json::array{call}},
                                            {"refusal", nullptr}},
                               nullptr));
      for (const auto& piece : pieces) {
        json::object part{{"index", 0}, {"function", json::object{{"arguments", piece}}}};
        p.events.push_back(chunk(json::object{{"tool_calls", json::array{part}}}, nullptr));
      }
    }
    p.events.push_back(chunk(json::object{}, json::value(finish)));
    if (include_usage) {
      p.events.push_back(sseData(json::object{{"id", id},
                                              {"object", "chat.completion.chunk"},
                                              {"created", kCreated},
                                              {"model", model},
                                              {"system_fingerprint", fingerprint()},
                                              {"choices", json::array{}},
                                              {"usage", openAiUsage(prompt, completion)}}));
    }
    p.events.emplace_back("data: [DONE]\n\n");
    p.error_event = sseData(errorBody(Style::kOpenAI, FakeError::kServer));
    return p;
  }

  Plan anthropicMessage(const json::object& /*req*/,
                        const FakeBehaviour& /*b*/,
                        const std::string& model,
                        const std::string& text,
                        const std::string& tool,
                        bool cut,
                        std::size_t prompt,
                        std::size_t completion,
                        std::size_t chunks,
                        bool stream) {
    std::string id = newId("msg_fake");
    std::string stop = !tool.empty() ? "tool_use" : (cut ? "max_tokens" : "end_turn");
    json::object usage{{"input_tokens", prompt},
                       {"cache_creation_input_tokens", 0},
                       {"cache_read_input_tokens", 0},
                       {"output_tokens", completion}};
    if (!stream) {
      json::array content;
      if (tool.empty()) {
        content.push_back(json::object{{"type", "text"}, {"text", text}});
      } else {
        boost::system::error_code ec;
        json::value input = json::parse(text, ec);
        content.push_back(json::object{{"type", "tool_use"},
                                       {"id", "toolu_fake_1"},
                                       {"name", tool},
                                       {"input", ec ? json::value(json::object{}) : input}});
      }
      Plan p = jsonPlan(200,
                        json::object{{"id", id},
                                     {"type", "message"},
                                     {"role", "assistant"},
                                     {"model", model},
                                     {"content", std::move(content)},
                                     {"stop_reason", stop},
                                     {"stop_sequence", nullptr},
                                     {"usage", usage}});
      p.headers.emplace_back("request-id", newId("req_fake"));
      return p;
    }
    Plan p;
    p.streaming = true;
    p.headers.emplace_back("Content-Type", "text/event-stream; charset=utf-8");
    p.headers.emplace_back("Cache-Control", "no-cache");
    p.headers.emplace_back("request-id", newId("req_fake"));
    json::object start_usage = usage;
    start_usage["output_tokens"] = 1;
    p.events.push_back(sseEvent("message_start",
                                json::object{{"type", "message_start"},
                                             {"message",
                                              json::object{{"id", id},
                                                           {"type", "message"},
                                                           {"role", "assistant"},
                                                           {"model", model},
                                                           {"content", json::array{}},
                                                           {"stop_reason", nullptr},
                                                           {"stop_sequence", nullptr},
                                                           {"usage", start_usage}}}}));
    json::object block = tool.empty() ? json::object{{"type", "text"}, {"text", ""}}
                                      : json::object{{"type", "tool_use"},
                                                     {"id", "toolu_fake_1"},
                                                     {"name", tool},
                                                     {"input", json::object{}}};
    p.events.push_back(sseEvent(
        "content_block_start",
        json::object{{"type", "content_block_start"}, {"index", 0}, {"content_block", block}}));
    p.events.push_back(sseEvent("ping", json::object{{"type", "ping"}}));
    for (const auto& piece : splitPieces(text, chunks)) {
      json::object delta =
          tool.empty() ? json::object{{"type", "text_delta"}, {"text", piece}}
                       : json::object{{"type", "input_json_delta"}, {"partial_json", piece}};
      p.events.push_back(
          sseEvent("content_block_delta",
                   json::object{{"type", "content_block_delta"}, {"index", 0}, {"delta", delta}}));
    }
    p.events.push_back(
        sseEvent("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", 0}}));
    p.events.push_back(sseEvent(
        "message_delta",
        json::object{{"type", "message_delta"},
                     {"delta", json::object{{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                     {"usage", json::object{{"output_tokens", completion}}}}));
    p.events.push_back(sseEvent("message_stop", json::object{{"type", "message_stop"}}));
    p.error_event = sseEvent("error", errorBody(Style::kAnthropic, FakeError::kOverloaded));
    return p;
  }

  Plan embeddings(const json::object& req, const std::string& model) {
    std::vector<std::string> inputs;
    std::size_t tokens = 0;
    const auto* input = req.if_contains("input");
    if (input == nullptr) {
      return jsonPlan(
          400,
          openAiError("'input' is a required property", "invalid_request_error", nullptr, nullptr));
    }
    if (input->is_string()) {
      inputs.emplace_back(input->get_string());
    } else if (input->is_array()) {
      const auto& arr = input->get_array();
      bool token_list = !arr.empty() && arr.front().is_number();
      if (token_list) {
        inputs.push_back(json::serialize(arr));
        tokens += arr.size();
      } else {
        for (const auto& item : arr) {
          if (item.is_string()) {
            inputs.emplace_back(item.get_string());
          } else if (item.is_array()) {
            inputs.push_back(json::serialize(item));
            tokens += item.get_array().size();
          }
        }
      }
    }
    for (const auto& s : inputs) {
      if (s.empty() || s.front() != '[') {
        tokens += words(s);
      }
    }
    tokens = std::max<std::size_t>(tokens, 1);
    auto dims = intField(req, "dimensions").value_or(8);
    dims = std::clamp<std::int64_t>(dims, 1, 4096);
    bool b64 = stringField(req, "encoding_format") == "base64";
    json::array data;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::uint64_t h = fnv1a(inputs[i]);
      std::vector<float> v(static_cast<std::size_t>(dims));
      for (std::size_t j = 0; j < v.size(); ++j) {
        auto bits = splitmix(h + j);
        v[j] = static_cast<float>(static_cast<double>(bits % 20001) / 10000.0 - 1.0);
      }
      json::value embedding;
      if (b64) {
        std::string raw(v.size() * sizeof(float), '\0');
        std::memcpy(raw.data(), v.data(), raw.size());  // little-endian hosts, as the API
        embedding = base64(raw);
      } else {
        json::array values;
        for (float f : v) {
          values.push_back(static_cast<double>(f));
        }
        embedding = std::move(values);
      }
      data.push_back(
          json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
    }
    Plan p = jsonPlan(
        200,
        json::object{{"object", "list"},
                     {"data", std::move(data)},
                     {"model", model},
                     {"usage", json::object{{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
    p.headers.emplace_back("x-request-id", newId("req_fake"));
    return p;
  }

  Plan openAiModels() {
    json::array data;
    bool ollama = options.flavour == FakeUpstreamOptions::Flavour::kOllama;
    for (const auto& m : ollama ? options.ollama_models : options.openai_models) {
      data.push_back(json::object{{"id", m},
                                  {"object", "model"},
                                  {"created", kCreated},
                                  {"owned_by", ollama ? "library" : "system"}});
    }
    return jsonPlan(200, json::object{{"object", "list"}, {"data", std::move(data)}});
  }

  Plan anthropicModels() {
    json::array data;
    for (const auto& m : options.anthropic_models) {
      data.push_back(json::object{{"type", "model"},
                                  {"id", m},
                                  {"display_name", m},
                                  {"created_at", "2025-01-01T00:00:00Z"}});
    }
    std::string first = options.anthropic_models.empty() ? "" : options.anthropic_models.front();
    std::string last = options.anthropic_models.empty() ? "" : options.anthropic_models.back();
    return jsonPlan(200,
                    json::object{{"data", std::move(data)},
                                 {"has_more", false},
                                 {"first_id", first},
                                 {"last_id", last}});
  }

  Plan azureModels() {
    json::array data;
    for (const auto& m : options.openai_models) {
      data.push_back(json::object{{"id", m},
                                  {"object", "model"},
                                  {"created_at", kCreated},
                                  {"status", "succeeded"},
                                  {"lifecycle_status", "generally-available"}});
    }
    return jsonPlan(200, json::object{{"data", std::move(data)}, {"object", "list"}});
  }

  Plan ollamaTags() {
    json::array models;
    for (const auto& m : options.ollama_models) {
      models.push_back(
          json::object{{"name", m},
                       {"model", m},
                       {"modified_at", "2025-01-01T00:00:00.000000000Z"},
                       {"size", 2019393189},
                       {"digest", fmt::format("{:016x}{:016x}", fnv1a(m), splitmix(fnv1a(m)))},
                       {"details",
                        json::object{{"parent_model", ""},
                                     {"format", "gguf"},
                                     {"family", "llama"},
                                     {"families", json::array{"llama"}},
                                     {"parameter_size", "3.2B"},
                                     {"quantization_level", "Q4_K_M"}}}});
    }
    return jsonPlan(200, json::object{{"models", std::move(models)}});
  }

  // ---- routing ----

  static bool contains(const std::vector<std::string>& keys, std::string_view key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }

  std::vector<std::string> keysOf(FakeUpstreamOptions::Provider provider) const {
    std::lock_guard lock(mu);
    switch (provider) {
      case FakeUpstreamOptions::Provider::kAzure:
        return azure_keys;
      case FakeUpstreamOptions::Provider::kAnthropic:
        return anthropic_keys;
      case FakeUpstreamOptions::Provider::kOpenAI:
        break;
    }
    return openai_keys;
  }

  void setKeys(FakeUpstreamOptions::Provider provider, std::vector<std::string> keys) {
    std::lock_guard lock(mu);
    switch (provider) {
      case FakeUpstreamOptions::Provider::kAzure:
        azure_keys = std::move(keys);
        return;
      case FakeUpstreamOptions::Provider::kAnthropic:
        anthropic_keys = std::move(keys);
        return;
      case FakeUpstreamOptions::Provider::kOpenAI:
        openai_keys = std::move(keys);
        return;
    }
  }

  std::optional<Plan> authenticate(Style style, const RecordedRequest& r) const {
    if (style == Style::kAnthropic) {
      std::string key = r.header("x-api-key");
      auto allowed = keysOf(FakeUpstreamOptions::Provider::kAnthropic);
      if (allowed.empty() || contains(allowed, key)) {
        return std::nullopt;
      }
      if (key.empty()) {
        return jsonPlan(401,
                        json::object{{"type", "error"},
                                     {"error",
                                      json::object{{"type", "authentication_error"},
                                                   {"message", "x-api-key header is required"}}}});
      }
      return jsonPlan(401, errorBody(Style::kAnthropic, FakeError::kAuth));
    }
    if (style == Style::kAzure) {
      std::string key = r.header("api-key");
      auto allowed = keysOf(FakeUpstreamOptions::Provider::kAzure);
      if (allowed.empty() || contains(allowed, key)) {
        return std::nullopt;
      }
      return jsonPlan(401, errorBody(Style::kAzure, FakeError::kAuth));
    }
    auto allowed = keysOf(FakeUpstreamOptions::Provider::kOpenAI);
    if (options.flavour == FakeUpstreamOptions::Flavour::kOllama || allowed.empty()) {
      return std::nullopt;
    }
    std::string auth = r.header("authorization");
    std::string key;
    if (auth.size() > 7 && beast::iequals(auth.substr(0, 7), "bearer ")) {
      key = auth.substr(7);
    }
    if (contains(allowed, key)) {
      return std::nullopt;
    }
    if (key.empty()) {
      return jsonPlan(
          401,
          openAiError("You didn't provide an API key. You need to provide your API key in an "
                      "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                      "YOUR_KEY), or as the password field (with blank username) if you're "
                      "accessing the API from your browser and are prompted for a username. You "
                      "can obtain an API key from https://platform.openai.com/account/api-keys.",
                      "invalid_request_error",
                      nullptr,
                      nullptr));
    }
    return jsonPlan(401,
                    openAiError("Incorrect API key provided: " + maskKey(key) +
                                    ". You can find your API key at "
                                    "https://platform.openai.com/account/api-keys.",
                                "invalid_request_error",
                                nullptr,
                                "invalid_api_key"));
  }

  static std::string queryParam(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) {
      return {};
    }
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      auto eq = pair.find('=');
      if (pair.substr(0, eq) == name) {
        return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
      }
      if (amp == std::string_view::npos) {
        break;
      }
      query.remove_prefix(amp + 1);
    }
    return {};
  }

  // Which provider a path belongs to (for error shapes), and the Azure deployment if any.
  static Style styleOf(const RecordedRequest& r, std::string* deployment = nullptr) {
    constexpr std::string_view kAzurePrefix = "/openai/";
    if (r.path.rfind(kAzurePrefix, 0) == 0) {
      constexpr std::string_view kDeployments = "/openai/deployments/";
      if (deployment != nullptr && r.path.rfind(kDeployments, 0) == 0) {
        std::string_view rest = std::string_view(r.path).substr(kDeployments.size());
        *deployment = std::string(rest.substr(0, rest.find('/')));
      }
      return Style::kAzure;
    }
    if (r.path == "/v1/messages" ||
        (r.path == "/v1/models" &&
         (!r.header("x-api-key").empty() || !r.header("anthropic-version").empty()))) {
      return Style::kAnthropic;
    }
    return Style::kOpenAI;
  }

  Plan route(const RecordedRequest& r, const FakeBehaviour& b) {
    std::string deployment;
    Style style = styleOf(r, &deployment);
    if (b.status != 0) {
      Plan p;
      if (b.body) {
        p.status = b.status;
        p.body = *b.body;
        if (!p.body.empty()) {
          p.headers.emplace_back("Content-Type", "application/json");
        }
      } else {
        p = jsonPlan(b.status, errorBody(style, resolveError(b.status, b.error)));
      }
      return p;
    }
    if (auto denied = authenticate(style, r)) {
      return *denied;
    }
    bool post = r.method == "POST";
    bool get = r.method == "GET";
    auto parseBody = [&](json::object& out) -> std::optional<Plan> {
      boost::system::error_code ec;
      json::value v = json::parse(r.body, ec);
      if (!ec && v.is_object()) {
        out = std::move(v.get_object());
        return std::nullopt;
      }
      if (style == Style::kAnthropic) {
        return jsonPlan(400,
                        json::object{{"type", "error"},
                                     {"error",
                                      json::object{{"type", "invalid_request_error"},
                                                   {"message",
                                                    "There was an error parsing the body of the "
                                                    "request: not a JSON object"}}}});
      }
      return jsonPlan(
          400,
          openAiError("We could not parse the JSON body of your request. (HINT: This likely means "
                      "you aren't using your HTTP library correctly. The OpenAI API expects a "
                      "JSON payload, but what was sent was not valid JSON.)",
                      "invalid_request_error",
                      nullptr,
                      nullptr));
    };
    if (style == Style::kAzure) {
      if (queryParam(r.target, "api-version").empty()) {
        return jsonPlan(
            404,
            json::object{
                {"error", json::object{{"code", "404"}, {"message", "Resource not found"}}}});
      }
      std::string suffix = "/openai/deployments/" + deployment;
      if (get && r.path == "/openai/models") {
        return azureModels();
      }
      if (post && !deployment.empty() && r.path == suffix + "/chat/completions") {
        json::object req;
        if (auto bad = parseBody(req)) {
          return *bad;
        }
        return chat(Style::kAzure, req, b, options.azure_model);
      }
      if (post && !deployment.empty() && r.path == suffix + "/embeddings") {
        json::object req;
        if (auto bad = parseBody(req)) {
          return *bad;
        }
        return embeddings(req, options.azure_model);
      }
      return jsonPlan(404, errorBody(Style::kAzure, FakeError::kNotFound));
    }
    if (style == Style::kAnthropic) {
      if (get && r.path == "/v1/models") {
        return anthropicModels();
      }
      if (!post) {
        return jsonPlan(405, errorBody(Style::kAnthropic, FakeError::kNotFound));
      }
      if (r.header("anthropic-version").empty()) {
        return jsonPlan(
            400,
            json::object{{"type", "error"},
                         {"error",
                          json::object{{"type", "invalid_request_error"},
                                       {"message", "anthropic-version: header is required"}}}});
      }
      json::object req;
      if (auto bad = parseBody(req)) {
        return *bad;
      }
      auto invalid = [](std::string_view message) {
        return jsonPlan(
            400,
            json::object{
                {"type", "error"},
                {"error", json::object{{"type", "invalid_request_error"}, {"message", message}}}});
      };
      if (!intField(req, "max_tokens")) {
        return invalid("max_tokens: Field required");
      }
      const auto* msgs = req.if_contains("messages");
      if (msgs == nullptr || !msgs->is_array() || msgs->get_array().empty()) {
        return invalid("messages: Field required");
      }
      return chat(Style::kAnthropic, req, b, stringField(req, "model"));
    }
    if (post && r.path == "/v1/chat/completions") {
      json::object req;
      if (auto bad = parseBody(req)) {
        return *bad;
      }
      if (stringField(req, "model").empty()) {
        return jsonPlan(
            400,
            openAiError(
                "you must provide a model parameter", "invalid_request_error", nullptr, nullptr));
      }
      const auto* msgs = req.if_contains("messages");
      if (msgs == nullptr || !msgs->is_array() || msgs->get_array().empty()) {
        return jsonPlan(
            400,
            openAiError(
                "[] is too short - 'messages'", "invalid_request_error", "messages", nullptr));
      }
      return chat(Style::kOpenAI, req, b, stringField(req, "model"));
    }
    if (post && r.path == "/v1/embeddings") {
      json::object req;
      if (auto bad = parseBody(req)) {
        return *bad;
      }
      return embeddings(req, stringField(req, "model"));
    }
    if (get && r.path == "/v1/models") {
      return openAiModels();
    }
    if (get && r.path == "/api/tags") {
      return ollamaTags();
    }
    return jsonPlan(404,
                    openAiError(fmt::format("Invalid URL ({} {})", r.method, r.path),
                                "invalid_request_error",
                                nullptr,
                                nullptr));
  }

  // ---- control endpoints ----

  Plan control(const RecordedRequest& r) {
    if (r.method == "POST" && r.path == "/__fake/reset") {
      resetState();
      return jsonPlan(200, json::object{{"ok", true}});
    }
    if (r.method == "GET" && r.path == "/__fake/requests") {
      json::array list;
      std::size_t accepted_now = 0;
      std::size_t open_now = 0;
      {
        std::lock_guard lock(mu);
        for (const auto& rec : recorded) {
          json::array headers;
          for (const auto& [k, v] : rec.headers) {
            headers.push_back(json::array{json::string(k), json::string(v)});
          }
          list.push_back(json::object{{"method", rec.method},
                                      {"target", rec.target},
                                      {"path", rec.path},
                                      {"headers", std::move(headers)},
                                      {"body", rec.body},
                                      {"connection_id", rec.connection_id},
                                      {"sequence", rec.sequence},
                                      {"completed", rec.completed},
                                      {"cancelled", rec.cancelled}});
        }
        accepted_now = accepted;
        open_now = open.size();
      }
      return jsonPlan(200,
                      json::object{{"requests", std::move(list)},
                                   {"connections_accepted", accepted_now},
                                   {"open_connections", open_now}});
    }
    if (r.method == "POST" && r.path == "/__fake/behaviour") {
      auto bad = [](std::string message) {
        return jsonPlan(400, json::object{{"error", json::object{{"message", message}}}});
      };
      boost::system::error_code ec;
      json::value v = json::parse(r.body, ec);
      if (ec || !v.is_object()) {
        return bad("body must be a JSON object");
      }
      const auto& o = v.get_object();
      std::string path = stringField(o, "path");
      if (path.empty()) {
        path = "*";
      }
      bool is_once = true;
      if (const auto* once_flag = o.if_contains("once"); once_flag != nullptr) {
        is_once = once_flag->is_bool() && once_flag->get_bool();
      }
      auto times = intField(o, "times").value_or(1);
      const auto* behaviour = o.if_contains("behaviour");
      std::string error;
      auto parsed = FakeBehaviour::fromJson(
          behaviour == nullptr ? std::string("{}") : json::serialize(*behaviour), &error);
      if (!parsed) {
        return bad(error);
      }
      std::lock_guard lock(mu);
      if (is_once) {
        for (std::int64_t i = 0; i < std::max<std::int64_t>(times, 1); ++i) {
          once[path].push_back(*parsed);
        }
      } else {
        defaults[path] = *parsed;
      }
      return jsonPlan(200, json::object{{"ok", true}});
    }
    if (r.method == "POST" && r.path == "/__fake/keys") {
      return controlKeys(r);
    }
    return jsonPlan(404, json::object{{"error", json::object{{"message", "no such control"}}}});
  }

  // POST /__fake/keys {"openai":[...],"azure":[...],"anthropic":[...]}: each list given replaces
  // that provider's accepted keys ([] accepts any key); lists not given stay. All or nothing.
  Plan controlKeys(const RecordedRequest& r) {
    auto bad = [](std::string message) {
      return jsonPlan(400, json::object{{"error", json::object{{"message", message}}}});
    };
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) {
      return bad("body must be a JSON object");
    }
    using Provider = FakeUpstreamOptions::Provider;
    std::vector<std::pair<Provider, std::vector<std::string>>> changes;
    for (const auto& [name, list] : v.get_object()) {
      Provider provider = Provider::kOpenAI;
      if (name == "openai") {
        provider = Provider::kOpenAI;
      } else if (name == "azure") {
        provider = Provider::kAzure;
      } else if (name == "anthropic") {
        provider = Provider::kAnthropic;
      } else {
        return bad("unknown provider: " + std::string(name));
      }
      if (!list.is_array()) {
        return bad(std::string(name) + " must be an array of strings");
      }
      std::vector<std::string> keys;
      for (const auto& k : list.get_array()) {
        if (!k.is_string()) {
          return bad(std::string(name) + " must be an array of strings");
        }
        keys.emplace_back(k.get_string());
      }
      changes.emplace_back(provider, std::move(keys));
    }
    for (auto& [provider, keys] : changes) {
      setKeys(provider, std::move(keys));
    }
    return jsonPlan(200, json::object{{"ok", true}});
  }

  void resetState() {
    std::lock_guard lock(mu);
    once.clear();
    defaults.clear();
    recorded.clear();
    ++epoch;
    accepted = 0;
    reply_text = options.reply_text;
    stream_chunks = options.stream_chunks;
  }

  // Records how request `seq` of reset epoch `at_epoch` ended (nothing once a reset forgot it).
  void settle(std::uint64_t at_epoch, std::size_t seq, bool completed) {
    {
      std::lock_guard lock(mu);
      if (at_epoch != epoch || seq >= recorded.size()) {
        return;
      }
      (completed ? recorded[seq].completed : recorded[seq].cancelled) = true;
    }
    cv.notify_all();
  }

  // ---- I/O ----

  // Waits `d` unless the client closes its side first; returns false when it did.
  static net::awaitable<bool> pause(tcp::socket& raw, std::chrono::steady_clock::duration d) {
    using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
    net::steady_timer timer(raw.get_executor());
    timer.expires_after(d);
    for (;;) {
      auto outcome =
          co_await (timer.async_wait(kAsTuple) || raw.async_wait(tcp::socket::wait_read, kAsTuple));
      if (outcome.index() == 0) {
        co_return true;
      }
      char byte = 0;
      auto n = ::recv(raw.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        co_return false;  // closed or reset
      }
      if (n > 0) {
        // The client sent more (a pipelined request or TLS data): just wait out the timer.
        auto [ec] = co_await timer.async_wait(kAsTuple);
        co_return !ec || ec == net::error::operation_aborted;
      }
    }
  }

  template <class Stream>
  struct Emitter {
    Stream& stream;
    tcp::socket& raw;
    const FakeBehaviour& b;
    std::size_t written = 0;
    bool broken = false;
    bool faulted = false;  // close_after_bytes ended the response (a scripted fault)

    net::awaitable<bool> writeAll(std::string_view bytes) {
      auto [ec, n] =
          co_await net::async_write(stream, net::buffer(bytes.data(), bytes.size()), kAsTuple);
      written += n;
      if (ec) {
        broken = true;
      }
      co_return !ec;
    }

    // Writes `bytes`, honouring close_after_bytes and trickling. False once the connection is
    // gone (by fault or by the client).
    net::awaitable<bool> emit(std::string_view bytes) {
      if (broken) {
        co_return false;
      }
      bool cut = false;
      if (b.close_after_bytes > 0) {
        std::size_t left = b.close_after_bytes > written ? b.close_after_bytes - written : 0;
        if (bytes.size() >= left) {
          bytes = bytes.substr(0, left);
          cut = true;
        }
      }
      if (b.trickle_bytes > 0) {
        while (!bytes.empty()) {
          auto piece = bytes.substr(0, b.trickle_bytes);
          if (!co_await writeAll(piece)) {
            co_return false;
          }
          bytes.remove_prefix(piece.size());
          if (!bytes.empty() && !co_await pause(raw, b.trickle_interval)) {
            broken = true;
            co_return false;
          }
        }
      } else if (!bytes.empty() && !co_await writeAll(bytes)) {
        co_return false;
      }
      if (cut) {
        beast::error_code ignored;
        raw.shutdown(tcp::socket::shutdown_send, ignored);
        raw.close(ignored);
        broken = true;
        faulted = true;
        co_return false;
      }
      co_return true;
    }
  };

  static void resetConnection(tcp::socket& raw) {
    beast::error_code ignored;
    raw.set_option(net::socket_base::linger(true, 0), ignored);
    raw.close(ignored);
  }

  // Waits until the client goes away (for kHang).
  template <class Stream>
  static net::awaitable<void> waitForClose(Stream& stream) {
    std::array<char, 1024> sink{};
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kAsTuple);
      if (ec) {
        co_return;
      }
    }
  }

  static std::string chunkOf(std::string_view data) {
    return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
  }

  // Serves one connection until it closes. Returns when the connection should end.
  template <class Stream>
  net::awaitable<void> serve(Stream& stream,
                             tcp::socket& raw,
                             std::uint64_t connection_id,
                             std::string sni) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_request_bytes);
      parser.header_limit(64 * 1024);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
      if (ec) {
        co_return;
      }
      auto msg = parser.release();
      RecordedRequest rec;
      rec.method = std::string(msg.method_string());
      rec.target = std::string(msg.target());
      rec.path = rec.target.substr(0, rec.target.find('?'));
      for (const auto& f : msg) {
        rec.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      }
      rec.body = std::move(msg.body());
      rec.connection_id = connection_id;
      rec.sni = sni;
      bool keep_alive = msg.keep_alive();

      Plan plan;
      FakeBehaviour behaviour;
      // The outcome of a recorded (provider) request: `ended(true)` once the whole response is
      // written, `ended(false)` when the client went away first. Control calls are not recorded.
      bool recorded_request = false;
      std::uint64_t at_epoch = 0;
      auto ended = [&](bool completed) {
        if (recorded_request) {
          settle(at_epoch, rec.sequence, completed);
        }
      };
      if (options.control_endpoints && rec.path.rfind("/__fake/", 0) == 0) {
        plan = control(rec);
      } else {
        behaviour = behaviourFor(rec.path);
        {
          std::lock_guard lock(mu);
          rec.sequence = recorded.size();
          recorded.push_back(rec);
          at_epoch = epoch;
          recorded_request = true;
        }
        cv.notify_all();
        if (behaviour.kind == FakeBehaviour::Kind::kReset) {
          resetConnection(raw);
          co_return;
        }
        if (behaviour.kind == FakeBehaviour::Kind::kHang) {
          co_await waitForClose(stream);
          ended(false);
          co_return;
        }
        plan = route(rec, behaviour);
      }
      if (behaviour.head_delay.count() > 0 && !co_await pause(raw, behaviour.head_delay)) {
        ended(false);
        co_return;
      }
      bool close = behaviour.close_connection || !keep_alive;
      std::string head = fmt::format("HTTP/1.1 {} {}\r\n", plan.status, reason(plan.status));
      for (const auto& [k, v] : plan.headers) {
        head += fmt::format("{}: {}\r\n", k, v);
      }
      for (const auto& [k, v] : behaviour.headers) {
        head += fmt::format("{}: {}\r\n", k, v);
      }
      if (plan.streaming) {
        head += "Transfer-Encoding: chunked\r\n";
      } else {
        head += fmt::format("Content-Length: {}\r\n", plan.body.size());
      }
      head += close ? "Connection: close\r\n\r\n" : "\r\n";
      Emitter<Stream> out{stream, raw, behaviour};
      // A failed write is the client's doing unless close_after_bytes cut it on purpose.
      auto gone = [&] {
        if (!out.faulted) {
          ended(false);
        }
      };
      if (!co_await out.emit(head)) {
        gone();
        co_return;
      }
      auto kind = behaviour.kind;
      if (!plan.streaming) {
        if (kind == FakeBehaviour::Kind::kFailMidStream) {
          co_await out.emit(std::string_view(plan.body).substr(0, plan.body.size() / 2));
          resetConnection(raw);
          co_return;
        }
        if (!co_await out.emit(plan.body)) {
          gone();
          co_return;
        }
      } else {
        std::size_t sent = 0;
        bool stopped = false;
        for (const auto& event : plan.events) {
          if ((kind == FakeBehaviour::Kind::kFailMidStream ||
               kind == FakeBehaviour::Kind::kErrorEvent) &&
              sent == behaviour.fail_after_events) {
            stopped = true;
            break;
          }
          if (sent > 0 && behaviour.event_delay.count() > 0 &&
              !co_await pause(raw, behaviour.event_delay)) {
            ended(false);
            co_return;
          }
          if (!co_await out.emit(chunkOf(event))) {
            gone();
            co_return;
          }
          ++sent;
        }
        if (stopped && kind == FakeBehaviour::Kind::kFailMidStream) {
          resetConnection(raw);
          co_return;
        }
        if (stopped && kind == FakeBehaviour::Kind::kErrorEvent &&
            !co_await out.emit(chunkOf(plan.error_event))) {
          gone();
          co_return;
        }
        if (!co_await out.emit("0\r\n\r\n")) {
          gone();
          co_return;
        }
      }
      ended(true);
      if (close) {
        beast::error_code ignored;
        raw.shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  net::awaitable<void> session(tcp::socket socket, std::uint64_t connection_id) {
    struct Closed {
      Impl& impl;
      std::uint64_t id;
      ~Closed() {
        {
          std::lock_guard lock(impl.mu);
          impl.open.erase(id);
          impl.closed.insert(id);
        }
        impl.cv.notify_all();
      }
    } closed_guard{*this, connection_id};
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls) {
      ssl::stream<tcp::socket> stream(std::move(socket), *tls);
      auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAsTuple);
      if (ec) {
        co_return;
      }
      const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      std::string sni = name == nullptr ? std::string() : std::string(name);
      co_await serve(stream, stream.next_layer(), connection_id, std::move(sni));
      stream.next_layer().close(ignored);
    } else {
      co_await serve(socket, socket, connection_id, {});
      socket.close(ignored);
    }
  }

  net::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
      if (ec) {
        if (!acceptor.is_open()) {
          co_return;
        }
        continue;
      }
      std::uint64_t id = 0;
      {
        std::lock_guard lock(mu);
        id = next_connection++;
        ++accepted;
        open.insert(id);
      }
      net::co_spawn(*io, session(std::move(socket), id), [](const std::exception_ptr& ep) {
        if (ep) {
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            std::cerr << "fake upstream session failed: " << e.what() << "\n";
          }
        }
      });
    }
  }
};

FakeUpstream::FakeUpstream(FakeUpstreamOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& impl = *impl_;
  if (impl.options.tls) {
    impl.tls.emplace(ssl::context::tls_server);
    const auto& id = *impl.options.tls;
    impl.tls->use_certificate_chain(net::buffer(id.cert_chain_pem));
    impl.tls->use_private_key(net::buffer(id.key_pem), ssl::context::pem);
  }
  tcp::endpoint ep(net::ip::make_address(impl.options.host), impl.options.port);
  impl.acceptor.open(ep.protocol());
  impl.acceptor.set_option(net::socket_base::reuse_address(true));
  impl.acceptor.bind(ep);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  net::co_spawn(*impl.io, impl.acceptLoop(), [](const std::exception_ptr&) {});
  impl.thread = std::thread([&impl] { impl.io->run(); });
}

FakeUpstream::~FakeUpstream() {
  impl_->io->stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  // Destroy the pending coroutine frames (sessions) while the rest of Impl is still alive.
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->io.reset();
}

std::uint16_t FakeUpstream::port() const {
  return impl_->port;
}

std::string FakeUpstream::baseUrl() const {
  if (impl_->options.tls) {
    return fmt::format("https://localhost:{}", impl_->port);
  }
  return fmt::format("http://{}:{}", impl_->options.host, impl_->port);
}

void FakeUpstream::push(const std::string& path, FakeBehaviour behaviour, std::size_t times) {
  std::lock_guard lock(impl_->mu);
  for (std::size_t i = 0; i < times; ++i) {
    impl_->once[path].push_back(behaviour);
  }
}

void FakeUpstream::setDefault(const std::string& path, FakeBehaviour behaviour) {
  std::lock_guard lock(impl_->mu);
  impl_->defaults[path] = std::move(behaviour);
}

void FakeUpstream::setAcceptedKeys(FakeUpstreamOptions::Provider provider,
                                   std::vector<std::string> keys) {
  impl_->setKeys(provider, std::move(keys));
}

void FakeUpstream::setReply(std::string text, std::size_t chunks) {
  std::lock_guard lock(impl_->mu);
  impl_->reply_text = std::move(text);
  impl_->stream_chunks = chunks;
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t FakeUpstream::requestCount() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded.size();
}

std::size_t FakeUpstream::requestCount(std::string_view path) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(std::count_if(impl_->recorded.begin(),
                                                impl_->recorded.end(),
                                                [path](const auto& r) { return r.path == path; }));
}

std::size_t FakeUpstream::connectionsAccepted() const {
  std::lock_guard lock(impl_->mu);
  return impl_->accepted;
}

std::size_t FakeUpstream::openConnections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open.size();
}

bool FakeUpstream::waitForRequests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= n; });
}

bool FakeUpstream::waitConnectionClosed(std::uint64_t id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->closed.count(id) > 0; });
}

bool FakeUpstream::connectionClosed(std::uint64_t id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed.count(id) > 0;
}

void FakeUpstream::reset() {
  impl_->resetState();
}

}  // namespace livery::testing
