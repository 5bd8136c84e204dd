#include "api/api_support.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>

#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include "config/config.hpp"
#include "control/index_sync.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "crypto/password.hpp"
#include "metering/usage_feed.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "whitelabel/host.hpp"

namespace livery::api {

namespace json = boost::json;

namespace {

constexpr std::chrono::seconds kFeedHeartbeat{15};
constexpr std::chrono::hours kFeedMaxDuration{1};

std::optional<whitelabel::RequestOrigin> originOf(const ApiContext& ctx,
                                                  const http::Request& request) {
  whitelabel::ForwardedInput in;
  in.peer_ip = request.remote_ip;
  in.host = request.headers.get("host");
  in.x_forwarded_host = request.headers.get("x-forwarded-host");
  in.x_forwarded_for = request.headers.get("x-forwarded-for");
  auto origin = ctx.hosts.resolve(in);
  if (!origin) {
    return std::nullopt;
  }
  return std::move(*origin);
}

storage::Millis monthStartOf(storage::Millis ms) {
  using namespace std::chrono;
  auto day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  year_month_day ymd{day};
  sys_days first{ymd.year() / ymd.month() / 1};
  return duration_cast<milliseconds>(first.time_since_epoch()).count();
}

}  // namespace

// ---- responses --------------------------------------------------------------------------------

http::Response jsonResponse(int status, const json::value& body) {
  auto r = http::Response::json(status, json::serialize(body));
  r.headers.add("Cache-Control", "no-store");
  return r;
}

http::Response noContent() {
  http::Response r;
  r.status = 204;
  r.headers.add("Cache-Control", "no-store");
  return r;
}

http::Response errorResponse(ApiContext& ctx, const http::Exchange& ex, const Error& e) {
  auto status = httpStatus(e);
  if (status >= 500) {
    LIVERY_LOG(ctx.log,
               Error,
               "api_error",
               {"request_id", ex.request_id},
               {"tenant_id", ex.tenant_id},
               {"code", toString(e.code)},
               {"message", e.client_message},
               {"detail", e.log_detail});
  }
  auto r = http::Response::error(e);
  r.headers.add("Cache-Control", "no-store");
  return r;
}

Error orNotFound(const Error& e, std::string_view what) {
  return e.code == ErrorCode::kNotFound ? notFound(what) : e;
}

Error noSuchRoute() {
  return Error{ErrorCode::kNotFound, "no such route"};
}

Error jsonRequired() {
  return Error{ErrorCode::kBadRequest, "Content-Type must be application/json"};
}

void refreshTenantOrWarn(ApiContext& ctx, const std::string& tenant_id) {
  if (auto refreshed = ctx.sync.refreshTenant(tenant_id); !refreshed) {
    LIVERY_LOG(ctx.log,
               Warn,
               "index_refresh_failed",
               {"tenant_id", tenant_id},
               {"error", refreshed.error().log_detail});
  }
}

http::Response withCookie(http::Response r, const std::string& set_cookie) {
  r.headers.add("Set-Cookie", set_cookie);
  return r;
}

Error notFound(std::string_view what) {
  return Error{ErrorCode::kNotFound, fmt::format("No such {}.", what)}.withCode("not_found");
}

Error signInRequired() {
  return Error{ErrorCode::kUnauthenticated, "Sign in first."}.withCode("unauthenticated");
}

Error csrfRefused() {
  return Error{ErrorCode::kPermissionDenied,
               "Missing or wrong X-CSRF-Token header for this session."}
      .withCode("csrf_token_invalid");
}

Error readOnlyRole() {
  return Error{ErrorCode::kPermissionDenied, "Your role can view this workspace but not change it."}
      .withCode("permission_denied");
}

Error badQuery(std::string_view name, std::string message) {
  return Error{ErrorCode::kBadRequest, std::move(message)}.withParam(std::string(name));
}

// ---- requests ---------------------------------------------------------------------------------

bool isMutating(const http::Request& request) {
  switch (request.method) {
    case http::Method::kPost:
    case http::Method::kPut:
    case http::Method::kPatch:
    case http::Method::kDelete:
      return true;
    default:
      return false;
  }
}

bool hasJsonContentType(const http::Request& request) {
  auto type = request.headers.get("content-type");
  auto semi = type.find(';');
  auto media = type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  return http::iequals(media, "application/json");
}

Result<BodyReader> jsonBody(const http::Request& request, std::size_t max_bytes) {
  if (!request.body.empty() && !hasJsonContentType(request)) {
    return Error{ErrorCode::kBadRequest,
                 "the request body must be JSON (Content-Type: application/json)"};
  }
  return BodyReader::parse(request.body, max_bytes);
}

Result<std::optional<std::int64_t>> queryInt(const http::Request& request,
                                             std::string_view name,
                                             std::int64_t min,
                                             std::int64_t max) {
  auto text = request.queryParam(name);
  if (text.empty()) {
    return std::optional<std::int64_t>{};
  }
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.front() == '-') {
    return badQuery(name, fmt::format("'{}' must be a non-negative integer", name));
  }
  if (v < min || v > max) {
    return badQuery(name, fmt::format("'{}' must be between {} and {}", name, min, max));
  }
  return std::optional<std::int64_t>(v);
}

