#include "storage/codec.hpp"

#include <array>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>

namespace livery::storage {

namespace json = boost::json;

std::string_view toString(TenantStatus v) {
  return v == TenantStatus::kSuspended ? "suspended" : "active";
}

std::string_view toString(CredentialHealth v) {
  switch (v) {
    case CredentialHealth::kUnknown:
      return "unknown";
    case CredentialHealth::kOk:
      return "ok";
    case CredentialHealth::kRefused:
      return "refused";
    case CredentialHealth::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

std::string_view toString(DomainStatus v) {
  switch (v) {
    case DomainStatus::kPending:
      return "pending";
    case DomainStatus::kVerified:
      return "verified";
    case DomainStatus::kActive:
      return "active";
  }
  return "pending";
}

std::string_view toString(PromptStatus v) {
  switch (v) {
    case PromptStatus::kDraft:
      return "draft";
    case PromptStatus::kActive:
      return "active";
    case PromptStatus::kRetired:
      return "retired";
  }
  return "draft";
}

std::string_view toString(UserRole v) {
  switch (v) {
    case UserRole::kOwner:
      return "owner";
    case UserRole::kAdmin:
      return "admin";
    case UserRole::kMember:
      return "member";
  }
  return "member";
}

std::optional<TenantStatus> parseTenantStatus(std::string_view s) {
  if (s == "active") {
    return TenantStatus::kActive;
  }
  if (s == "suspended") {
    return TenantStatus::kSuspended;
  }
  return std::nullopt;
}

std::optional<CredentialHealth> parseCredentialHealth(std::string_view s) {
  if (s == "unknown") {
    return CredentialHealth::kUnknown;
  }
  if (s == "ok") {
    return CredentialHealth::kOk;
  }
  if (s == "refused") {
    return CredentialHealth::kRefused;
  }
  if (s == "unreachable") {
    return CredentialHealth::kUnreachable;
  }
  return std::nullopt;
}

std::optional<DomainStatus> parseDomainStatus(std::string_view s) {
  if (s == "pending") {
    return DomainStatus::kPending;
  }
  if (s == "verified") {
    return DomainStatus::kVerified;
  }
  if (s == "active") {
    return DomainStatus::kActive;
  }
  return std::nullopt;
}

std::optional<PromptStatus> parsePromptStatus(std::string_view s) {
  if (s == "draft") {
    return PromptStatus::kDraft;
  }
  if (s == "active") {
    return PromptStatus::kActive;
  }
  if (s == "retired") {
    return PromptStatus::kRetired;
  }
  return std::nullopt;
}

std::optional<UserRole> parseUserRole(std::string_view s) {
  if (s == "owner") {
    return UserRole::kOwner;
  }
  if (s == "admin") {
    return UserRole::kAdmin;
  }
  if (s == "member") {
    return UserRole::kMember;
  }
  return std::nullopt;
}

std::string encodeStringList(const std::vector<std::string>& items) {
  if (items.empty()) {
    return "[]";
  }
  json::array a;
  a.reserve(items.size());
  for (const auto& s : items) {
    a.emplace_back(s);
  }
  return json::serialize(a);
}

namespace {

Error corrupt(std::string_view what) {
  return fail(
      ErrorCode::kInternal, "storage error", std::string("undecodable ") + std::string(what));
}

}  // namespace

Result<std::vector<std::string>> decodeStringList(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty() || text == "[]") {  // the common case, without a parser
    return out;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) {
    return corrupt("string list");
  }
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) {
      return corrupt("string list");
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

std::string encodeDeployments(const std::vector<Deployment>& deployments) {
  json::array a;
  a.reserve(deployments.size());
  for (const auto& d : deployments) {
    json::object o;
    o["name"] = d.name;
    o["provider"] = d.provider;
    o["model"] = d.model;
    o["credential_id"] = d.credential_id;
    o["priority"] = d.priority;
    o["weight"] = d.weight;
    o["max_context_tokens"] = d.max_context_tokens;
    o["rpm"] = d.rpm;
    a.emplace_back(std::move(o));
  }
  return json::serialize(a);
}

Result<std::vector<Deployment>> decodeDeployments(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) {
    return corrupt("deployments");
  }
  std::vector<Deployment> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) {
      return corrupt("deployments");
    }
    const auto& o = item.as_object();
    Deployment d;
    auto str = [&o](std::string_view key) -> std::string {
      const auto* p = o.if_contains(key);
      return p != nullptr && p->is_string() ? std::string(p->as_string()) : std::string();
    };
    auto num = [&o](std::string_view key) -> std::int64_t {
      const auto* p = o.if_contains(key);
      if (p == nullptr) {
        return 0;
      }
      if (p->is_int64()) {
        return p->as_int64();
      }
      if (p->is_uint64()) {
        return static_cast<std::int64_t>(p->as_uint64());
      }
      return 0;
    };
    d.name = str("name");
    d.provider = str("provider");
    d.model = str("model");
    d.credential_id = str("credential_id");
    d.priority = static_cast<std::int32_t>(num("priority"));
    d.weight = static_cast<std::int32_t>(num("weight"));
    d.max_context_tokens = static_cast<std::uint32_t>(num("max_context_tokens"));
    d.rpm = static_cast<std::uint32_t>(num("rpm"));
    out.push_back(std::move(d));
  }
  return out;
}

std::string toHex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // EVP_Digest with SHA-256 cannot fail for in-memory input short of allocation failure.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return toHex(std::span<const unsigned char>(digest.data(), size));
}

}  // namespace livery::storage
