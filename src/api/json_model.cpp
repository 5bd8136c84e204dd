#include "api/json_model.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace livery::api {

namespace json = boost::json;

namespace {

json::value nullable(std::int64_t v) {
  return v == 0 ? json::value(nullptr) : json::value(v);
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) {
    a.emplace_back(s);
  }
  return a;
}

json::value parseOr(const std::string& text, json::value fallback) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? fallback : v;
}

// The console's view of an evaluation report of the prompt repository's gate
// (prompts/eval_report.hpp, "format": 1): the pass rate, a one-line summary and one line per
// case (its first failure, or why it produced no reply). Added beside the full report, so the
// console needs no knowledge of the report's layout. Anything else adds nothing.
void addEvalView(json::object& ev, const json::value& report) {
  auto integer = [](const json::value* v) -> std::int64_t {
    boost::system::error_code ec;
    std::int64_t n = v != nullptr ? v->to_number<std::int64_t>(ec) : 0;
    return v == nullptr || ec ? 0 : n;
  };
  const auto* r = report.if_object();
  if (r == nullptr || integer(r->if_contains("format")) != 1) {
    return;
  }
  auto number = [&](std::string_view key) {
    return integer(r->if_contains(key));
  };
  auto text = [&](const json::object& o, std::string_view key) -> std::string {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::int64_t total = number("cases_total");
  std::int64_t passed = number("cases_passed");
  double threshold = 1.0;
  if (const auto* t = r->if_contains("threshold"); t != nullptr && t->is_number()) {
    threshold = t->to_number<double>();
  }
  ev["pass_rate"] = total > 0 ? static_cast<double>(passed) / static_cast<double>(total) : 0.0;
  ev["total"] = total;
  ev["failed"] = total - passed;
  std::string commit = text(*r, "commit_id").substr(0, 7);
  ev["summary"] = fmt::format("{}/{} cases passed (threshold {:.0f}%), model {}, dataset at {}{}",
                              passed,
                              total,
                              threshold * 100.0,
                              text(*r, "model"),
                              text(*r, "ref"),
                              commit.empty() ? std::string() : " (" + commit + ")");
  json::array cases;
  if (const auto* list = r->if_contains("cases"); list != nullptr && list->is_array()) {
    for (const auto& c : list->as_array()) {
      if (!c.is_object()) {
        continue;
      }
      const auto& co = c.as_object();
      json::object line;
      line["name"] = text(co, "id");
      const auto* ok = co.if_contains("passed");
      line["passed"] = ok != nullptr && ok->is_bool() && ok->as_bool();
      std::string detail = text(co, "error");
      if (const auto* failures = co.if_contains("failures");
          detail.empty() && failures != nullptr && failures->is_array() &&
          !failures->as_array().empty() && failures->as_array()[0].is_object()) {
        const auto& first = failures->as_array()[0].as_object();
        detail = text(first, "type") + ": " + text(first, "message");
        if (failures->as_array().size() > 1) {
          detail += fmt::format(" (+{} more)", failures->as_array().size() - 1);
        }
      }
      line["detail"] = detail;
      cases.emplace_back(std::move(line));
    }
  }
  ev["cases"] = std::move(cases);
}

}  // namespace

json::object toJson(const storage::Tenant& t) {
  json::object o;
  o["id"] = t.id;
  o["slug"] = t.slug;
  o["display_name"] = t.display_name;
  o["status"] = toString(t.status);
  o["suspended_reason"] = t.suspended_reason;
  o["plan_id"] = t.plan_id;
  json::object ov;
  if (t.overrides.monthly_token_quota) {
    ov["monthly_token_quota"] = *t.overrides.monthly_token_quota;
  }
  if (t.overrides.rpm) {
    ov["rpm"] = *t.overrides.rpm;
  }
  if (t.overrides.tpm) {
    ov["tpm"] = *t.overrides.tpm;
  }
  if (t.overrides.max_api_keys) {
    ov["max_api_keys"] = *t.overrides.max_api_keys;
  }
  o["overrides"] = std::move(ov);
  o["mock_response_enabled"] = t.mock_response_enabled;
  o["webhook_url"] = t.webhook_url;
  o["active_prompt_id"] = t.active_prompt_id;
  o["created_at"] = t.created_at;
  o["updated_at"] = t.updated_at;
  return o;
}

