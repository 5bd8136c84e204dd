#pragma once

// Trusted reverse proxies: X-Forwarded-Host and X-Forwarded-For are believed only when the TCP
// peer is inside a configured CIDR list (http.trusted_proxies), and then the client is the
// right-most X-Forwarded-For hop that is not itself a trusted proxy (the hops to its left were
// written by the client and prove nothing).
// Thread-safety: IpAddress and CidrSet are values; CidrSet is immutable after parse().

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace livery::whitelabel {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 (::ffff:a.b.c.d, as a dual-stack socket reports an
// IPv4 peer) is stored as IPv4 so that IPv4 CIDRs match it.
class IpAddress {
 public:
  // Strict text forms only (inet_pton): dotted-quad IPv4 without leading zeros, or IPv6; an
  // IPv6 zone ("%eth0") is ignored. No brackets, no port.
  static std::optional<IpAddress> parse(std::string_view text);

  bool isV4() const { return v4_; }
  // Canonical text (inet_ntop).
  std::string toString() const;
  // Network-order bytes: 4 meaningful bytes for IPv4, 16 for IPv6.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, 16> bytes_{};
  bool v4_ = false;
};

class CidrSet {
 public:
  // Entries are "a.b.c.d/n", "v6/n" or a single address (/32 or /128). Host bits beyond the
  // prefix are ignored (masked), as nginx does. kUnprocessable names the bad entry's index,
  // never its text.
  [[nodiscard]] static Result<CidrSet> parse(const std::vector<std::string>& entries);

  bool contains(const IpAddress& ip) const;
  bool empty() const { return ranges_.empty(); }
  std::size_t size() const { return ranges_.size(); }

 private:
  struct Range {
    std::array<std::uint8_t, 16> bytes{};
    unsigned prefix = 0;
    bool v4 = false;
  };
  std::vector<Range> ranges_;
};

// The raw inputs, straight from the connection and the request headers (several header lines of
// one name joined with ", " in order). Empty means absent.
struct ForwardedInput {
  std::string_view peer_ip;
  std::string_view host;  // Host header (or :authority)
  std::string_view x_forwarded_host;
  std::string_view x_forwarded_for;
};

// The Host or X-Forwarded-Host value to normalise, by the rule below, without working out the
// client address (the gateway's API-key path needs only the host). kInternal if peer_ip does not
// parse.
Result<std::string_view> resolveRawHost(const ForwardedInput& input, const CidrSet& trusted);

struct ClientOrigin {
  std::string raw_host;  // the Host or X-Forwarded-Host value to normalise (not yet validated)
  std::string client_ip;
  bool via_trusted_proxy = false;
};

inline constexpr std::size_t kMaxForwardedHops = 64;

// Untrusted peer: X-Forwarded-* are ignored entirely; host = Host, client = peer.
// Trusted peer: host = the right-most X-Forwarded-Host element (what the nearest proxy set) or
// Host when absent; client = walking X-Forwarded-For from the right, the first hop that is not a
// trusted proxy (if every hop is trusted, the left-most; a malformed hop stops the walk at the
// last good one; at most kMaxForwardedHops are examined). kInternal if peer_ip does not parse.
[[nodiscard]] Result<ClientOrigin> resolveClientOrigin(const ForwardedInput& input,
                                                       const CidrSet& trusted);

}  // namespace livery::whitelabel