std::string requestHost(const ApiContext& ctx, const http::Request& request) {
  auto origin = originOf(ctx, request);
  return origin ? origin->host : std::string();
}

std::string publicHost(const ApiContext& ctx, const http::Request& request) {
  auto host = requestHost(ctx, request);
  if (host.empty()) {
    return host;
  }
  std::string_view raw = request.headers.get("host");
  auto colon = raw.rfind(':');
  if (colon != std::string_view::npos && raw.find(']', colon) == std::string_view::npos) {
    auto port = raw.substr(colon + 1);
    auto name = whitelabel::normalizeHost(raw.substr(0, colon));
    if (!port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        name && *name == host) {
      host += ':';
      host += port;
    }
  }
  return host;
}

tenancy::TenantStatePtr hostTenant(const ApiContext& ctx, const http::Request& request) {
  auto origin = originOf(ctx, request);
  if (!origin || origin->host.empty()) {
    return nullptr;
  }
  return ctx.tenants.byHost(origin->host);
}

bool isOperatorHost(const ApiContext& ctx, const http::Request& request) {
  auto origin = originOf(ctx, request);
  if (!origin || origin->host.empty()) {
    return false;
  }
  if (ctx.tenants.byHost(origin->host) != nullptr) {
    return false;  // a tenant's host never serves the operator surface
  }
  // One rule for every surface (pages and APIs): whitelabel::isOperatorHost.
  if (ctx.cfg.http.operator_host.empty()) {
    return whitelabel::isOperatorHost(*origin, {});
  }
  auto configured = whitelabel::normalizeHost(ctx.cfg.http.operator_host);
  return configured && whitelabel::isOperatorHost(*origin, *configured);
}

// ---- time -------------------------------------------------------------------------------------

storage::Millis monthStartMs(const Clock& clock) {
  return monthStartOf(clock.unixMillis());
}

