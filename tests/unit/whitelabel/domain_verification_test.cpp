#include "whitelabel/domain_verification.hpp"

#include <set>

#include <gtest/gtest.h>

namespace livery::whitelabel {
namespace {

using storage::DomainStatus;

std::string tokenFrom(unsigned char start, unsigned char step) {
  std::array<unsigned char, kTokenEntropyBytes> e{};
  for (std::size_t i = 0; i < e.size(); ++i) {
    e[i] = static_cast<unsigned char>(start + step * i);
  }
  return makeVerificationToken(e);
}

TEST(DomainVerificationTest, TokenIsLowerCaseBase32OfTheEntropy) {
  // python3: base64.b32encode(bytes(range(32))).decode().lower().rstrip('=')
  EXPECT_EQ(tokenFrom(0, 1), "aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq");
  EXPECT_EQ(tokenFrom(0, 0), std::string(52, 'a'));
  EXPECT_EQ(tokenFrom(0xFF, 0), std::string(51, '7') + "q");
  EXPECT_TRUE(isWellFormedToken(tokenFrom(0, 1)));
}

TEST(DomainVerificationTest, FreshTokensAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = newVerificationToken();
    ASSERT_TRUE(t);
    EXPECT_TRUE(isWellFormedToken(*t)) << *t;
    EXPECT_TRUE(seen.insert(*t).second);
  }
  EXPECT_FALSE(isWellFormedToken(""));
  EXPECT_FALSE(isWellFormedToken(std::string(52, 'A')));
  EXPECT_FALSE(isWellFormedToken(std::string(52, '1')));
  EXPECT_FALSE(isWellFormedToken(std::string(51, 'a')));
}

TEST(DomainVerificationTest, ChallengeLocations) {
  std::string t = tokenFrom(0, 1);
  EXPECT_EQ(challengePath(t), "/.well-known/livery-challenge/" + t);
  EXPECT_EQ(challengeUrl("app.agency.com", t),
            "http://app.agency.com/.well-known/livery-challenge/" + t);
  EXPECT_EQ(dnsChallengeName("app.agency.com"), "_livery-challenge.app.agency.com");
}

TEST(DomainVerificationTest, HttpChallengeOutcomes) {
  std::string t = tokenFrom(3, 7);
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = t}, t), ChallengeOutcome::kPassed);
  std::string with_newline = t + "\r\n";
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = with_newline}, t),
            ChallengeOutcome::kPassed);
  EXPECT_EQ(checkHttpChallenge({.reached = false}, t), ChallengeOutcome::kUnreachable);
  EXPECT_EQ(checkHttpChallenge({.status = 404, .body = t}, t), ChallengeOutcome::kWrongStatus);
  EXPECT_EQ(checkHttpChallenge({.status = 500, .body = t}, t), ChallengeOutcome::kWrongStatus);
  EXPECT_EQ(checkHttpChallenge({.status = 301, .body = ""}, t), ChallengeOutcome::kRedirected);
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = tokenFrom(4, 7)}, t),
            ChallengeOutcome::kTokenMismatch);
  std::string prefixed = "token=" + t;
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = prefixed}, t),
            ChallengeOutcome::kTokenMismatch);
  std::string page = "<html>" + t + "</html>";  // a catch-all page that echoes the path
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = page}, t), ChallengeOutcome::kTokenMismatch);
  std::string big(kMaxChallengeBodyBytes + 1, 'a');
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = big}, t), ChallengeOutcome::kBodyTooLarge);
  // An empty or malformed expected token never passes.
  EXPECT_EQ(checkHttpChallenge({.status = 200, .body = ""}, ""), ChallengeOutcome::kTokenMismatch);
  EXPECT_EQ(toString(ChallengeOutcome::kTokenMismatch), "token_mismatch");
}

