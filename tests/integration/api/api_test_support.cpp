#include "integration/api/api_test_support.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/encoding.hpp"

namespace livery::testing {

namespace json = boost::json;

ApiClient::ApiClient(GatewayHarness& h, std::string host)
    : h_(h), client_(h.client()), host_(host + ":" + std::to_string(h.port())) {}

HttpResult ApiClient::call(std::string_view method,
                           std::string_view path,
                           std::string_view body,
                           HeaderList extra) {
  HeaderList headers = {{"Host", host_}};
  if (!body.empty()) {
    headers.emplace_back("Content-Type", "application/json");
  }
  if (!cookie_.empty()) {
    headers.emplace_back("Cookie", cookie_);
  }
  if (!bearer_.empty()) {
    headers.emplace_back("Authorization", "Bearer " + bearer_);
  }
  bool unsafe = method != "GET" && method != "HEAD";
  if (unsafe && send_csrf_ && !csrf_.empty()) {
    headers.emplace_back("X-CSRF-Token", csrf_);
  }
  for (auto& kv : extra) {
    // A test header replaces ours of the same name.
    std::erase_if(headers, [&](const auto& h) { return http::iequals(h.first, kv.first); });
    headers.push_back(std::move(kv));
  }
  auto r = client_.request(method, path, body, headers);
  remember(r);
  return r;
}

HttpResult ApiClient::signIn(std::string_view path, std::string_view body) {
  auto r = call("POST", path, body);
  if (r.status == 200) {
    auto o = parseObject(r);
    if (auto* c = o.if_contains("csrf_token"); c != nullptr && c->is_string()) {
      csrf_ = std::string(c->as_string());
    }
  }
  return r;
}

void ApiClient::remember(const HttpResult& r) {
  for (const auto& f : r.headers.fields()) {
    if (!http::iequals(f.name, "set-cookie")) {
      continue;
    }
    std::string_view v = f.value;
    auto pair = v.substr(0, v.find(';'));
    if (v.find("Max-Age=0") != std::string_view::npos) {
      cookie_.clear();
    } else {
      cookie_ = std::string(pair);
    }
  }
}

bool dataDirContains(const GatewayHarness& h, std::string_view needle) {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(h.dataDir())) {
    if (!entry.is_regular_file()) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

json::value parseJson(const HttpResult& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) {
    return nullptr;
  }
  return v;
}

json::object parseObject(const HttpResult& r) {
  auto v = parseJson(r);
  return v.is_object() ? v.as_object() : json::object{};
}

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

// ---- fixture -----------------------------------------------------------------------------------

ApiTest::ApiTest(GatewayHarness::Tweak tweak, FakeUpstreamOptions upstream)
    : h_(std::make_unique<GatewayHarness>(std::move(tweak), std::move(upstream))) {
  auto token = h_->gateway().bootstrapToken();
  if (!token) {
    throw std::runtime_error("no bootstrap operator token");
  }
  operator_token_ = *token;
}

std::string ApiTest::tenantHost(const std::string& slug) const {
  return slug + ".localhost";
}

ApiClient ApiTest::operatorClient() {
  ApiClient c(*h_, "localhost");
  c.setBearer(operator_token_);
  return c;
}

ApiTest::TenantWithAdmin ApiTest::createTenant(const std::string& slug) {
  auto op = operatorClient();
  std::string email = "owner@" + slug + ".test";
  json::object body{{"slug", slug},
                    {"display_name", slug + " agency"},
                    {"admin_email", email},
                    {"admin_password", std::string(kTestPassword)}};
  auto r = op.post("/admin/v1/tenants", json::serialize(body));
  if (r.status != 201) {
    throw std::runtime_error("create tenant: " + std::to_string(r.status) + " " + r.body);
  }
  return {str(parseObject(r).at("id")), slug, email};
}

ApiClient ApiTest::consoleAs(const std::string& slug, const std::string& email) {
  ApiClient c(*h_, tenantHost(slug));
  json::object body{{"email", email.empty() ? "owner@" + slug + ".test" : email},
                    {"password", std::string(kTestPassword)}};
  auto r = c.signIn("/api/v1/auth/login", json::serialize(body));
  if (r.status != 200) {
    throw std::runtime_error("console sign-in: " + std::to_string(r.status) + " " + r.body);
  }
  return c;
}

ApiClient ApiTest::workspaceUser(const std::string& slug, const std::string& email) {
  auto console = consoleAs(slug);
  json::object user{
      {"email", email}, {"password", std::string(kTestPassword)}, {"display_name", "Ada"}};
  auto created = console.post("/api/v1/users", json::serialize(user));
  if (created.status != 201) {
    throw std::runtime_error("create user: " + std::to_string(created.status) + " " + created.body);
  }
  ApiClient c(*h_, tenantHost(slug));
  json::object body{{"email", email}, {"password", std::string(kTestPassword)}};
  auto r = c.signIn("/api/v1/workspace/login", json::serialize(body));
  if (r.status != 200) {
    throw std::runtime_error("workspace sign-in: " + std::to_string(r.status) + " " + r.body);
  }
  return c;
}

// ---- JWT ---------------------------------------------------------------------------------------

namespace {

std::span<const unsigned char> bytesOf(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};  // NOLINT
}

std::vector<unsigned char> hmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[32];
  std::size_t len = 0;
  EVP_Q_mac(nullptr,
            "HMAC",
            nullptr,
            "SHA256",
            nullptr,
            key.data(),
            key.size(),
            bytesOf(data).data(),
            data.size(),
            out,
            32,
            &len);
  return {out, out + 32};
}

}  // namespace