json::object toJson(const storage::Plan& p) {
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["monthly_token_quota"] = p.monthly_token_quota;
  o["rpm"] = p.rpm;
  o["tpm"] = p.tpm;
  o["max_api_keys"] = p.max_api_keys;
  o["features"] = strings(p.features);
  o["created_at"] = p.created_at;
  return o;
}

json::object toJson(const storage::ApiKey& k) {
  json::object o;
  o["id"] = k.id;
  o["name"] = k.name;
  o["last4"] = k.last4;
  o["environment"] = k.environment;
  o["scopes"] = strings(k.scopes);
  o["expires_at"] = nullable(k.expires_at);
  o["limits"] = json::object{{"rpm", k.limits.rpm},
                             {"tpm", k.limits.tpm},
                             {"monthly_token_quota", k.limits.monthly_token_quota}};
  o["end_user"] = k.end_user;
  o["created_at"] = k.created_at;
  o["revoked_at"] = nullable(k.revoked_at);
  o["last_used_at"] = nullable(k.last_used_at);
  return o;
}

json::object toJson(const storage::Credential& c) {
  json::object o;
  o["id"] = c.id;
  o["provider"] = c.provider;
  o["label"] = c.label;
  o["fingerprint"] = c.fingerprint;
  o["base_url"] = c.base_url;
  o["options"] = parseOr(c.options_json, json::object{});
  o["health"] = toString(c.health);
  o["health_detail"] = c.health_detail;
  o["kek_version"] = c.envelope.kek_version;
  o["created_at"] = c.created_at;
  o["updated_at"] = c.updated_at;
  o["last_used_at"] = nullable(c.last_used_at);
  return o;
}

json::object toJson(const storage::Deployment& d) {
  json::object o;
  o["name"] = d.name;
  o["provider"] = d.provider;
  o["model"] = d.model;
  o["credential_id"] = d.credential_id;
  o["priority"] = d.priority;
  o["weight"] = d.weight;
  o["max_context_tokens"] = d.max_context_tokens;
  o["rpm"] = d.rpm;
  return o;
}

json::object toJson(const storage::Route& r, bool inherited) {
  json::object o;
  o["model"] = r.model;
  json::array ds;
  for (const auto& d : r.deployments) {
    ds.emplace_back(toJson(d));
  }
  o["deployments"] = std::move(ds);
  o["inherited"] = inherited;
  o["updated_at"] = r.updated_at;
  return o;
}

json::object toJson(const storage::PromptVersion& p) {
  json::object o;
  o["id"] = p.id;
  o["version"] = p.version;
  o["content"] = p.content;
  o["author"] = p.author;
  o["note"] = p.note;
  o["status"] = toString(p.status);
  o["commit_id"] = p.commit_id;
  o["created_at"] = p.created_at;
  o["activated_at"] = nullable(p.activated_at);
  if (p.eval_json.empty()) {
    o["eval"] = nullptr;
  } else {
    json::object ev;
    ev["passed"] = p.eval_passed;
    ev["result"] = parseOr(p.eval_json, json::value(p.eval_json));
    addEvalView(ev, ev["result"]);
    o["eval"] = std::move(ev);
  }
  return o;
}

