#include "whitelabel/host.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace livery::whitelabel {

namespace {

constexpr std::array kReservedSlugs = std::to_array<std::string_view>({
    "admin",   "api",    "app",     "assets",  "auth",      "autoconfig", "autodiscover",
    "billing", "blog",   "cdn",     "console", "dashboard", "dev",        "docs",
    "ftp",     "help",   "id",      "imap",    "internal",  "livery",     "localhost",
    "login",   "mail",   "mta-sts", "ns1",     "ns2",       "operator",   "pop",
    "portal",  "root",   "smtp",    "sso",     "staging",   "static",     "status",
    "support", "system", "test",    "webmail", "www",
});

bool isLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Error badHost() {
  return fail(ErrorCode::kBadRequest, "invalid Host header");
}

bool validPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || !isDigits(port)) {
    return false;
  }
  unsigned value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  return value <= 65535;
}

}  // namespace

Result<std::string> normalizeHost(std::string_view raw) {
  if (raw.empty() || raw.size() > kMaxHostBytes + 8) {
    return badHost();
  }
  if (raw.front() == '[') {  // IPv6 literal, optional port
    std::size_t close = raw.find(']');
    if (close == std::string_view::npos) {
      return badHost();
    }
    std::string_view rest = raw.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !validPort(rest.substr(1)))) {
      return badHost();
    }
    std::string_view inner = raw.substr(1, close - 1);
    if (inner.find('%') != std::string_view::npos) {
      return badHost();  // no zone ids in a Host header
    }
    auto ip = IpAddress::parse(inner);
    if (!ip) {
      return badHost();
    }
    return ip->isV4() ? ip->toString() : "[" + ip->toString() + "]";
  }
  std::string_view name = raw;
  std::size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    if (!validPort(name.substr(colon + 1))) {
      return badHost();  // also rejects unbracketed IPv6 and "user@host:port" forms
    }
    name = name.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > kMaxHostBytes) {
    return badHost();
  }
  std::string host;
  host.reserve(name.size());
  for (char c : name) {
    host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  std::string_view h = host;
  std::string_view last_label;
  for (std::size_t start = 0; start <= h.size();) {
    std::size_t dot = h.find('.', start);
    std::size_t end = dot == std::string_view::npos ? h.size() : dot;
    std::string_view label = h.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), isLdh)) {
      return badHost();
    }
    last_label = label;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (isDigits(last_label)) {  // must be a strict dotted quad (no octal, hex or short forms)
    auto ip = IpAddress::parse(h);
    if (!ip || !ip->isV4()) {
      return badHost();
    }
  }
  return host;
}

bool isValidSlug(std::string_view slug) {
  if (slug.size() < 2 || slug.size() > 40 || slug.front() == '-' || slug.back() == '-') {
    return false;
  }
  if (slug.size() >= 4 && slug[2] == '-' && slug[3] == '-') {
    return false;  // "xn--" and friends: reserved for IDNA
  }
  return std::all_of(slug.begin(), slug.end(), isLdh);
}

bool isReservedSlug(std::string_view slug) {
  return std::find(kReservedSlugs.begin(), kReservedSlugs.end(), slug) != kReservedSlugs.end();
}

HostMatch classifyHost(std::string_view host, std::string_view base_domain) {
  HostMatch m;
  if (host.starts_with('[') || (!host.empty() && IpAddress::parse(host).has_value())) {
    m.kind = HostKind::kIpLiteral;
    return m;
  }
  if (!base_domain.empty() && host == base_domain) {
    m.kind = HostKind::kPlatformApex;
    return m;
  }
  if (!base_domain.empty() && host.size() > base_domain.size() + 1 && host.ends_with(base_domain) &&
      host[host.size() - base_domain.size() - 1] == '.') {
    std::string_view label = host.substr(0, host.size() - base_domain.size() - 1);
    if (label.find('.') != std::string_view::npos) {
      m.kind = HostKind::kUnknown;
    } else if (isReservedSlug(label)) {
      m.kind = HostKind::kReserved;
      m.slug = std::string(label);
    } else if (isValidSlug(label)) {
      m.kind = HostKind::kTenantSlug;
      m.slug = std::string(label);
    } else {
      m.kind = HostKind::kUnknown;
    }
    return m;
  }
  m.kind = HostKind::kCustomDomain;
  return m;
}

bool isOperatorHost(const RequestOrigin& origin, std::string_view operator_host) {
  if (!operator_host.empty()) {
    return origin.host == operator_host;
  }
  return origin.match.kind == HostKind::kPlatformApex ||
         origin.match.kind == HostKind::kIpLiteral || origin.host == "localhost";
}

Result<HostResolver> HostResolver::create(std::string_view base_domain,
                                          const std::vector<std::string>& trusted_proxies) {
  auto base = normalizeHost(base_domain);
  if (!base) {
    return fail(ErrorCode::kUnprocessable, "http.base_domain is not a valid host name");
  }
  auto cidrs = CidrSet::parse(trusted_proxies);
  if (!cidrs) {
    return cidrs.error();
  }
  return HostResolver(std::move(*base), std::move(*cidrs));
}

Result<std::string> HostResolver::requestHost(const ForwardedInput& input) const {
  auto raw = resolveRawHost(input, trusted_);
  if (!raw) {
    return raw.error();
  }
  return normalizeHost(*raw);
}

Result<RequestOrigin> HostResolver::resolve(const ForwardedInput& input) const {
  auto origin = resolveClientOrigin(input, trusted_);
  if (!origin) {
    return origin.error();
  }
  auto host = normalizeHost(origin->raw_host);
  if (!host) {
    return host.error();
  }
  RequestOrigin out;
  out.match = classifyHost(*host, base_domain_);
  out.host = std::move(*host);
  out.client_ip = std::move(origin->client_ip);
  out.via_trusted_proxy = origin->via_trusted_proxy;
  return out;
}

}  // namespace livery::whitelabel
