#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "core/error.hpp"
#include "core/net.hpp"

namespace livery::config {
struct UpstreamConfig;
}

namespace livery::upstream {

class Resolver;

// Where an upstream request goes, parsed from an absolute URL by Boost.URL. The client parses
// with this function only, so the URL that was validated is exactly the URL that connects.
struct Target {
  bool tls = true;
  std::string host;  // lower-case, no trailing dot; an IPv6 literal without brackets
  bool host_is_ip = false;
  std::uint16_t port = 443;
  std::string path_and_query = "/";  // as sent in the request line
  std::string host_header;           // "host" or "host:port" for a non-default port
  std::string pool_key;              // "https://host:port": one keep-alive pool per key
};

// Parses an absolute http(s) URL. Refuses other schemes, user-info, percent-encoded or
// malformed host names, IPv6 zone ids and non-canonical IPv4 literals ("127.1", "0x7f.0.0.1",
// "2130706433"), which resolvers would quietly turn into addresses. No policy, no DNS.
Result<Target> parseTarget(std::string_view url);

// What an IP address is, for the SSRF guard (research/security.md §3.5). IPv4-mapped
// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and
// Teredo (2001::/32) addresses are classified by the IPv4 address they embed.
enum class AddressClass {
  kPublic,
  kUnspecified,    // 0.0.0.0/8, ::
  kLoopback,       // 127/8, ::1
  kPrivate,        // 10/8, 172.16/12, 192.168/16, fec0::/10, 64:ff9b:1::/48
  kSharedCgnat,    // 100.64/10 (also Alibaba's metadata 100.100.100.200)
  kLinkLocal,      // 169.254/16, fe80::/10
  kCloudMetadata,  // 169.254.169.254, 168.63.129.16, fd00:ec2::254
  kMulticast,      // 224/4, ff00::/8
  kBroadcast,      // 255.255.255.255
  kUniqueLocal,    // fc00::/7
  kReserved,       // 192.0.0/24, documentation, 198.18/15 benchmarking, 240/4, 100::/64,
                   // 2001:db8::/32
};

AddressClass classifyAddress(const net::ip::address& address) noexcept;
// "a private range", "a loopback address", ... (for error messages).
std::string_view describe(AddressClass c) noexcept;
// True for the classes an upstream.allow_private_hosts entry can permit (loopback, private,
// CGNAT, link-local, unique-local, reserved). Unspecified, multicast, broadcast and cloud
// metadata addresses are never connectable.
bool allowListable(AddressClass c) noexcept;

// The outbound (SSRF) guard. Policy, from config::UpstreamConfig:
//   - https only, unless the host (or host:port) is listed in upstream.allow_http_hosts;
//   - every address the host resolves to must be public, unless the host (or host:port) is in
//     upstream.allow_private_hosts (which still never permits metadata, unspecified, multicast
//     or broadcast addresses); one refused address refuses the host;
//   - cloud metadata names (metadata.google.internal, ...) are refused by name.
// Refusals are kPermissionDenied with openai_code "upstream_address_refused" and a message
// that names the address and the setting that would allow it.
//
// The same object is used when a tenant saves a base URL (check()) and, inside the upstream
// client, at every new connection (resolveChecked()), whose result is the exact list of
// addresses the client may dial (the addresses are pinned, so DNS rebinding cannot move the
// connection). Immutable after construction; safe to share between threads.
class OutboundGuard {
 public:
  explicit OutboundGuard(const config::UpstreamConfig& cfg);

  // Scheme, syntax and name checks; no DNS. For an IP literal the address check runs too.
  Result<Target> checkUrl(std::string_view url) const;
  // Checks one address for `target` against the private-range policy.
  Result<void> checkAddress(const Target& target, const net::ip::address& address) const;
  // Resolves target.host (or takes the literal) and checks every address. Returns the addresses
  // to connect to, in resolver order.
  net::awaitable<Result<std::vector<net::ip::address>>> resolveChecked(
      Target target, Resolver& resolver, std::chrono::milliseconds timeout) const;
  // Save-time check of a tenant-supplied base URL: checkUrl() then resolveChecked().
  net::awaitable<Result<Target>> check(std::string url,
                                       Resolver& resolver,
                                       std::chrono::milliseconds timeout) const;

  bool httpAllowed(const Target& target) const noexcept;
  bool privateAllowed(const Target& target) const noexcept;

 private:
  struct HostEntry {
    std::string host;        // normalised like Target::host
    std::uint16_t port = 0;  // 0: any port
  };
  static std::vector<HostEntry> parseEntries(const std::vector<std::string>& entries);
  static bool matches(const std::vector<HostEntry>& list, const Target& target) noexcept;

  std::vector<HostEntry> allow_http_;
  std::vector<HostEntry> allow_private_;
};

}  // namespace livery::upstream
