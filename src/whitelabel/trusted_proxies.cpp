#include "whitelabel/trusted_proxies.hpp"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>

namespace livery::whitelabel {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool prefixMatches(const std::array<std::uint8_t, 16>& a,
                   const std::array<std::uint8_t, 16>& b,
                   unsigned prefix) {
  unsigned full = prefix / 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) {
    return false;
  }
  unsigned rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// An X-Forwarded-For element: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443".
std::optional<IpAddress> parseHop(std::string_view hop) {
  hop = trimSpaces(hop);
  if (hop.size() >= 2 && hop.front() == '"' && hop.back() == '"') {
    hop = hop.substr(1, hop.size() - 2);
  }
  if (!hop.empty() && hop.front() == '[') {
    std::size_t close = hop.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    return IpAddress::parse(hop.substr(1, close - 1));
  }
  std::size_t colon = hop.find(':');
  if (colon != std::string_view::npos && hop.find(':', colon + 1) == std::string_view::npos) {
    hop = hop.substr(0, colon);  // IPv4 with a port
  }
  return IpAddress::parse(hop);
}

std::string_view lastElement(std::string_view list) {
  std::size_t comma = list.rfind(',');
  return trimSpaces(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::size_t zone = text.find('%');
  if (zone != std::string_view::npos) {
    text = text.substr(0, zone);
  }
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  char buf[46] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, ip.bytes_.data()) != 1) {
      return std::nullopt;
    }
    ip.v4_ = true;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes_.data()) != 1) {
    return std::nullopt;
  }
  if (std::memcmp(ip.bytes_.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0) {
    std::memmove(ip.bytes_.data(), ip.bytes_.data() + 12, 4);
    std::memset(ip.bytes_.data() + 4, 0, 12);
    ip.v4_ = true;
  }
  return ip;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf)) == nullptr) {
    return {};
  }
  return buf;
}

Result<CidrSet> CidrSet::parse(const std::vector<std::string>& entries) {
  CidrSet set;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto bad = [i] {
      return fail(ErrorCode::kUnprocessable,
                  "http.trusted_proxies[" + std::to_string(i) + "] is not an address or CIDR");
    };
    std::string_view e = trimSpaces(entries[i]);
    std::size_t slash = e.find('/');
    auto ip = IpAddress::parse(e.substr(0, slash));
    if (!ip) {
      return bad();
    }
    bool mapped_v4 = ip->isV4() && e.substr(0, slash).find(':') != std::string_view::npos;
    unsigned max = ip->isV4() && !mapped_v4 ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
      std::string_view p = e.substr(slash + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || end != p.data() + p.size() || p.empty() || prefix > max) {
        return bad();
      }
    }
    if (mapped_v4) {  // ::ffff:a.b.c.d/n applies to IPv4 peers
      if (prefix < 96) {
        return bad();
      }
      prefix -= 96;
    }
    set.ranges_.push_back(Range{ip->bytes(), prefix, ip->isV4()});
  }
  return set;
}

bool CidrSet::contains(const IpAddress& ip) const {
  for (const auto& r : ranges_) {
    if (r.v4 == ip.isV4() && prefixMatches(r.bytes, ip.bytes(), r.prefix)) {
      return true;
    }
  }
  return false;
}

namespace {

// The host to normalise: the right-most X-Forwarded-Host from a trusted proxy, else Host.
std::string_view rawHost(const ForwardedInput& input, bool peer_trusted) {
  if (!peer_trusted) {
    return input.host;
  }
  std::string_view xfh = lastElement(input.x_forwarded_host);
  return xfh.empty() ? input.host : xfh;
}

}  // namespace

Result<std::string_view> resolveRawHost(const ForwardedInput& input, const CidrSet& trusted) {
  auto peer = IpAddress::parse(input.peer_ip);
  if (!peer) {
    return fail(ErrorCode::kInternal, "internal error", "unparsable peer address");
  }
  return rawHost(input, !trusted.empty() && trusted.contains(*peer));
}

Result<ClientOrigin> resolveClientOrigin(const ForwardedInput& input, const CidrSet& trusted) {
  auto peer = IpAddress::parse(input.peer_ip);
  if (!peer) {
    return fail(ErrorCode::kInternal, "internal error", "unparsable peer address");
  }
  ClientOrigin out;
  const bool peer_trusted = !trusted.empty() && trusted.contains(*peer);
  out.raw_host = std::string(rawHost(input, peer_trusted));
  if (!peer_trusted) {
    out.client_ip = peer->toString();
    return out;
  }
  out.via_trusted_proxy = true;

  IpAddress client = *peer;
  std::string_view list = input.x_forwarded_for;
  for (std::size_t hops = 0; hops < kMaxForwardedHops && !trimSpaces(list).empty(); ++hops) {
    std::size_t comma = list.rfind(',');
    std::string_view hop = comma == std::string_view::npos ? list : list.substr(comma + 1);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
    auto ip = parseHop(hop);
    if (!ip) {
      break;  // never attribute the request to a string we cannot read
    }
    client = *ip;
    if (!trusted.contains(*ip)) {
      break;
    }
  }
  out.client_ip = client.toString();
  return out;
}

}  // namespace livery::whitelabel
