#pragma once

// Host → tenant, the pure part: Host header normalisation, `<slug>.<base_domain>` parsing, and
// (trusted_proxies.hpp) which hop's X-Forwarded-* headers to believe. The lead plugs these into
// the request path in front of the domain index: a kTenantSlug match is looked up by slug, a
// kCustomDomain match in the custom-domain index (status kActive only), anything else gets a
// neutral 404 with no tenant branding and never falls back to a default tenant.
// Thread-safety: pure functions; HostResolver is immutable after create().

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "whitelabel/trusted_proxies.hpp"

namespace livery::whitelabel {

inline constexpr std::size_t kMaxHostBytes = 253;

// Lower-cases, strips the port and one trailing dot, and checks the syntax: LDH labels of 1..63
// characters (no leading/trailing hyphen, no underscore, ASCII only: IDNs must arrive as
// punycode "xn--…", which is accepted as is), at most 253 bytes in total; an all-numeric last
// label must be a dotted-quad IPv4 address; "[v6]" literals are returned in canonical form with
// brackets. kBadRequest for anything else (white space, control characters, userinfo, empty).
[[nodiscard]] Result<std::string> normalizeHost(std::string_view raw);

// [a-z0-9-]{2,40}, no leading or trailing hyphen, no "xn--"-style hyphens at positions 3–4.
bool isValidSlug(std::string_view slug);
// Labels the platform keeps for itself (www, api, admin, console, static, …): never a tenant.
bool isReservedSlug(std::string_view slug);

enum class HostKind {
  kTenantSlug,    // <slug>.<base_domain>; `slug` is set
  kPlatformApex,  // the base domain itself
  kReserved,      // <reserved>.<base_domain> (console, api, …); `slug` holds the label
  kUnknown,       // under the base domain but not a possible tenant (nested, invalid label)
  kIpLiteral,     // an address, never a tenant
  kCustomDomain,  // anything else: look it up among active custom domains
};

struct HostMatch {
  HostKind kind = HostKind::kUnknown;
  std::string slug;
};

// Both arguments must already be normalised (normalizeHost()).
HostMatch classifyHost(std::string_view host, std::string_view base_domain);

// What the request path needs from the connection and its headers.
struct RequestOrigin {
  std::string host;       // normalised; from X-Forwarded-Host only via a trusted proxy
  std::string client_ip;  // canonical text form
  bool via_trusted_proxy = false;
  HostMatch match;
};

// The operator console's host. With `operator_host` set (normalised, e.g. http.operator_host
// through normalizeHost()), exactly that host. Otherwise the platform's own addresses: the base
// domain itself (kPlatformApex), an IP literal, or "localhost"; never a tenant slug, reserved,
// nested or custom-domain host.
bool isOperatorHost(const RequestOrigin& origin, std::string_view operator_host);

// Built once from config (http.base_domain, http.trusted_proxies); immutable afterwards.
class HostResolver {
 public:
  // Throws nothing; kUnprocessable when the base domain or a CIDR does not parse (start-up
  // turns that into a configuration error).
  [[nodiscard]] static Result<HostResolver> create(std::string_view base_domain,
                                                   const std::vector<std::string>& trusted_proxies);

  // Resolves the effective host and client address (see resolveClientOrigin) and classifies
  // the host. kBadRequest for a missing or invalid Host / X-Forwarded-Host.
  [[nodiscard]] Result<RequestOrigin> resolve(const ForwardedInput& input) const;
  // Only the normalised effective host of resolve(), without the client address: cheaper, for
  // the per-request API-key path.
  [[nodiscard]] Result<std::string> requestHost(const ForwardedInput& input) const;

  const std::string& baseDomain() const { return base_domain_; }
  const CidrSet& trustedProxies() const { return trusted_; }

 private:
  HostResolver(std::string base_domain, CidrSet trusted)
      : base_domain_(std::move(base_domain)), trusted_(std::move(trusted)) {}

  std::string base_domain_;
  CidrSet trusted_;
};

}  // namespace livery::whitelabel
