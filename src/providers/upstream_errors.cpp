#include "providers/upstream_errors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/log.hpp"
#include "providers/json_text.hpp"

namespace livery::providers {

namespace {

constexpr std::size_t kMaxClientText = 512;
constexpr std::size_t kSecretRun = 32;
constexpr int kMaxRetryAfterS = 86400;

std::string asText(const boost::json::value* v) {
  if (v == nullptr) {
    return {};
  }
  if (v->is_string()) {
    return std::string(v->get_string());
  }
  if (v->is_int64()) {
    return std::to_string(v->get_int64());
  }
  if (v->is_uint64()) {
    return std::to_string(v->get_uint64());
  }
  return {};
}

bool isKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// Only short identifier-like codes and params are passed to clients (and codes that are just an
// HTTP status, as Azure and vLLM send, are not codes).
bool isSafeToken(std::string_view s, bool allow_brackets) {
  if (s.empty() || s.size() > 64 || std::none_of(s.begin(), s.end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c)) != 0;
      })) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' ||
           (allow_brackets && (c == '[' || c == ']'));
  });
}

std::string clientSafeTextImpl(std::string_view text);

// A code or param goes to the client only when it is identifier-like and nothing in it looks
// like a key (a 32-character hex run is an Azure key as much as it is an identifier).
bool isPassableToken(std::string_view s, bool allow_brackets) {
  return isSafeToken(s, allow_brackets) && clientSafeTextImpl(s) == s;
}

bool containsNoCase(std::string_view haystack, std::string_view needle) {
  const auto* it = std::search(
      haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
  return it != haystack.end();
}

// Starts a sentence: "The provider (anthropic)".
std::string providerLabel(std::string_view provider) {
  return provider.empty() ? std::string("The provider")
                          : "The provider (" + std::string(provider) + ")";
}

}  // namespace

ProviderErrorText extractErrorText(std::string_view body) {
  ProviderErrorText out;
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(body, ec);
  if (ec || !root.is_object()) {
    return out;
  }
  const auto& obj = root.get_object();
  const boost::json::value* err = obj.if_contains("error");
  if (err != nullptr && err->is_object()) {
    // OpenAI / Azure / Anthropic: {"error":{...}} (Anthropic adds "type":"error" outside).
    const auto& e = err->get_object();
    out.message = asText(e.if_contains("message"));
    out.type = asText(e.if_contains("type"));
    out.code = asText(e.if_contains("code"));
    out.param = asText(e.if_contains("param"));
  } else if (err != nullptr && err->is_string()) {
    out.message = std::string(err->get_string());  // Ollama native: {"error":"..."}
  } else {
    // vLLM (older): {"object":"error","message":...,"type":...,"code":400}
    out.message = asText(obj.if_contains("message"));
    out.type = asText(obj.if_contains("type"));
    out.code = asText(obj.if_contains("code"));
  }
  return out;
}

std::optional<int> parseRetryAfter(std::string_view retry_after, std::string_view retry_after_ms) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
      s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
      s.remove_suffix(1);
    }
    return s;
  };
  auto parse = [](std::string_view s) -> std::optional<double> {
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !(v >= 0)) {
      return std::nullopt;
    }
    return v;
  };
  std::optional<double> seconds;
  if (auto ms = parse(trim(retry_after_ms))) {
    seconds = *ms / 1000.0;
  } else if (auto s = parse(trim(retry_after))) {
    seconds = *s;
  }
  if (!seconds) {
    return std::nullopt;
  }
  double clamped = std::min(*seconds, static_cast<double>(kMaxRetryAfterS));
  int whole = static_cast<int>(clamped);
  return clamped > whole ? whole + 1 : whole;
}

std::string clientSafeText(std::string_view text) {
  return clientSafeTextImpl(text);
}

