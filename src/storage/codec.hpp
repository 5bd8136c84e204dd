#pragma once

// Encodings shared by the stores: enums as stable text, string lists and deployments as JSON
// text columns, hex and SHA-256. Pure functions, thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"

namespace livery::storage {

std::string_view toString(TenantStatus v);
std::string_view toString(CredentialHealth v);
std::string_view toString(DomainStatus v);
std::string_view toString(PromptStatus v);
std::string_view toString(UserRole v);
// Unknown text yields nullopt (a value written by a newer binary, or corruption).
std::optional<TenantStatus> parseTenantStatus(std::string_view s);
std::optional<CredentialHealth> parseCredentialHealth(std::string_view s);
std::optional<DomainStatus> parseDomainStatus(std::string_view s);
std::optional<PromptStatus> parsePromptStatus(std::string_view s);
std::optional<UserRole> parseUserRole(std::string_view s);

// ["a","b"] <-> {"a","b"}.
std::string encodeStringList(const std::vector<std::string>& items);
Result<std::vector<std::string>> decodeStringList(std::string_view json);

// [{"name":..,"provider":..,"model":..,"credential_id":..,"priority":..,"weight":..,
//   "max_context_tokens":..,"rpm":..}, …]
std::string encodeDeployments(const std::vector<Deployment>& deployments);
Result<std::vector<Deployment>> decodeDeployments(std::string_view json);

std::string toHex(std::span<const unsigned char> bytes);
std::string sha256Hex(std::string_view data);

}  // namespace livery::storage