json::object toJson(const storage::UsageTotals& u) {
  json::object o;
  o["key"] = u.key;
  o["requests"] = u.requests;
  o["prompt_tokens"] = u.prompt_tokens;
  o["completion_tokens"] = u.completion_tokens;
  o["cached_tokens"] = u.cached_tokens;
  o["reasoning_tokens"] = u.reasoning_tokens;
  o["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  o["cost_usd"] = static_cast<double>(u.cost_micro_usd) / 1e6;
  return o;
}

json::object toJson(const storage::Alert& a) {
  json::object o;
  o["id"] = a.id;
  o["tenant_id"] = a.tenant_id;
  o["kind"] = a.kind;
  o["message"] = a.message;
  o["details"] = parseOr(a.details_json, json::object{});
  o["created_at"] = a.created_at;
  o["acknowledged_at"] = nullable(a.acknowledged_at);
  return o;
}

json::object toJson(const storage::AuditEntry& e) {
  json::object o;
  o["seq"] = e.seq;
  o["ts"] = e.ts;
  o["actor"] = e.actor;
  o["tenant_id"] = e.tenant_id;
  o["action"] = e.action;
  o["details"] = parseOr(e.details_json, json::object{});
  o["hash"] = e.hash;
  return o;
}

json::object toJson(const storage::User& u) {
  json::object o;
  o["id"] = u.id;
  o["email"] = u.email;
  o["display_name"] = u.display_name;
  o["role"] = toString(u.role);
  o["kind"] = u.kind;
  o["disabled"] = u.disabled;
  o["created_at"] = u.created_at;
  o["last_login_at"] = nullable(u.last_login_at);
  return o;
}

json::object toJson(const storage::Domain& d) {
  json::object o;
  o["host"] = d.host;
  o["status"] = toString(d.status);
  o["created_at"] = d.created_at;
  o["verified_at"] = nullable(d.verified_at);
  return o;
}

json::object toJson(const storage::JwtKey& k) {
  json::object o;
  o["id"] = k.id;
  o["kid"] = k.kid;
  o["algorithm"] = k.algorithm;
  o["issuer"] = k.issuer;
  o["audience"] = k.audience;
  o["has_public_key"] = !k.public_pem.empty();
  o["created_at"] = k.created_at;
  return o;
}

json::object toJson(const storage::OperatorToken& t) {
  json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["created_at"] = t.created_at;
  o["revoked_at"] = nullable(t.revoked_at);
  o["last_used_at"] = nullable(t.last_used_at);
  return o;
}

std::string dataList(json::array items) {
  json::object o;
  o["data"] = std::move(items);
  return json::serialize(o);
}

std::string serialize(const json::value& v) {
  return json::serialize(v);
}

Error badField(std::string_view field, std::string message) {
  return Error{ErrorCode::kBadRequest, std::move(message)}.withParam(std::string(field));
}

Result<BodyReader> BodyReader::parse(std::string_view body, std::size_t max_bytes) {
  if (body.size() > max_bytes) {
    return Error{ErrorCode::kPayloadTooLarge, "request body too large"};
  }
  if (body.empty()) {
    body = "{}";
  }
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 32;
  auto v = json::parse(body, ec, {}, opt);
  if (ec) {
    return Error{ErrorCode::kBadRequest, "request body is not valid JSON: " + ec.message()};
  }
  if (!v.is_object()) {
    return Error{ErrorCode::kBadRequest, "request body must be a JSON object"};
  }
  BodyReader r;
  r.obj_ = std::move(v.as_object());
  return r;
}

Result<void> BodyReader::allowOnly(std::initializer_list<std::string_view> fields) const {
  for (const auto& kv : obj_) {
    if (std::find(fields.begin(), fields.end(), std::string_view(kv.key())) == fields.end()) {
      return badField(kv.key(), fmt::format("unknown field '{}'", std::string_view(kv.key())));
    }
  }
  return {};
}

const json::value* BodyReader::find(std::string_view field) const {
  auto it = obj_.find(field);
  return it == obj_.end() ? nullptr : &it->value();
}

Result<std::string> BodyReader::requiredString(std::string_view field, std::size_t max_len) const {
  auto v = optionalString(field, max_len);
  if (!v) {
    return v.error();
  }
  if (!v->has_value() || (*v)->empty()) {
    return badField(field, fmt::format("'{}' is required", field));
  }
  return std::move(**v);
}

Result<std::optional<std::string>> BodyReader::optionalString(std::string_view field,
                                                              std::size_t max_len) const {
  const auto* v = find(field);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::string>{};
  }
  if (!v->is_string()) {
    return badField(field, fmt::format("'{}' must be a string", field));
  }
  const auto& s = v->as_string();
  if (s.size() > max_len) {
    return badField(field, fmt::format("'{}' is longer than {} characters", field, max_len));
  }
  return std::optional<std::string>(std::string(s));
}

Result<std::optional<std::int64_t>> BodyReader::optionalInt(std::string_view field,
                                                            std::int64_t min,
                                                            std::int64_t max) const {
  const auto* v = find(field);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::int64_t>{};
  }
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->as_uint64());
  } else {
    return badField(field, fmt::format("'{}' must be an integer", field));
  }
  if (n < min || n > max) {
    return badField(field, fmt::format("'{}' must be between {} and {}", field, min, max));
  }
  return std::optional<std::int64_t>(n);
}