namespace {

std::string clientSafeTextImpl(std::string_view text) {
  std::string s(text);
  redactLikelySecrets(s);
  // Any long run of key characters may be a key of another format (Azure keys are 32 hex).
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (isKeyChar(s[i])) {
      std::size_t j = i;
      while (j < s.size() && isKeyChar(s[j])) {
        ++j;
      }
      if (j - i >= kSecretRun) {
        out += "***";
      } else {
        out.append(s, i, j - i);
      }
      i = j;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7F ? ' ' : s[i]);
    ++i;
  }
  if (out.size() > kMaxClientText) {
    std::size_t cut = kMaxClientText;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;  // do not split a UTF-8 sequence
    }
    out.resize(cut);
    out += "…";
  }
  return out;
}

}  // namespace

bool isContextOverflow(const ProviderErrorText& t) {
  if (t.code == "context_length_exceeded" || t.type == "context_length_exceeded") {
    return true;
  }
  const std::string_view m = t.message;
  return containsNoCase(m, "context length") || containsNoCase(m, "context window") ||
         containsNoCase(m, "prompt is too long") || containsNoCase(m, "exceed context limit") ||
         containsNoCase(m, "context_length_exceeded") || containsNoCase(m, "too many tokens");
}

UpstreamFailure classifyHttpError(std::string_view provider, const UpstreamReply& reply) {
  UpstreamFailure f;
  f.upstream_status = reply.status;
  f.retry_after_s = parseRetryAfter(reply.retry_after, reply.retry_after_ms);
  const int status = reply.status;
  const ProviderErrorText text = extractErrorText(reply.body);
  const std::string who = providerLabel(provider);
  const std::string detail = std::string(provider) + " answered HTTP " + std::to_string(status) +
                             (text.type.empty() ? "" : " type=" + clientSafeText(text.type)) +
                             (text.code.empty() ? "" : " code=" + clientSafeText(text.code));
  auto set = [&](ErrorCode code, std::string message) {
    f.error = fail(code, std::move(message), detail);
  };
  const bool quota = text.code == "insufficient_quota" || text.type == "insufficient_quota" ||
                     containsNoCase(text.message, "credit balance");
  if (quota && (status == 429 || status == 400 || status == 402 || status == 403)) {
    set(ErrorCode::kRateLimited,
        "The provider account behind this model has no remaining quota or credit.");
    f.error.openai_code = "insufficient_quota";
    f.fallback_eligible = true;
  } else if (status == 400 || status == 413 || status == 422) {
    if (isContextOverflow(text)) {
      std::string message = text.message.empty()
                                ? "The request does not fit the model's context window."
                                : clientSafeText(text.message);
      set(ErrorCode::kUpstreamRejected, std::move(message));
      f.error.openai_code = "context_length_exceeded";
      f.error.param = "messages";
      f.context_window_exceeded = true;
      f.fallback_eligible = true;  // only to a deployment with a larger context window
    } else {
      std::string message = text.message.empty() ? who + " rejected the request (HTTP " +
                                                       std::to_string(status) + ")."
                                                 : clientSafeText(text.message);
      set(ErrorCode::kUpstreamRejected, std::move(message));
      if (isPassableToken(text.code, false)) {
        f.error.openai_code = text.code;
      }
      if (isPassableToken(text.param, true)) {
        f.error.param = text.param;
      }
    }
    f.error.upstream_status = status;
  } else if (status == 401) {
    set(ErrorCode::kUpstreamAuth,
        "The provider refused the API key configured for this model (HTTP 401).");
    f.credential_refused = true;
    f.fallback_eligible = true;
  } else if (status == 403) {
    set(ErrorCode::kUpstreamAuth,
        "The provider refused this request for the API key configured for this model (HTTP 403).");
    f.credential_refused = true;
    f.fallback_eligible = true;
  } else if (status == 404) {
    set(ErrorCode::kNotFound,
        who + " does not know the model or endpoint configured for this deployment.");
    f.error.openai_code = "model_not_found";
    f.fallback_eligible = true;
  } else if (status == 408) {
    set(ErrorCode::kUpstreamTimeout, who + " timed out (HTTP 408).");
    f.retryable = true;
    f.fallback_eligible = true;
  } else if (status == 409) {
    set(ErrorCode::kUpstreamUnavailable, who + " reported a conflict (HTTP 409); retry.");
    f.retryable = true;
    f.fallback_eligible = true;
  } else if (status == 429) {
    std::string message = "The provider's rate limit for this model was reached.";
    if (f.retry_after_s) {
      message += " Retry after " + std::to_string(*f.retry_after_s) + " seconds.";
    }
    set(ErrorCode::kRateLimited, std::move(message));
    f.retryable = true;
    f.fallback_eligible = true;
  } else if (status == 504) {
    set(ErrorCode::kUpstreamTimeout, who + " timed out (HTTP 504).");
    f.retryable = true;
    f.fallback_eligible = true;
  } else if (status == 529 || text.type == "overloaded_error") {
    set(ErrorCode::kUpstreamUnavailable, who + " is overloaded.");
    f.retryable = true;
    f.fallback_eligible = true;
  } else if (status >= 500 && status <= 599) {
    set(ErrorCode::kUpstreamUnavailable,
        who + " failed to answer (HTTP " + std::to_string(status) + ").");
    f.retryable = true;
    f.fallback_eligible = true;
  } else {
    // Other 4xx, 3xx (redirects are never followed) and nonsense: a deployment problem, not the
    // client's; another deployment may work, this one will not.
    set(ErrorCode::kUpstreamUnavailable,
        who + " answered with unexpected HTTP status " + std::to_string(status) + ".");
    f.fallback_eligible = true;
  }
  if (f.retry_after_s) {
    f.error.retry_after_s = f.retry_after_s;
  }
  return f;
}