TEST(DomainVerificationTest, RedirectsOnlyToTheSameHostAndPath) {
  std::string t = tokenFrom(1, 1);
  std::string path = challengePath(t);
  EXPECT_TRUE(isAllowedChallengeRedirect("app.agency.com", t, "https://app.agency.com" + path));
  EXPECT_TRUE(isAllowedChallengeRedirect("app.agency.com", t, "http://app.agency.com" + path));
  EXPECT_TRUE(isAllowedChallengeRedirect("app.agency.com", t, path));
  EXPECT_FALSE(isAllowedChallengeRedirect("app.agency.com", t, "https://evil.example" + path));
  EXPECT_FALSE(isAllowedChallengeRedirect(
      "app.agency.com", t, "https://app.agency.com.evil.example" + path));
  EXPECT_FALSE(isAllowedChallengeRedirect("app.agency.com", t, "//evil.example" + path));
  EXPECT_FALSE(
      isAllowedChallengeRedirect("app.agency.com", t, "https://app.agency.com:8443" + path));
  EXPECT_FALSE(isAllowedChallengeRedirect("app.agency.com", t, "https://app.agency.com/"));
  EXPECT_FALSE(isAllowedChallengeRedirect("app.agency.com", t, "http://169.254.169.254" + path));
  EXPECT_FALSE(
      isAllowedChallengeRedirect("app.agency.com", t, "https://user@app.agency.com" + path));
}

TEST(DomainVerificationTest, DnsTxtChallenge) {
  std::string t = tokenFrom(9, 3);
  EXPECT_EQ(checkDnsChallenge({"v=spf1 -all", t}, t), ChallengeOutcome::kPassed);
  EXPECT_EQ(checkDnsChallenge({"\"" + t + "\""}, t), ChallengeOutcome::kPassed);
  EXPECT_EQ(checkDnsChallenge({}, t), ChallengeOutcome::kTokenMismatch);
  EXPECT_EQ(checkDnsChallenge({tokenFrom(9, 4)}, t), ChallengeOutcome::kTokenMismatch);
  EXPECT_EQ(checkDnsChallenge({"livery=" + t}, t), ChallengeOutcome::kTokenMismatch);
}

TEST(DomainVerificationTest, CustomDomainValidation) {
  auto ok = validateCustomDomain("App.Agency.com.", "livery.example");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "app.agency.com");
  EXPECT_TRUE(validateCustomDomain("xn--bcher-kva.example", "livery.example"));
  for (std::string_view bad : {"livery.example",
                               "acme.livery.example",
                               "www.livery.example",
                               "a.b.livery.example",
                               "10.0.0.1",
                               "[::1]",
                               "localhost",
                               "foo.localhost",
                               "intranet",
                               "https://app.agency.com",
                               "app.agency.com:443",
                               "app.agency.com/path",
                               "",
                               "app_agency.com"}) {
    auto r = validateCustomDomain(bad, "livery.example");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnprocessable) << bad;
    EXPECT_EQ(r.error().param, "host");
  }
}

TEST(DomainVerificationTest, StateMachine) {
  auto next = [](DomainStatus s, DomainEvent e) {
    return nextDomainStatus(s, e);
  };
  EXPECT_EQ(*next(DomainStatus::kPending, DomainEvent::kChallengePassed), DomainStatus::kVerified);
  EXPECT_EQ(*next(DomainStatus::kVerified, DomainEvent::kActivated), DomainStatus::kActive);
  EXPECT_EQ(*next(DomainStatus::kActive, DomainEvent::kChallengePassed), DomainStatus::kActive);
  EXPECT_EQ(*next(DomainStatus::kVerified, DomainEvent::kChallengePassed), DomainStatus::kVerified);
  EXPECT_EQ(*next(DomainStatus::kActive, DomainEvent::kChallengeFailed), DomainStatus::kPending);
  EXPECT_EQ(*next(DomainStatus::kVerified, DomainEvent::kChallengeFailed), DomainStatus::kPending);
  EXPECT_EQ(*next(DomainStatus::kPending, DomainEvent::kChallengeFailed), DomainStatus::kPending);
  EXPECT_EQ(*next(DomainStatus::kActive, DomainEvent::kActivated), DomainStatus::kActive);
  auto skip = next(DomainStatus::kPending, DomainEvent::kActivated);
  ASSERT_FALSE(skip);
  EXPECT_EQ(skip.error().code, ErrorCode::kConflict);

  EXPECT_FALSE(servesTraffic(DomainStatus::kPending));
  EXPECT_FALSE(servesTraffic(DomainStatus::kVerified));
  EXPECT_TRUE(servesTraffic(DomainStatus::kActive));
  EXPECT_FALSE(mayIssueCertificate(DomainStatus::kPending));
  EXPECT_TRUE(mayIssueCertificate(DomainStatus::kVerified));
  EXPECT_TRUE(mayIssueCertificate(DomainStatus::kActive));
}

}  // namespace
}  // namespace livery::whitelabel