Result<std::optional<bool>> BodyReader::optionalBool(std::string_view field) const {
  const auto* v = find(field);
  if (v == nullptr || v->is_null()) {
    return std::optional<bool>{};
  }
  if (!v->is_bool()) {
    return badField(field, fmt::format("'{}' must be true or false", field));
  }
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::vector<std::string>>> BodyReader::optionalStringList(
    std::string_view field, std::size_t max_items) const {
  const auto* v = find(field);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::vector<std::string>>{};
  }
  if (!v->is_array() || v->as_array().size() > max_items) {
    return badField(field,
                    fmt::format("'{}' must be a list of at most {} strings", field, max_items));
  }
  std::vector<std::string> out;
  for (const auto& item : v->as_array()) {
    if (!item.is_string() || item.as_string().size() > 256) {
      return badField(field, fmt::format("'{}' must contain only short strings", field));
    }
    out.emplace_back(item.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

namespace {

Result<std::optional<std::uint64_t>> uintField(const json::object& o,
                                               std::string_view name,
                                               std::string_view path,
                                               std::uint64_t max) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) {
    return std::optional<std::uint64_t>{};
  }
  const auto& v = it->value();
  std::uint64_t n = 0;
  if (v.is_uint64()) {
    n = v.as_uint64();
  } else if (v.is_int64() && v.as_int64() >= 0) {
    n = static_cast<std::uint64_t>(v.as_int64());
  } else {
    return badField(path, fmt::format("'{}.{}' must be a non-negative integer", path, name));
  }
  if (n > max) {
    return badField(path, fmt::format("'{}.{}' must be at most {}", path, name, max));
  }
  return std::optional<std::uint64_t>(n);
}

}  // namespace

Result<storage::PlanOverrides> overridesFromJson(const json::value& v) {
  storage::PlanOverrides o;
  if (v.is_null()) {
    return o;
  }
  if (!v.is_object()) {
    return badField("overrides", "'overrides' must be an object");
  }
  const auto& obj = v.as_object();
  for (const auto& kv : obj) {
    std::string_view k = kv.key();
    if (k != "monthly_token_quota" && k != "rpm" && k != "tpm" && k != "max_api_keys") {
      return badField("overrides", fmt::format("unknown override '{}'", k));
    }
  }
  constexpr std::uint64_t kMax32 = 0xffffffffULL;
  auto q = uintField(obj, "monthly_token_quota", "overrides", UINT64_MAX / 2);
  auto rpm = uintField(obj, "rpm", "overrides", kMax32);
  auto tpm = uintField(obj, "tpm", "overrides", kMax32);
  auto keys = uintField(obj, "max_api_keys", "overrides", kMax32);
  for (auto* r : {&q, &rpm, &tpm, &keys}) {
    if (!*r) {
      return r->error();
    }
  }
  o.monthly_token_quota = *q;
  if (*rpm) {
    o.rpm = static_cast<std::uint32_t>(**rpm);
  }
  if (*tpm) {
    o.tpm = static_cast<std::uint32_t>(**tpm);
  }
  if (*keys) {
    o.max_api_keys = static_cast<std::uint32_t>(**keys);
  }
  return o;
}

Result<storage::KeyLimits> keyLimitsFromJson(const json::value& v) {
  storage::KeyLimits l;
  if (v.is_null()) {
    return l;
  }
  if (!v.is_object()) {
    return badField("limits", "'limits' must be an object");
  }
  const auto& obj = v.as_object();
  for (const auto& kv : obj) {
    std::string_view k = kv.key();
    if (k != "monthly_token_quota" && k != "rpm" && k != "tpm") {
      return badField("limits", fmt::format("unknown limit '{}'", k));
    }
  }
  auto q = uintField(obj, "monthly_token_quota", "limits", UINT64_MAX / 2);
  auto rpm = uintField(obj, "rpm", "limits", 0xffffffffULL);
  auto tpm = uintField(obj, "tpm", "limits", 0xffffffffULL);
  for (auto* r : {&q, &rpm, &tpm}) {
    if (!*r) {
      return r->error();
    }
  }
  l.monthly_token_quota = q->value_or(0);
  l.rpm = static_cast<std::uint32_t>(rpm->value_or(0));
  l.tpm = static_cast<std::uint32_t>(tpm->value_or(0));
  return l;
}

Result<std::vector<storage::Deployment>> deploymentsFromJson(const json::value& v) {
  if (!v.is_array() || v.as_array().empty() || v.as_array().size() > 16) {
    return badField("deployments", "'deployments' must be a list of 1 to 16 deployments");
  }
  std::vector<storage::Deployment> out;
  int index = 0;
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) {
      return badField("deployments", "each deployment must be an object");
    }
    const auto& o = item.as_object();
    storage::Deployment d;
    auto str = [&](std::string_view name, std::string& target, bool required) -> Result<void> {
      auto it = o.find(name);
      if (it == o.end() || it->value().is_null()) {
        if (required) {
          return badField("deployments",
                          fmt::format("deployment {}: '{}' is required", index, name));
        }
        return {};
      }
      if (!it->value().is_string() || it->value().as_string().size() > 256) {
        return badField("deployments",
                        fmt::format("deployment {}: '{}' must be a short string", index, name));
      }
      target = std::string(it->value().as_string());
      return {};
    };
    for (const auto& kv : o) {
      std::string_view k = kv.key();
      if (k != "name" && k != "provider" && k != "model" && k != "credential_id" &&
          k != "priority" && k != "weight" && k != "max_context_tokens" && k != "rpm") {
        return badField("deployments", fmt::format("deployment {}: unknown field '{}'", index, k));
      }
    }
    for (auto r : {str("provider", d.provider, true),
                   str("model", d.model, true),
                   str("credential_id", d.credential_id, true),
                   str("name", d.name, false)}) {
      if (!r) {
        return r.error();
      }
    }
    auto intField = [&](std::string_view name,
                        std::int64_t lo,
                        std::int64_t hi,
                        std::int64_t fallback) -> Result<std::int64_t> {
      auto it = o.find(name);
      if (it == o.end() || it->value().is_null()) {
        return fallback;
      }
      if (!it->value().is_int64() && !it->value().is_uint64()) {
        return badField("deployments",
                        fmt::format("deployment {}: '{}' must be an integer", index, name));
      }
      std::int64_t n = it->value().is_int64() ? it->value().as_int64()
                                              : static_cast<std::int64_t>(it->value().as_uint64());
      if (n < lo || n > hi) {
        return badField(
            "deployments",
            fmt::format("deployment {}: '{}' must be between {} and {}", index, name, lo, hi));
      }
      return n;
    };
    auto prio = intField("priority", -1000, 1000, index);
    auto weight = intField("weight", 1, 1000, 1);
    auto ctx = intField("max_context_tokens", 0, 100'000'000, 0);
    auto rpm = intField("rpm", 0, 100'000'000, 0);
    for (auto* r : {&prio, &weight, &ctx, &rpm}) {
      if (!*r) {
        return r->error();
      }
    }
    d.priority = static_cast<std::int32_t>(*prio);
    d.weight = static_cast<std::int32_t>(*weight);
    d.max_context_tokens = static_cast<std::uint32_t>(*ctx);
    d.rpm = static_cast<std::uint32_t>(*rpm);
    if (d.name.empty()) {
      d.name = d.provider + ":" + d.model;
    }
    out.push_back(std::move(d));
    ++index;
  }
  return out;
}

