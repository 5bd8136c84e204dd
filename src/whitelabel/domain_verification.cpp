#include "whitelabel/domain_verification.hpp"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "whitelabel/host.hpp"

namespace livery::whitelabel {

namespace {

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

std::string_view trimWhitespace(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool tokenEquals(std::string_view candidate, std::string_view token) {
  return candidate.size() == token.size() &&
         CRYPTO_memcmp(candidate.data(), token.data(), token.size()) == 0;
}

}  // namespace

std::string makeVerificationToken(std::span<const unsigned char, kTokenEntropyBytes> entropy) {
  std::string out;
  out.reserve(kTokenLength);
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : entropy) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
    buffer &= (1U << bits) - 1;
  }
  if (bits > 0) {
    out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  }
  return out;
}

Result<std::string> newVerificationToken() {
  std::array<unsigned char, kTokenEntropyBytes> entropy{};
  if (RAND_bytes(entropy.data(), static_cast<int>(entropy.size())) != 1) {
    return fail(ErrorCode::kInternal, "internal error", "RAND_bytes failed");
  }
  return makeVerificationToken(entropy);
}

bool isWellFormedToken(std::string_view token) {
  return token.size() == kTokenLength && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
         });
}

std::string challengePath(std::string_view token) {
  return std::string(kChallengePathPrefix) + std::string(token);
}

std::string challengeUrl(std::string_view host, std::string_view token) {
  return "http://" + std::string(host) + challengePath(token);
}

std::string dnsChallengeName(std::string_view host) {
  return std::string(kDnsChallengeLabel) + "." + std::string(host);
}

Result<std::string> validateCustomDomain(std::string_view raw, std::string_view base_domain) {
  auto bad = [](std::string message) {
    return fail(ErrorCode::kUnprocessable, std::move(message)).withParam("host");
  };
  if (raw.find(':') != std::string_view::npos || raw.find('[') != std::string_view::npos) {
    return bad("enter a domain name without scheme or port");
  }
  auto host = normalizeHost(raw);
  if (!host) {
    return bad("not a valid domain name");
  }
  HostMatch m = classifyHost(*host, base_domain);
  if (m.kind == HostKind::kIpLiteral) {
    return bad("an IP address cannot be a custom domain");
  }
  if (m.kind != HostKind::kCustomDomain) {
    return bad("domains under the platform domain are served by slug");
  }
  if (host->find('.') == std::string::npos || *host == "localhost" ||
      host->ends_with(".localhost")) {
    return bad("enter a fully qualified domain name");
  }
  return std::move(*host);
}

std::string_view toString(ChallengeOutcome outcome) {
  switch (outcome) {
    case ChallengeOutcome::kPassed:
      return "passed";
    case ChallengeOutcome::kUnreachable:
      return "unreachable";
    case ChallengeOutcome::kWrongStatus:
      return "wrong_status";
    case ChallengeOutcome::kRedirected:
      return "redirected";
    case ChallengeOutcome::kBodyTooLarge:
      return "body_too_large";
    case ChallengeOutcome::kTokenMismatch:
      return "token_mismatch";
  }
  return "unknown";
}

ChallengeOutcome checkHttpChallenge(const ChallengeResponse& response, std::string_view token) {
  if (!response.reached) {
    return ChallengeOutcome::kUnreachable;
  }
  if (response.status >= 300 && response.status < 400) {
    return ChallengeOutcome::kRedirected;
  }
  if (response.status != 200) {
    return ChallengeOutcome::kWrongStatus;
  }
  if (response.body.size() > kMaxChallengeBodyBytes) {
    return ChallengeOutcome::kBodyTooLarge;
  }
  if (!isWellFormedToken(token) || !tokenEquals(trimWhitespace(response.body), token)) {
    return ChallengeOutcome::kTokenMismatch;
  }
  return ChallengeOutcome::kPassed;
}

bool isAllowedChallengeRedirect(std::string_view host,
                                std::string_view token,
                                std::string_view location) {
  std::string path = challengePath(token);
  for (std::string_view scheme : {"http://", "https://"}) {
    std::string expected = std::string(scheme) + std::string(host) + path;
    if (location == expected) {
      return true;
    }
  }
  return location == path;  // a relative redirect to the same path on the same origin
}

ChallengeOutcome checkDnsChallenge(const std::vector<std::string>& txt_records,
                                   std::string_view token) {
  if (!isWellFormedToken(token)) {
    return ChallengeOutcome::kTokenMismatch;
  }
  for (const auto& record : txt_records) {
    std::string_view v = trimWhitespace(record);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      v = v.substr(1, v.size() - 2);
    }
    if (tokenEquals(v, token)) {
      return ChallengeOutcome::kPassed;
    }
  }
  return ChallengeOutcome::kTokenMismatch;
}

Result<storage::DomainStatus> nextDomainStatus(storage::DomainStatus current, DomainEvent event) {
  using storage::DomainStatus;
  switch (event) {
    case DomainEvent::kChallengePassed:
      return current == DomainStatus::kPending ? DomainStatus::kVerified : current;
    case DomainEvent::kChallengeFailed:
      return DomainStatus::kPending;
    case DomainEvent::kActivated:
      if (current == DomainStatus::kPending) {
        return fail(ErrorCode::kConflict, "the domain must be verified before it is activated");
      }
      return DomainStatus::kActive;
  }
  return fail(ErrorCode::kInternal, "internal error", "unknown domain event");
}

bool servesTraffic(storage::DomainStatus status) {
  return status == storage::DomainStatus::kActive;
}

bool mayIssueCertificate(storage::DomainStatus status) {
  return status == storage::DomainStatus::kVerified || status == storage::DomainStatus::kActive;
}

}  // namespace livery::whitelabel
