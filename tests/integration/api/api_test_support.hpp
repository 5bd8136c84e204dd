#pragma once

// Helpers for the control-plane API tests: a browser-like client that keeps the session cookie
// and CSRF token, a fixture with a real gateway, an operator, and tenants with console admins,
// and JWT signing for the tenant-key tests.

#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "support/gateway_harness.hpp"

namespace livery::testing {

inline constexpr std::string_view kTestPassword = "correct horse battery staple";

// One "browser" on one host: remembers the session cookie it was given (Set-Cookie) and the
// CSRF token of the last sign-in, and sends both like the portal does.
class ApiClient {
 public:
  ApiClient(GatewayHarness& h, std::string host);

  HttpResult call(std::string_view method,
                  std::string_view path,
                  std::string_view body = {},
                  HeaderList extra = {});
  HttpResult get(std::string_view path) { return call("GET", path); }
  HttpResult post(std::string_view path, std::string_view body = "{}") {
    return call("POST", path, body);
  }
  HttpResult put(std::string_view path, std::string_view body) { return call("PUT", path, body); }
  HttpResult patch(std::string_view path, std::string_view body) {
    return call("PATCH", path, body);
  }
  HttpResult del(std::string_view path) { return call("DELETE", path); }

  // POST a sign-in body; on success keeps the cookie and the returned csrf_token.
  HttpResult signIn(std::string_view path, std::string_view body);

  void setBearer(std::string token) { bearer_ = std::move(token); }
  void setCsrf(std::string csrf) { csrf_ = std::move(csrf); }
  void setSendCsrf(bool send) { send_csrf_ = send; }
  const std::string& cookie() const { return cookie_; }  // "name=value" or empty
  void setCookie(std::string cookie) { cookie_ = std::move(cookie); }
  const std::string& csrf() const { return csrf_; }
  const std::string& host() const { return host_; }

 private:
  void remember(const HttpResult& r);

  GatewayHarness& h_;
  TestHttpClient client_;
  std::string host_;  // with port
  std::string cookie_;
  std::string csrf_;
  std::string bearer_;
  bool send_csrf_ = true;
};

// True when any file under the gateway's data directory contains `needle` (database, WAL, keys).
bool dataDirContains(const GatewayHarness& h, std::string_view needle);

boost::json::value parseJson(const HttpResult& r);
boost::json::object parseObject(const HttpResult& r);
std::string str(const boost::json::value& v);

// A gateway with the fake upstream, the bootstrap operator token, and helpers that create
// tenants with an owner admin through the operator API.
class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(GatewayHarness::Tweak tweak = {}, FakeUpstreamOptions upstream = {});

  std::string tenantHost(const std::string& slug) const;
  // An operator client on "localhost" using the bootstrap token as a bearer.
  ApiClient operatorClient();
  struct TenantWithAdmin {
    std::string id;
    std::string slug;
    std::string admin_email;
  };
  // POST /admin/v1/tenants with admin_email/admin_password.
  TenantWithAdmin createTenant(const std::string& slug);
  // A console client of `slug` signed in as its owner.
  ApiClient consoleAs(const std::string& slug, const std::string& email = "");
  // A workspace user created through the console API, and a client signed in as them.
  ApiClient workspaceUser(const std::string& slug, const std::string& email);

  std::unique_ptr<GatewayHarness> h_;
  std::string operator_token_;
};

// ---- JWT ---------------------------------------------------------------------------------------

// A key pair made with OpenSSL at test time.
class TestSigningKey {
 public:
  static TestSigningKey rsa();
  static TestSigningKey ec();
  ~TestSigningKey();
  TestSigningKey(TestSigningKey&&) noexcept;
  TestSigningKey& operator=(TestSigningKey&&) noexcept;

  std::string publicPem() const;
  // The public key as a JWK object ({"kty":"RSA","kid","alg":"RS256","use":"sig","n","e"}); RSA
  // keys only.
  std::string rsaJwk(const std::string& kid) const;
  // header and payload are JSON texts; signed with RS256 or ES256 (JOSE R||S).
  std::string sign(std::string_view header, std::string_view payload) const;

 private:
  struct Impl;
  explicit TestSigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string base64Url(std::string_view bytes);
// A compact JWS signed with HMAC-SHA-256 under `secret`.
std::string signHs256(std::string_view secret, std::string_view header, std::string_view payload);
// An unsigned token ("alg":"none").
std::string unsignedJwt(std::string_view header, std::string_view payload);

}  // namespace livery::testing