Result<void> validateSlug(std::string_view slug) {
  if (slug.size() < 2 || slug.size() > 40) {
    return badField("slug", "slug must be 2 to 40 characters");
  }
  for (char c : slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return badField("slug", "slug may contain only lower-case letters, digits and '-'");
    }
  }
  if (slug.front() == '-' || slug.back() == '-') {
    return badField("slug", "slug must not start or end with '-'");
  }
  return {};
}

Result<void> validateEmail(std::string_view email) {
  auto at = email.find('@');
  if (email.size() > 254 || at == std::string_view::npos || at == 0 ||
      email.find('.', at) == std::string_view::npos || email.back() == '.' ||
      email.find_first_of(" \t\r\n<>\"'") != std::string_view::npos) {
    return badField("email", "a valid e-mail address is required");
  }
  return {};
}

Result<void> validateModelName(std::string_view model) {
  if (model.empty() || model.size() > 128) {
    return badField("model", "model name must be 1 to 128 characters");
  }
  for (char c : model) {
    auto uc = static_cast<unsigned char>(c);
    if (std::isalnum(uc) == 0 && c != '-' && c != '_' && c != '.' && c != ':' && c != '/' &&
        c != '@') {
      return badField("model", "model name may contain letters, digits and - _ . : / @");
    }
  }
  return {};
}

Result<void> validateDisplayName(std::string_view field, std::string_view name) {
  if (name.empty() || name.size() > 120) {
    return badField(field, fmt::format("'{}' must be 1 to 120 characters", field));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return badField(field, fmt::format("'{}' must not contain control characters", field));
    }
  }
  return {};
}

}  // namespace livery::api