UpstreamFailure malformedUpstream(std::string_view provider, std::string_view what) {
  UpstreamFailure f;
  f.error = fail(ErrorCode::kUpstreamUnavailable,
                 providerLabel(provider) + " sent a response the gateway could not read.",
                 std::string(provider) + ": " + std::string(what));
  f.fallback_eligible = true;
  return f;
}

ModelsProbe probeFromStatus(std::string_view provider, int status) {
  ModelsProbe p;
  const std::string who = providerLabel(provider);
  if (status >= 200 && status <= 299) {
    p.outcome = ModelsProbe::Outcome::kOk;
    p.message = who + " accepted the key.";
  } else if (status == 401) {
    p.outcome = ModelsProbe::Outcome::kKeyRefused;
    p.message = who + " refused the key: it is invalid, revoked or for another account.";
  } else if (status == 403) {
    p.outcome = ModelsProbe::Outcome::kNoPermission;
    p.message = who + " accepted the key but it lacks permission to list models.";
  } else if (status == 429) {
    p.outcome = ModelsProbe::Outcome::kRateLimited;
    p.message = who + " rate-limited the check; the key was not refused. Try again later.";
  } else if (status >= 500 && status <= 599) {
    p.outcome = ModelsProbe::Outcome::kUnavailable;
    p.message = who + " is unavailable (HTTP " + std::to_string(status) + ").";
  } else {
    p.outcome = ModelsProbe::Outcome::kUnexpected;
    p.message = who + " answered HTTP " + std::to_string(status) +
                "; check the base URL and options of the credential.";
  }
  return p;
}

std::string_view toString(ModelsProbe::Outcome outcome) {
  switch (outcome) {
    case ModelsProbe::Outcome::kOk:
      return "ok";
    case ModelsProbe::Outcome::kKeyRefused:
      return "key_refused";
    case ModelsProbe::Outcome::kNoPermission:
      return "no_permission";
    case ModelsProbe::Outcome::kRateLimited:
      return "rate_limited";
    case ModelsProbe::Outcome::kUnavailable:
      return "unavailable";
    case ModelsProbe::Outcome::kUnexpected:
      return "unexpected";
  }
  return "unexpected";
}

std::string streamErrorEvent(const Error& error) {
  std::string out = "data: ";
  out += openAiErrorJson(error);
  out += "\n\n";
  return out;
}

}  // namespace livery::providers