std::string monthName(const Clock& clock) {
  using namespace std::chrono;
  auto day = floor<days>(sys_time<milliseconds>(milliseconds(clock.unixMillis())));
  year_month_day ymd{day};
  return fmt::format(
      "{:04}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
}

// ---- usage ------------------------------------------------------------------------------------

namespace {

std::string formatCost(std::int64_t micro_usd) {
  return fmt::format("{:.6f}", static_cast<double>(micro_usd) / 1e6);
}

std::string usageCsv(const std::vector<storage::UsageTotals>& rows) {
  std::string out =
      "key,requests,prompt_tokens,completion_tokens,cached_tokens,reasoning_tokens,total_tokens,"
      "cost_usd\r\n";
  for (const auto& r : rows) {
    appendCsvCell(out, r.key);
    out += fmt::format(",{},{},{},{},{},{},{}\r\n",
                       r.requests,
                       r.prompt_tokens,
                       r.completion_tokens,
                       r.cached_tokens,
                       r.reasoning_tokens,
                       r.prompt_tokens + r.completion_tokens,
                       formatCost(r.cost_micro_usd));
  }
  return out;
}

std::vector<storage::UsageTotals> mergeByMonth(const std::vector<storage::UsageTotals>& days) {
  std::map<storage::Millis, storage::UsageTotals> months;
  for (const auto& d : days) {
    storage::Millis bucket = 0;
    auto [end, ec] = std::from_chars(d.key.data(), d.key.data() + d.key.size(), bucket);
    if (ec != std::errc() || end != d.key.data() + d.key.size()) {
      continue;  // not a bucket key
    }
    auto start = monthStartOf(bucket);
    auto& m = months[start];
    m.key = std::to_string(start);
    m.requests += d.requests;
    m.prompt_tokens += d.prompt_tokens;
    m.completion_tokens += d.completion_tokens;
    m.cached_tokens += d.cached_tokens;
    m.reasoning_tokens += d.reasoning_tokens;
    m.cost_micro_usd += d.cost_micro_usd;
  }
  std::vector<storage::UsageTotals> out;
  out.reserve(months.size());
  for (auto& [_, m] : months) {
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

net::awaitable<http::Response> usageTotals(ApiContext& ctx,
                                           http::Exchange& ex,
                                           storage::UsageFilter base,
                                           bool allow_tenant_group) {
  const auto& req = ex.request;
  constexpr std::int64_t kMaxMs = std::int64_t{1} << 53;
  auto from = queryInt(req, "from", 0, kMaxMs);
  auto to = queryInt(req, "to", 0, kMaxMs);
  if (!from) {
    co_return errorResponse(ctx, ex, from.error());
  }
  if (!to) {
    co_return errorResponse(ctx, ex, to.error());
  }
  base.from = from->value_or(0);
  base.to = to->value_or(0);
  auto group_name = req.queryParam("group_by");
  if (group_name.empty()) {
    group_name = "day";
  }
  storage::UsageGroup group = storage::UsageGroup::kDay;
  bool by_month = false;
  if (group_name == "model") {
    group = storage::UsageGroup::kModel;
  } else if (group_name == "key") {
    group = storage::UsageGroup::kApiKey;
  } else if (group_name == "user") {
    group = storage::UsageGroup::kEndUser;
  } else if (group_name == "hour") {
    group = storage::UsageGroup::kHour;
  } else if (group_name == "day") {
    group = storage::UsageGroup::kDay;
  } else if (group_name == "month") {
    by_month = true;
  } else if (group_name == "tenant" && allow_tenant_group) {
    group = storage::UsageGroup::kTenant;
  } else {
    co_return errorResponse(
        ctx,
        ex,
        badQuery("group_by",
                 allow_tenant_group
                     ? "group_by must be tenant, model, key, user, hour, day or month"
                     : "group_by must be model, key, user, hour, day or month"));
  }
  for (auto [name, target] : {std::pair{"key_id", &base.api_key_id},
                              std::pair{"model", &base.model},
                              std::pair{"end_user", &base.end_user}}) {
    auto v = req.queryParam(name);
    if (v.size() > 256) {
      co_return errorResponse(ctx, ex, badQuery(name, fmt::format("'{}' is too long", name)));
    }
    *target = std::move(v);
  }
  auto format = req.queryParam("format");
  if (!format.empty() && format != "json" && format != "csv") {
    co_return errorResponse(ctx, ex, badQuery("format", "format must be json or csv"));
  }
  auto& stores = ctx.stores;
  auto rows = co_await offload(ctx.blocking, [&stores, &base, group] {
    return stores.usage.totals(base, group, storage::kMaxPageSize);
  });
  if (!rows) {
    co_return errorResponse(ctx, ex, rows.error());
  }
  if (by_month) {
    *rows = mergeByMonth(*rows);
  }
  if (format == "csv") {
    auto r = http::Response::text(200, usageCsv(*rows), "text/csv; charset=utf-8");
    r.headers.add("Content-Disposition",
                  fmt::format("attachment; filename=\"livery-usage-{}.csv\"", group_name));
    r.headers.add("Cache-Control", "no-store");
    r.headers.add("X-Content-Type-Options", "nosniff");
    co_return r;
  }
  json::array data;
  for (const auto& row : *rows) {
    data.emplace_back(toJson(row));
  }
  json::object body;
  body["data"] = std::move(data);
  body["group_by"] = group_name;
  body["from"] = base.from;
  body["to"] = base.to;
  co_return jsonResponse(200, body);
}

net::awaitable<http::Response> usageEvents(ApiContext& ctx,
                                           http::Exchange& ex,
                                           std::string tenant_id) {
  auto executor = co_await net::this_coro::executor;
  auto subscription = ctx.feed.subscribe(executor, std::move(tenant_id));
  http::Headers headers;
  headers.add("Content-Type", "text/event-stream; charset=utf-8");
  headers.add("Cache-Control", "no-store");
  headers.add("X-Accel-Buffering", "no");
  auto begun = co_await ex.stream.begin(200, std::move(headers));
  if (!begun) {
    co_return http::Response{};
  }
  // A first comment lets clients (and proxies) see the stream is open before any usage happens.
  if (!co_await ex.stream.write(": connected\nretry: 5000\n\n")) {
    co_return http::Response{};
  }
  auto deadline = ctx.clock.now() + kFeedMaxDuration;
  while (ctx.clock.now() < deadline) {
    auto event = co_await subscription->next(kFeedHeartbeat);
    std::string chunk;
    if (event) {
      chunk = "event: usage\ndata: ";
      chunk += *event;
      chunk += "\n\n";
    } else {
      chunk = ": keep-alive\n\n";
    }
    auto written = co_await ex.stream.write(chunk);
    if (!written) {
      co_return http::Response{};  // the client is gone
    }
  }
  (void)co_await ex.stream.end();
  co_return http::Response{};
}

json::value monthUsage(ApiContext& ctx, const std::string& tenant_id) {
  storage::UsageFilter f;
  f.tenant_id = tenant_id;
  f.from = monthStartMs(ctx.clock);
  auto rows = ctx.stores.usage.totals(f, storage::UsageGroup::kTenant, 1);
  if (!rows || rows->empty()) {
    return nullptr;
  }
  return toJson(rows->front());
}

// ---- secrets ----------------------------------------------------------------------------------

Result<TenantPasswordForm> readTenantPasswordForm(const ApiContext& ctx,
                                                  http::Exchange& ex,
                                                  std::initializer_list<std::string_view> allowed) {
  auto tenant = hostTenant(ctx, ex.request);
  if (!tenant) {
    return noSuchRoute();
  }
  ex.tenant_id = tenant->tenant.id;
  if (!hasJsonContentType(ex.request)) {
    return jsonRequired();
  }
  auto taken = takeSecretField(ex.request.body, "password", crypto::kMaxPasswordBytes);
  wipeString(ex.request.body);
  if (!taken) {
    return taken.error();
  }
  if (auto r = taken->rest.allowOnly(allowed); !r) {
    return r.error();
  }
  return TenantPasswordForm{std::move(tenant), std::move(*taken)};
}

Result<SecretBody> takeSecretField(std::string_view body,
                                   std::string_view field,
                                   std::size_t max_len) {
  if (body.size() > std::size_t{64} * 1024) {
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
    return Error{ErrorCode::kBadRequest, "request body is not valid JSON"};
  }
  if (!v.is_object()) {
    return Error{ErrorCode::kBadRequest, "request body must be a JSON object"};
  }
  auto& obj = v.as_object();
  std::optional<SecretBytes> secret;
  if (auto* it = obj.find(field); it != obj.end()) {
    auto& value = it->value();
    if (!value.is_null()) {
      if (!value.is_string()) {
        return badField(field, fmt::format("'{}' must be a string", field));
      }
      auto& s = value.as_string();
      if (s.size() > max_len) {
        OPENSSL_cleanse(s.data(), s.size());
        return badField(field, fmt::format("'{}' is longer than {} characters", field, max_len));
      }
      secret = SecretBytes::copyOf(std::string_view(s.data(), s.size()));
      OPENSSL_cleanse(s.data(), s.size());
    }
    obj.erase(it);
  }
  auto rest = BodyReader::parse(json::serialize(obj));
  if (!rest) {
    return rest.error();
  }
  return SecretBody{std::move(*rest), std::move(secret)};
}

// ---- CSV --------------------------------------------------------------------------------------

void appendCsvCell(std::string& out, std::string_view value) {
  bool formula =
      !value.empty() && (value.front() == '=' || value.front() == '+' || value.front() == '-' ||
                         value.front() == '@' || value.front() == '\t' || value.front() == '\r');
  bool quote = formula || value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  if (formula) {
    out += '\'';
  }
  for (char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
}

}  // namespace livery::api
