#pragma once

// Custom-domain ownership: verification tokens, the HTTP challenge check (the lead performs the
// fetch through the egress-guarded upstream client and hands the response here), the DNS TXT
// alternative, and the domain state machine pending → verified → active
// (docs/design/custom-domains.md).
//
// The HTTP challenge proves that whoever controls what the domain serves placed the token there.
// Livery itself must therefore never answer /.well-known/livery-challenge/ for any host: if it
// did, a domain whose DNS still points at Livery (a tenant left without removing its CNAME)
// could be claimed by anyone. Thread-safety: pure functions.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/model.hpp"

namespace livery::whitelabel {

inline constexpr std::string_view kChallengePathPrefix = "/.well-known/livery-challenge/";
inline constexpr std::string_view kDnsChallengeLabel = "_livery-challenge";
inline constexpr std::size_t kTokenEntropyBytes = 32;
inline constexpr std::size_t kTokenLength = 52;             // base32 of 32 bytes, no padding
inline constexpr std::size_t kMaxChallengeBodyBytes = 512;  // the fetch should cap at this + 1
inline constexpr std::size_t kMaxChallengeRedirects = 3;

// Lower-case RFC 4648 base32 (no padding) of 32 random bytes: 52 characters of [a-z2-7], safe in
// a URL path and in a DNS TXT record.
std::string makeVerificationToken(std::span<const unsigned char, kTokenEntropyBytes> entropy);
// A fresh token from the OpenSSL CSPRNG; kInternal if it fails.
[[nodiscard]] Result<std::string> newVerificationToken();
bool isWellFormedToken(std::string_view token);

// "/.well-known/livery-challenge/<token>".
std::string challengePath(std::string_view token);
// "http://<host>/.well-known/livery-challenge/<token>" (host already normalised).
std::string challengeUrl(std::string_view host, std::string_view token);
// "_livery-challenge.<host>".
std::string dnsChallengeName(std::string_view host);

// Save-time check of a domain a tenant wants to add: normalised (see normalizeHost), at least
// two labels, not an IP address, not localhost, and not the platform's base domain or anything
// under it (those are served by slug). kUnprocessable with param "host" otherwise.
[[nodiscard]] Result<std::string> validateCustomDomain(std::string_view raw,
                                                       std::string_view base_domain);

enum class ChallengeOutcome {
  kPassed,
  kUnreachable,    // the fetch failed (connect, timeout, TLS): the caller reports it
  kWrongStatus,    // not 200
  kRedirected,     // a redirect the caller should not (or could not) follow
  kBodyTooLarge,   // more than kMaxChallengeBodyBytes
  kTokenMismatch,  // the body is not exactly the token (white space around it is ignored)
};
std::string_view toString(ChallengeOutcome outcome);

// The final response of the challenge fetch (after at most kMaxChallengeRedirects redirects
// accepted by isAllowedChallengeRedirect).
struct ChallengeResponse {
  bool reached = true;  // false: connect/timeout/TLS failure
  int status = 0;
  std::string_view body;
};

ChallengeOutcome checkHttpChallenge(const ChallengeResponse& response, std::string_view token);

// A site that forces HTTPS answers the http:// challenge URL with a redirect. Following it is
// allowed only to the same host (http or https, default ports) and the same challenge path;
// nothing else, so the check cannot be bounced to another host or into the private network.
bool isAllowedChallengeRedirect(std::string_view host,
                                std::string_view token,
                                std::string_view location);

// The DNS alternative: some TXT record at dnsChallengeName(host) equals the token (one TXT
// record may arrive split into several character-strings: join them before calling).
ChallengeOutcome checkDnsChallenge(const std::vector<std::string>& txt_records,
                                   std::string_view token);

enum class DomainEvent {
  kChallengePassed,  // HTTP or DNS check passed (first time, or a periodic re-check)
  kChallengeFailed,  // a periodic re-check failed: stop serving until it passes again
  kActivated,        // routing (and, with TLS in Livery, the certificate) is ready
};

// pending --passed--> verified --activated--> active; a failed re-check from verified or active
// goes back to pending; a pass while verified/active keeps the state. kConflict otherwise (for
// example activating a pending domain). Removing a domain is a delete in any state.
[[nodiscard]] Result<storage::DomainStatus> nextDomainStatus(storage::DomainStatus current,
                                                             DomainEvent event);

// Only active domains map to a tenant.
bool servesTraffic(storage::DomainStatus status);
// The on-demand TLS "ask" hook answers yes only for these (verified or active).
bool mayIssueCertificate(storage::DomainStatus status);

}  // namespace livery::whitelabel