struct TestSigningKey::Impl {
  EVP_PKEY* key = nullptr;
  bool ec = false;
  ~Impl() { EVP_PKEY_free(key); }
};

TestSigningKey::TestSigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestSigningKey::~TestSigningKey() = default;
TestSigningKey::TestSigningKey(TestSigningKey&&) noexcept = default;
TestSigningKey& TestSigningKey::operator=(TestSigningKey&&) noexcept = default;

TestSigningKey TestSigningKey::rsa() {
  auto impl = std::make_unique<Impl>();
  impl->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  if (impl->key == nullptr) {
    throw std::runtime_error("RSA keygen failed");
  }
  return TestSigningKey(std::move(impl));
}

TestSigningKey TestSigningKey::ec() {
  auto impl = std::make_unique<Impl>();
  impl->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  impl->ec = true;
  if (impl->key == nullptr) {
    throw std::runtime_error("EC keygen failed");
  }
  return TestSigningKey(std::move(impl));
}

std::string TestSigningKey::publicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, impl_->key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string TestSigningKey::rsaJwk(const std::string& kid) const {
  auto param = [&](const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(impl_->key, name, &bn) != 1) {
      throw std::runtime_error("not an RSA key");
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, bytes.data());
    BN_free(bn);
    return crypto::base64UrlEncode(bytes);
  };
  return json::serialize(json::object{{"kty", "RSA"},
                                      {"kid", kid},
                                      {"alg", "RS256"},
                                      {"use", "sig"},
                                      {"n", param("n")},
                                      {"e", param("e")}});
}

std::string TestSigningKey::sign(std::string_view header, std::string_view payload) const {
  std::string input = base64Url(header) + "." + base64Url(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, impl_->key, nullptr);
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, bytesOf(input).data(), input.size());
  std::vector<unsigned char> sig(len);
  EVP_DigestSign(ctx, sig.data(), &len, bytesOf(input).data(), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (impl_->ec) {
    const unsigned char* p = sig.data();
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::vector<unsigned char> jose(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(s), jose.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), jose.data() + 32, 32);
    ECDSA_SIG_free(s);
    sig = std::move(jose);
  }
  return input + "." + crypto::base64UrlEncode(sig);
}

std::string base64Url(std::string_view bytes) {
  return crypto::base64UrlEncode(bytesOf(bytes));
}

std::string signHs256(std::string_view secret, std::string_view header, std::string_view payload) {
  std::string input = base64Url(header) + "." + base64Url(payload);
  return input + "." + crypto::base64UrlEncode(hmacSha256(secret, input));
}

std::string unsignedJwt(std::string_view header, std::string_view payload) {
  return base64Url(header) + "." + base64Url(payload) + ".";
}

}  // namespace livery::testing
