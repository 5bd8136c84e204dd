#include "providers/target_options.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace livery::providers {

namespace {

Error badTarget(std::string_view provider, std::string what) {
  return fail(
      ErrorCode::kUnprocessable,
      "The deployment's " + std::string(provider) + " credential is misconfigured: " + what + ".");
}

Result<const boost::json::value*> optionValue(std::string_view options_json,
                                              std::string_view key,
                                              boost::json::value& storage) {
  if (options_json.empty() || options_json == "{}") {
    return nullptr;  // the common case costs no parse
  }
  boost::system::error_code ec;
  storage = boost::json::parse(options_json, ec);
  if (ec || !storage.is_object()) {
    return fail(ErrorCode::kUnprocessable,
                "The deployment's credential options are not a JSON object.");
  }
  return storage.get_object().if_contains(key);
}

Error wrongType(std::string_view key, std::string_view type) {
  return fail(ErrorCode::kUnprocessable,
              "The deployment's credential option '" + std::string(key) + "' must be " +
                  std::string(type) + ".");
}

}  // namespace

bool isUrlSafeToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

Result<std::string> normalizeBaseUrl(std::string_view base,
                                     std::string_view fallback,
                                     std::string_view provider,
                                     std::string_view strip_suffix) {
  std::string_view url = base.empty() ? fallback : base;
  if (url.empty()) {
    return badTarget(provider, "a base URL is required");
  }
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return badTarget(provider, "the base URL must start with https:// or http://");
  }
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '?' || c == '#' || c == '\\') {
      return badTarget(provider, "the base URL must not contain a query, fragment or whitespace");
    }
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return badTarget(provider, "the base URL must name a host (and no user info)");
  }
  std::string out(url);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  if (!strip_suffix.empty() && out.size() > strip_suffix.size() &&
      std::string_view{out}.substr(out.size() - strip_suffix.size()) == strip_suffix) {
    out.resize(out.size() - strip_suffix.size());
    while (!out.empty() && out.back() == '/') {
      out.pop_back();
    }
  }
  return out;
}

Result<std::optional<std::string>> optionString(std::string_view options_json,
                                                std::string_view key) {
  boost::json::value storage;
  auto v = optionValue(options_json, key, storage);
  if (!v) {
    return v.error();
  }
  if (*v == nullptr || (*v)->is_null()) {
    return std::optional<std::string>();
  }
  if (!(*v)->is_string()) {
    return wrongType(key, "a string");
  }
  return std::optional<std::string>(std::string((*v)->get_string()));
}

Result<std::optional<bool>> optionBool(std::string_view options_json, std::string_view key) {
  boost::json::value storage;
  auto v = optionValue(options_json, key, storage);
  if (!v) {
    return v.error();
  }
  if (*v == nullptr || (*v)->is_null()) {
    return std::optional<bool>();
  }
  if (!(*v)->is_bool()) {
    return wrongType(key, "a boolean");
  }
  return std::optional<bool>((*v)->get_bool());
}

Result<std::optional<std::uint64_t>> optionUint(std::string_view options_json,
                                                std::string_view key) {
  boost::json::value storage;
  auto v = optionValue(options_json, key, storage);
  if (!v) {
    return v.error();
  }
  if (*v == nullptr || (*v)->is_null()) {
    return std::optional<std::uint64_t>();
  }
  if ((*v)->is_uint64()) {
    return std::optional<std::uint64_t>((*v)->get_uint64());
  }
  if ((*v)->is_int64() && (*v)->get_int64() >= 0) {
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>((*v)->get_int64()));
  }
  return wrongType(key, "a non-negative integer");
}

}  // namespace livery::providers
