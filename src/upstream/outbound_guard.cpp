#include "upstream/outbound_guard.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include "config/config.hpp"
#include "upstream/resolver.hpp"

namespace livery::upstream {

namespace {

constexpr std::string_view kRefusedCode = "upstream_address_refused";

Error refused(std::string message, std::string detail = {}) {
  return std::move(fail(ErrorCode::kPermissionDenied, std::move(message), std::move(detail)))
      .withCode(std::string(kRefusedCode));
}

Error badUrl(std::string message) {
  return std::move(fail(ErrorCode::kBadRequest, std::move(message))).withCode("invalid_base_url");
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

bool allDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool hexNumber(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
         std::all_of(s.begin() + 2, s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Names that reach cloud instance metadata services without an address check helping (they
// may resolve through a search domain or a hosts file).
constexpr std::array<std::string_view, 6> kMetadataNames = {
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
};

std::uint32_t v4Bits(const net::ip::address_v4& a) {
  return a.to_uint();
}

AddressClass classifyV4(std::uint32_t v) noexcept {
  auto in = [v](std::uint32_t net_addr, int prefix) {
    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (v & mask) == (net_addr & mask);
  };
  auto ip = [](unsigned a, unsigned b, unsigned c, unsigned d) {
    return std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 |
           std::uint32_t{d};
  };
  if (v == ip(169, 254, 169, 254) || v == ip(168, 63, 129, 16) || v == ip(100, 100, 100, 200)) {
    return AddressClass::kCloudMetadata;
  }
  if (in(ip(0, 0, 0, 0), 8)) {
    return AddressClass::kUnspecified;
  }
  if (in(ip(127, 0, 0, 0), 8)) {
    return AddressClass::kLoopback;
  }
  if (in(ip(10, 0, 0, 0), 8) || in(ip(172, 16, 0, 0), 12) || in(ip(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (in(ip(100, 64, 0, 0), 10)) {
    return AddressClass::kSharedCgnat;
  }
  if (in(ip(169, 254, 0, 0), 16)) {
    return AddressClass::kLinkLocal;
  }
  if (v == ip(255, 255, 255, 255)) {
    return AddressClass::kBroadcast;
  }
  if (in(ip(224, 0, 0, 0), 4)) {
    return AddressClass::kMulticast;
  }
  if (in(ip(240, 0, 0, 0), 4) || in(ip(192, 0, 0, 0), 24) || in(ip(192, 0, 2, 0), 24) ||
      in(ip(198, 51, 100, 0), 24) || in(ip(203, 0, 113, 0), 24) || in(ip(198, 18, 0, 0), 15) ||
      in(ip(192, 88, 99, 0), 24)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

std::uint32_t embeddedV4(const net::ip::address_v6::bytes_type& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | std::uint32_t{b[at + 3]};
}

AddressClass classifyV6(const net::ip::address_v6& a) noexcept {
  const auto b = a.to_bytes();
  auto zeros = [&b](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  };
  if (zeros(0, 16)) {
    return AddressClass::kUnspecified;
  }
  if (zeros(0, 15) && b[15] == 1) {
    return AddressClass::kLoopback;
  }
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the embedded IPv4 decides.
  if (zeros(0, 10) && b[10] == 0xff && b[11] == 0xff) {
    return classifyV4(embeddedV4(b, 12));
  }
  if (zeros(0, 12)) {
    return classifyV4(embeddedV4(b, 12));
  }
  // ::ffff:0:a.b.c.d (SIIT IPv4-translated).
  if (zeros(0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) {
    return classifyV4(embeddedV4(b, 12));
  }
  // 64:ff9b::/96 (NAT64 well-known prefix) embeds the IPv4 destination.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zeros(4, 12)) {
    return classifyV4(embeddedV4(b, 12));
  }
  // 64:ff9b:1::/48 (local-use NAT64, RFC 8215): translates into private networks.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1) {
    return AddressClass::kPrivate;
  }
  // 2002::/16 (6to4) embeds the IPv4 address of the tunnel end point.
  if (b[0] == 0x20 && b[1] == 0x02) {
    return classifyV4(embeddedV4(b, 2));
  }
  // fd00:ec2::254 (AWS instance metadata over IPv6) sits inside fc00::/7; check it first.
  static constexpr net::ip::address_v6::bytes_type kAwsMetadata = {
      0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == kAwsMetadata) {
    return AddressClass::kCloudMetadata;
  }
  if ((b[0] & 0xfe) == 0xfc) {
    return AddressClass::kUniqueLocal;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    return AddressClass::kLinkLocal;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
    return AddressClass::kPrivate;  // fec0::/10 site-local (deprecated, still routable inside)
  }
  if (b[0] == 0xff) {
    return AddressClass::kMulticast;
  }
  // 2001::/32 Teredo, 2001:db8::/32 documentation, 100::/64 discard-only.
  if (b[0] == 0x20 && b[1] == 0x01 &&
      ((b[2] == 0 && b[3] == 0) || (b[2] == 0x0d && b[3] == 0xb8))) {
    return AddressClass::kReserved;
  }
  if (b[0] == 0x01 && b[1] == 0x00 && zeros(2, 8)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

// "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal.
bool splitEntry(std::string_view entry, std::string& host, std::uint16_t& port) {
  port = 0;
  std::string_view port_text;
  if (!entry.empty() && entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    host = std::string(entry.substr(1, close - 1));
    auto rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port_text = rest.substr(1);
    }
  } else if (std::count(entry.begin(), entry.end(), ':') > 1) {
    host = std::string(entry);
  } else if (auto colon = entry.find(':'); colon != std::string_view::npos) {
    host = std::string(entry.substr(0, colon));
    port_text = entry.substr(colon + 1);
  } else {
    host = std::string(entry);
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return false;
    }
    port = static_cast<std::uint16_t>(value);
  }
  host = lower(host);
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  boost::system::error_code ec;
  auto v6 = net::ip::make_address_v6(host, ec);
  if (!ec) {
    host = v6.to_string();  // canonical form, as Target::host has it
  }
  return !host.empty();
}

}  // namespace

AddressClass classifyAddress(const net::ip::address& address) noexcept {
  if (address.is_v4()) {
    return classifyV4(v4Bits(address.to_v4()));
  }
  return classifyV6(address.to_v6());
}

std::string_view describe(AddressClass c) noexcept {
  switch (c) {
    case AddressClass::kPublic:
      return "a public address";
    case AddressClass::kUnspecified:
      return "the unspecified address";
    case AddressClass::kLoopback:
      return "a loopback address";
    case AddressClass::kPrivate:
      return "in a private range";
    case AddressClass::kSharedCgnat:
      return "in the shared (CGNAT) range 100.64.0.0/10";
    case AddressClass::kLinkLocal:
      return "a link-local address";
    case AddressClass::kCloudMetadata:
      return "a cloud metadata address";
    case AddressClass::kMulticast:
      return "a multicast address";
    case AddressClass::kBroadcast:
      return "the broadcast address";
    case AddressClass::kUniqueLocal:
      return "a unique-local address";
    case AddressClass::kReserved:
      return "in a reserved range";
  }
  return "a refused address";
}

bool allowListable(AddressClass c) noexcept {
  switch (c) {
    case AddressClass::kLoopback:
    case AddressClass::kPrivate:
    case AddressClass::kSharedCgnat:
    case AddressClass::kLinkLocal:
    case AddressClass::kUniqueLocal:
    case AddressClass::kReserved:
      return true;
    default:
      return false;
  }
}

Result<Target> parseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return badUrl("upstream URL is not a valid absolute URL");
  }
  const boost::urls::url_view& u = *parsed;
  Target t;
  auto scheme = lower(u.scheme());
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme == "http") {
    t.tls = false;
  } else {
    return badUrl("upstream URL must use https (or http where allowed)");
  }
  if (!u.has_authority()) {
    return badUrl("upstream URL has no host");
  }
  if (u.has_userinfo()) {
    return badUrl("upstream URL must not contain user-info (credentials before '@')");
  }
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      t.host = std::string(u.encoded_host_address());
      t.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6: {
      boost::system::error_code ec;
      auto v6 = net::ip::make_address_v6(std::string(u.encoded_host_address()), ec);
      if (ec) {
        return badUrl("upstream URL has an invalid IPv6 address");
      }
      t.host = v6.to_string();
      t.host_is_ip = true;
      break;
    }
    case boost::urls::host_type::name: {
      std::string_view encoded = u.encoded_host();
      if (encoded.find('%') != std::string_view::npos) {
        return badUrl("upstream host name must not be percent-encoded");
      }
      t.host = lower(encoded);
      if (!t.host.empty() && t.host.back() == '.') {
        t.host.pop_back();
      }
      if (t.host.empty() || t.host.size() > 253) {
        return badUrl("upstream URL has an empty or over-long host name");
      }
      for (unsigned char c : t.host) {
        if (std::isalnum(c) == 0 && c != '-' && c != '.' && c != '_') {
          return badUrl("upstream host name has an invalid character");
        }
      }
      std::string_view last = t.host;
      if (auto dot = last.rfind('.'); dot != std::string_view::npos) {
        last = last.substr(dot + 1);
      }
      if (last.empty() || t.host.find("..") != std::string::npos || t.host.front() == '.') {
        return badUrl("upstream host name has an empty label");
      }
      // A numeric last label means a resolver would read the name as an IPv4 address in a
      // non-canonical form (decimal, octal, hex, short): refuse rather than guess.
      if (allDigits(last) || hexNumber(last)) {
        return badUrl("upstream host looks like a non-canonical IPv4 address; write it as a.b.c.d");
      }
      break;
    }
    default:
      return badUrl("upstream URL has an unsupported host");
  }
  std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    std::string_view text = u.port();
    unsigned value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || value == 0 || value > 65535) {
      return badUrl("upstream URL has an invalid port");
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  std::string_view path = u.encoded_path();
  if (path.empty()) {
    t.path_and_query = "/";
  } else if (path.front() != '/') {
    return badUrl("upstream URL path must be absolute");
  } else {
    t.path_and_query = std::string(path);
  }
  if (u.has_query()) {
    t.path_and_query += '?';
    t.path_and_query += u.encoded_query();
  }
  std::string bracketed = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  t.host_header = t.port == default_port ? bracketed : fmt::format("{}:{}", bracketed, t.port);
  t.pool_key = fmt::format("{}://{}:{}", t.tls ? "https" : "http", bracketed, t.port);
  return t;
}

OutboundGuard::OutboundGuard(const config::UpstreamConfig& cfg)
    : allow_http_(parseEntries(cfg.allow_http_hosts)),
      allow_private_(parseEntries(cfg.allow_private_hosts)) {}

std::vector<OutboundGuard::HostEntry> OutboundGuard::parseEntries(
    const std::vector<std::string>& entries) {
  std::vector<HostEntry> out;
  for (const auto& e : entries) {
    HostEntry h;
    if (splitEntry(e, h.host, h.port)) {
      out.push_back(std::move(h));
    }
  }
  return out;
}

bool OutboundGuard::matches(const std::vector<HostEntry>& list, const Target& target) noexcept {
  return std::any_of(list.begin(), list.end(), [&target](const HostEntry& e) {
    return e.host == target.host && (e.port == 0 || e.port == target.port);
  });
}

bool OutboundGuard::httpAllowed(const Target& target) const noexcept {
  return matches(allow_http_, target);
}

bool OutboundGuard::privateAllowed(const Target& target) const noexcept {
  return matches(allow_private_, target);
}

Result<Target> OutboundGuard::checkUrl(std::string_view url) const {
  auto parsed = parseTarget(url);
  if (!parsed) {
    return parsed.error();
  }
  Target& t = *parsed;
  if (!t.tls && !httpAllowed(t)) {
    return refused(
        fmt::format("upstream URL for {} must use https; allow plain http for this "
                    "host with upstream.allow_http_hosts",
                    t.host_header));
  }
  for (auto name : kMetadataNames) {
    if (t.host == name) {
      return refused(
          fmt::format("upstream host {} is a cloud metadata service and is never allowed", t.host));
    }
  }
  if (t.host_is_ip) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(t.host, ec);
    if (ec) {
      return badUrl("upstream URL has an invalid IP address");
    }
    if (auto ok = checkAddress(t, address); !ok) {
      return ok.error();
    }
  }
  return std::move(t);
}

Result<void> OutboundGuard::checkAddress(const Target& target,
                                         const net::ip::address& address) const {
  AddressClass c = classifyAddress(address);
  if (c == AddressClass::kPublic) {
    return {};
  }
  bool listable = allowListable(c);
  if (listable && privateAllowed(target)) {
    return {};
  }
  std::string where = target.host_is_ip ? fmt::format("upstream address {} is", address.to_string())
                                        : fmt::format("upstream host {} resolves to {}, which is",
                                                      target.host,
                                                      address.to_string());
  if (listable) {
    return refused(
        fmt::format("{} {}; allow it with upstream.allow_private_hosts", where, describe(c)));
  }
  return refused(fmt::format("{} {} and is never allowed", where, describe(c)));
}

net::awaitable<Result<std::vector<net::ip::address>>> OutboundGuard::resolveChecked(
    Target target, Resolver& resolver, std::chrono::milliseconds timeout) const {
  std::vector<net::ip::address> addresses;
  if (target.host_is_ip) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(target.host, ec);
    if (ec) {
      co_return badUrl("upstream URL has an invalid IP address");
    }
    addresses.push_back(address);
  } else {
    auto resolved = co_await resolver.resolve(target.host, timeout);
    if (!resolved) {
      co_return resolved.error();
    }
    addresses = std::move(*resolved);
  }
  for (const auto& a : addresses) {
    if (auto ok = checkAddress(target, a); !ok) {
      co_return ok.error();
    }
  }
  co_return addresses;
}

net::awaitable<Result<Target>> OutboundGuard::check(std::string url,
                                                    Resolver& resolver,
                                                    std::chrono::milliseconds timeout) const {
  auto target = checkUrl(url);
  if (!target) {
    co_return target.error();
  }
  auto addresses = co_await resolveChecked(*target, resolver, timeout);
  if (!addresses) {
    co_return addresses.error();
  }
  co_return std::move(*target);
}

}  // namespace livery::upstream
