#pragma once

// Deployment-target helpers shared by the adapters: base-URL normalisation and typed reads of a
// credential's options JSON. Errors are kUnprocessable (the deployment is misconfigured, not the
// request). The outbound guard in the upstream client still checks every URL at connect time;
// these checks only make sure an adapter never composes a URL from a malformed base.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace livery::providers {

// `base` (or `fallback` when empty) checked and normalised: http or https, a host, no query,
// fragment, userinfo, whitespace or control characters; trailing '/' removed, and then
// `strip_suffix` (e.g. "/v1") removed when present, so both forms of a base URL work.
[[nodiscard]] Result<std::string> normalizeBaseUrl(std::string_view base,
                                                   std::string_view fallback,
                                                   std::string_view provider,
                                                   std::string_view strip_suffix = {});

// Reads one member of a credential's options JSON ("{}" or empty: absent). A member of the wrong
// type, or options that are not a JSON object, are an error.
[[nodiscard]] Result<std::optional<std::string>> optionString(std::string_view options_json,
                                                              std::string_view key);
[[nodiscard]] Result<std::optional<bool>> optionBool(std::string_view options_json,
                                                     std::string_view key);
[[nodiscard]] Result<std::optional<std::uint64_t>> optionUint(std::string_view options_json,
                                                              std::string_view key);

// True when `s` is non-empty and only [A-Za-z0-9._-] (deployment names, API versions, model
// names placed in URL paths or queries).
bool isUrlSafeToken(std::string_view s);

}  // namespace livery::providers
