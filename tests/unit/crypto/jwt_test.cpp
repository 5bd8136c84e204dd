#include "crypto/jwt.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

namespace json = boost::json;
using livery::testing::FakeClock;
using testing::bytesOf;
using testing::fixturePath;

// ---- Wycheproof ----------------------------------------------------------------------------

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Builds the key set of one Wycheproof group; nullopt when the key itself is refused (then
// every test of the group must come out invalid).
std::optional<JwtKeySet> keySetOf(const json::object& group) {
  if (const json::value* priv = group.if_contains("private");
      priv != nullptr && priv->as_object().at("kty").as_string() == "oct") {
    const auto& o = priv->as_object();
    auto k = base64UrlDecode(std::string_view(o.at("k").as_string()));
    EXPECT_TRUE(k.has_value());
    auto key = JwtKey::hs256(std::string(o.at("kid").as_string()), SecretBytes::copyOf(*k));
    if (!key) {
      return std::nullopt;
    }
    return JwtKeySet::create({std::move(*key)}).value();
  }
  const auto& pub = group.at("public").as_object();
  JwsAlgorithm alg =
      pub.at("kty").as_string() == "RSA" ? JwsAlgorithm::kRs256 : JwsAlgorithm::kEs256;
  auto key = JwtKey::jwk(json::serialize(pub), alg);
  if (!key) {
    return std::nullopt;
  }
  return JwtKeySet::create({std::move(*key)}).value();
}

TEST(JwtTest, WycheproofJwsVectors) {
  auto doc = json::parse(readAll(fixturePath("wycheproof_jws_subset.json")));
  int valid = 0;
  int invalid = 0;
  int refused_keys = 0;
  for (const auto& gv : doc.at("testGroups").as_array()) {
    const auto& g = gv.as_object();
    auto set = keySetOf(g);
    if (!set) {
      ++refused_keys;
    }
    for (const auto& tv : g.at("tests").as_array()) {
      const auto& t = tv.as_object();
      SCOPED_TRACE("tcId " + std::to_string(t.at("tcId").as_int64()) + " " +
                   std::string(t.at("comment").as_string()));
      const std::string jws(t.at("jws").as_string());
      const bool expect_valid = t.at("result").as_string() == "valid";
      auto r = set ? verifyJws(jws, *set) : Result<JwsResult>(Error{});
      EXPECT_EQ(static_cast<bool>(r), expect_valid);
      if (expect_valid && r) {
        ++valid;
        auto dot1 = jws.find('.');
        auto dot2 = jws.find('.', dot1 + 1);
        auto payload = base64UrlDecode(std::string_view(jws).substr(dot1 + 1, dot2 - dot1 - 1));
        ASSERT_TRUE(payload);
        EXPECT_EQ(r->payload, std::string(payload->begin(), payload->end()));
      } else if (!expect_valid) {
        ++invalid;
        if (!r && set) {
          EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
          EXPECT_EQ(r.error().client_message.find(jws.empty() ? "\x01" : jws), std::string::npos);
        }
      }
    }
  }
  EXPECT_EQ(valid, 11);
  EXPECT_EQ(invalid, 106);
  EXPECT_EQ(refused_keys, 4);  // use=enc and key_ops=[encrypt], RSA and EC
}

// ---- our own tokens ------------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey makeRsa(int bits = 2048) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}
// The RSA-2048 key pair of Wycheproof's JWS "rs256" group (public test data), so tests need
// not spend a second generating RSA keys.
Pkey wycheproofRsa() {
  auto bn = [](std::string_view b64url) {
    auto bytes = base64UrlDecode(b64url).value();
    return BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr);
  };
  BIGNUM* parts[] = {
      bn("kqGboBfAWttWPCA-0cGRgsY6SaYoIARt0B_PkaEcIq9HPYNdu9n6UuWHuuTHrjF_"
         "ZoQW97r5HaAorNvrMEGTGdxCHZdEtkHvNVVmrtxTBLiQCbCozXhFoIrVcr3qUBrdGnNn_M3jJi7Wg7p_-"
         "x62nS5gNG875oyheRkutHsQXikFZwsN3q_TsPNOVlCiHy8mxzaFTUQGm-"
         "X8UYexFyAivlDSjgDJLAZSWfxd7k9Gxuwa3AUfQqQcVcegmgKGCaErQ3qQbh1x7WB6iopE3_-"
         "GZ8HMAVtR9AmrVscqYsnjhaCehfAI0iKKs8zXr8tISc0ORbaalrkk03H1ZrsEnDKEWQ"),
      bn("AQAB"),
      bn("YsfIRYN6rDqSz5KRf1E9q7HK1o6-_UK-j7S-asb0Y1FdVs1GuiRQhMPoOjmhY3Io93EI3_"
         "7vj8uzWzAUMsAaTxOY3sJnIbktYuqTcD0xGD8VmdGPBkx963db8B6M2UYfqZARf7dbzP9EuB1N1miMcTsqyGgfHGO"
         "k7CXQ1vkIv8Uww38KMtEdJ3iB8r-f3qcu-"
         "UJjE7Egw9CxKOMjArOXxZEr4VnoIXrImrcTxBfjdY8GbzXGATiPQLur5GT99ZDW78falsir-"
         "b5Ean6HNyOeuaJuceT-yjgCXn57Rd3oIHD94CrjNtjBusoLdjbr489L8K9ksCh1gynzLGkeeWgVGQ"),
      bn("0xalbl1PJbSBGD4XOjIYJLwMYyHMiM06SBauMGzBfCask5DN5jH68Kw1yPS4wkLpx4ltGLuy0X5mMaZzrSOkBGb27"
         "-NizBgB2-L279XotznWeh2jbF05Kqzkoz3VaX_7dRhCHEhOopMQh619hA1bwaJyW1k8aNlLPTl3BotkP4M"),
      bn("sdQsQVz3tI7hmisAgiIjppOssEnZaZO0ONeRRDxBHGLe3BCo1FJoMMQryOAlglayjQnnWjQ-"
         "BpwUpa0r9YQhVLweoNEIig6Beph7iYRZgOHEiiTTgUIGgXAL6xhsby1PueUfT0xsN1Y7qt5f5EwOfu7tnFqNyJXIp"
         "9W1NQgU6fM"),
      bn("kEpEnuJNfdqa-_VFb1RayJF6bjDmXQTcN_a47wUIZVMSWHR9KkMz41v0D_-"
         "oY7HVl73Kw0NagnVCaeH75HgeX5v6ZBQsrpIigynr3hl8T_"
         "LLNwIXebVnpFI2n5de0BTZ0DraxfZvOhYJEJV43NE8zWm7fdHLx2fxVFJ5mBGkXv0"),
      bn("U_xJCnXF51iz5AP7MXq-K6YDIR8_t0UzEMV-riNm_OkVKAoWMnDZFG8R3sU98djQaxwKT-"
         "fsg2KjvbuTz1igBUzzijAvQESpkiUB82i2fNAj6rqJybpNKESq3FWkoL1dsgYsS19knJ31gDWWRFRHZFujjPyXiex"
         "z4BBmjK1Mc1E"),
      bn("Uvb84tWiJF3fB-U9wZSPi7juGgrzeXS_LYtf5fcdV0fZg_h_5nSVpXyYyQ-PK218qEC5MlDkaHKRD9wBOe_eU_"
         "zJTNoXzB2oAcgl2MapBWUMytbiF84ghP_2K9UD63ZVsyrorSZhmsJIBBuqQjrmk0tIdpMdlMxLYhrbYwFxUqc"),
  };
  const char* names[] = {OSSL_PKEY_PARAM_RSA_N,
                         OSSL_PKEY_PARAM_RSA_E,
                         OSSL_PKEY_PARAM_RSA_D,
                         OSSL_PKEY_PARAM_RSA_FACTOR1,
                         OSSL_PKEY_PARAM_RSA_FACTOR2,
                         OSSL_PKEY_PARAM_RSA_EXPONENT1,
                         OSSL_PKEY_PARAM_RSA_EXPONENT2,
                         OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  for (int i = 0; i < 8; ++i) {
    OSSL_PARAM_BLD_push_BN(bld, names[i], parts[i]);
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* b : parts) {
    BN_free(b);
  }
  return Pkey(key);
}

Pkey makeEc(const char* curve = "P-256") {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

std::string publicPem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string privatePem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string b64(std::string_view s) {
  return base64UrlEncode(bytesOf(s));
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
            reinterpret_cast<const unsigned char*>(data.data()),
            data.size(),
            out,
            32,
            &len);
  return {out, out + 32};
}

std::vector<unsigned char> signDigest(EVP_PKEY* k, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, k, nullptr);
  std::size_t len = 0;
  EVP_DigestSign(
      ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::vector<unsigned char> sig(len);
  EVP_DigestSign(
      ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// DER ECDSA signature → JOSE R||S.
std::vector<unsigned char> derToJose(const std::vector<unsigned char>& der) {
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  std::vector<unsigned char> out(64);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), out.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out.data() + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

std::string signHs(std::string_view secret, std::string_view header, std::string_view payload) {
  std::string input = b64(header) + "." + b64(payload);
  return input + "." + base64UrlEncode(hmacSha256(secret, input));
}

std::string signPk(EVP_PKEY* k, bool ec, std::string_view header, std::string_view payload) {
  std::string input = b64(header) + "." + b64(payload);
  auto sig = signDigest(k, input);
  return input + "." + base64UrlEncode(ec ? derToJose(sig) : sig);
}

constexpr std::string_view kSecret = "hs256-canary-secret-0123456789abcdef-XYZ";

class JwtClaimsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa = wycheproofRsa();
    ASSERT_NE(rsa, nullptr);
    ec = makeEc();
    auto hs = JwtKey::hs256("hs-1", SecretBytes::copyOf(kSecret));
    auto rs = JwtKey::publicPem("rs-1", JwsAlgorithm::kRs256, publicPem(rsa.get()));
    auto es = JwtKey::publicPem("es-1", JwsAlgorithm::kEs256, publicPem(ec.get()));
    ASSERT_TRUE(hs && rs && es) << (rs ? "" : rs.error().client_message)
                                << (es ? "" : es.error().client_message);
    keys =
        JwtKeySet::create(
            {std::move(*hs).withIssuer("https://idp.tenant-a.example").withAudience("livery:tnt_a"),
             std::move(*rs).withAudience("livery:tnt_a"),
             std::move(*es)})
            .value();
  }

  std::string claims(std::int64_t exp_offset, std::string extra = {}) const {
    return R"({"sub":"user-42","iss":"https://idp.tenant-a.example","aud":"livery:tnt_a","exp":)" +
           std::to_string(now() + exp_offset) + extra + "}";
  }
  std::int64_t now() const { return clock.unixSeconds(); }
  Result<JwtClaims> verify(const std::string& t, JwtPolicy policy = {}) const {
    return verifyJwt(t, keys, policy, clock);
  }
  static void expectRejected(const Result<JwtClaims>& r, std::string_view reason) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().openai_code, "invalid_jwt");
    EXPECT_NE(r.error().client_message.find(reason), std::string::npos) << r.error().client_message;
    EXPECT_EQ(r.error().client_message.find(kSecret), std::string::npos);
    EXPECT_EQ(r.error().log_detail.find(kSecret), std::string::npos);
  }

  FakeClock clock;
  Pkey rsa;
  Pkey ec;
  JwtKeySet keys;
};

TEST_F(JwtClaimsTest, AcceptsValidTokensOfEachAlgorithmAndReturnsTheClaims) {
  auto hs = verify(signHs(kSecret,
                          R"({"alg":"HS256","kid":"hs-1","typ":"JWT"})",
                          claims(600, R"(,"iat":)" + std::to_string(now()) + R"(,"plan":"pro")")));
  ASSERT_TRUE(hs) << hs.error().log_detail;
  EXPECT_EQ(hs->subject, "user-42");
  EXPECT_EQ(hs->issuer, "https://idp.tenant-a.example");
  ASSERT_EQ(hs->audience.size(), 1u);
  EXPECT_EQ(hs->audience[0], "livery:tnt_a");
  EXPECT_EQ(hs->expires_at, now() + 600);
  EXPECT_EQ(hs->kid, "hs-1");
  EXPECT_EQ(hs->algorithm, JwsAlgorithm::kHs256);
  EXPECT_NE(hs->payload_json.find("\"plan\":\"pro\""), std::string::npos);
  auto rs = verify(signPk(rsa.get(), false, R"({"alg":"RS256","kid":"rs-1"})", claims(600)));
  ASSERT_TRUE(rs) << rs.error().log_detail;
  EXPECT_EQ(rs->kid, "rs-1");
  auto es = verify(signPk(ec.get(), true, R"({"alg":"ES256","kid":"es-1"})", claims(600)));
  ASSERT_TRUE(es) << es.error().log_detail;
  EXPECT_EQ(es->algorithm, JwsAlgorithm::kEs256);
  // No kid: the token is tried against the keys of its algorithm.
  EXPECT_TRUE(verify(signPk(ec.get(), true, R"({"alg":"ES256"})", claims(600))));
}

TEST_F(JwtClaimsTest, RejectsAlgNoneInAnySpelling) {
  for (std::string alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = R"({"alg":")" + alg + R"(","kid":"hs-1"})";
    expectRejected(verify(b64(header) + "." + b64(claims(600)) + "."),
                   "missing header or signature");
    expectRejected(verify(b64(header) + "." + b64(claims(600)) + "." + b64("x")), "alg none");
  }
}

TEST_F(JwtClaimsTest, RejectsHs256SignedWithTheTenantsRsaPublicKey) {
  // The classic confusion: the attacker knows the RSA public key and uses its PEM text as an
  // HMAC secret. The key "rs-1" is RS256 only, whatever the token says.
  const std::string pem = publicPem(rsa.get());
  auto forged = signHs(pem, R"({"alg":"HS256","kid":"rs-1"})", claims(600));
  expectRejected(verify(forged), "algorithm not allowed");
  auto forged_no_kid = signHs(pem, R"({"alg":"HS256"})", claims(600));
  expectRejected(verify(forged_no_kid), "bad signature");
}

TEST_F(JwtClaimsTest, ExpiryIsRequiredAndEnforcedWithACappedLeeway) {
  expectRejected(
      verify(signHs(kSecret,
                    R"({"alg":"HS256","kid":"hs-1"})",
                    R"({"sub":"u","iss":"https://idp.tenant-a.example","aud":"livery:tnt_a"})")),
      "missing \"exp\"");
  expectRejected(
      verify(signHs(
          kSecret,
          R"({"alg":"HS256","kid":"hs-1"})",
          R"({"sub":"u","iss":"https://idp.tenant-a.example","aud":"livery:tnt_a","exp":"tomorrow"})")),
      "malformed \"exp\"");
  const auto expired_20s = signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", claims(-20));
  EXPECT_TRUE(verify(expired_20s, {.leeway = std::chrono::seconds(30)}));
  expectRejected(verify(expired_20s, {.leeway = std::chrono::seconds(0)}), "expired");
  // A leeway above 60 s is capped: a token expired 100 s ago stays expired.
  const auto expired_100s = signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", claims(-100));
  expectRejected(verify(expired_100s, {.leeway = std::chrono::seconds(3600)}), "expired");
  // Fractional NumericDate values are allowed.
  EXPECT_TRUE(verify(signHs(kSecret,
                            R"({"alg":"HS256","kid":"hs-1"})",
                            R"({"iss":"https://idp.tenant-a.example","aud":"livery:tnt_a","exp":)" +
                                std::to_string(now() + 60) + ".5}")));
}

TEST_F(JwtClaimsTest, NotBeforeIssuedAtAndLifetimeAreChecked) {
  const std::string h = R"({"alg":"HS256","kid":"hs-1"})";
  expectRejected(
      verify(signHs(kSecret, h, claims(600, R"(,"nbf":)" + std::to_string(now() + 120)))),
      "not yet valid");
  EXPECT_TRUE(verify(signHs(kSecret, h, claims(600, R"(,"nbf":)" + std::to_string(now() + 10)))));
  expectRejected(
      verify(signHs(kSecret, h, claims(600, R"(,"iat":)" + std::to_string(now() + 300)))),
      "issued in the future");
  const auto long_lived =
      signHs(kSecret, h, claims(48 * 3600, R"(,"iat":)" + std::to_string(now())));
  EXPECT_TRUE(verify(long_lived));
  expectRejected(verify(long_lived, {.max_lifetime = std::chrono::hours(24)}), "lifetime");
}

TEST_F(JwtClaimsTest, IssuerAndAudienceMustMatchTheKeyConfiguration) {
  const std::string h = R"({"alg":"HS256","kid":"hs-1"})";
  const std::string exp = std::to_string(now() + 600);
  expectRejected(
      verify(signHs(
          kSecret,
          h,
          R"({"iss":"https://idp.tenant-a.example","aud":"livery:tnt_b","exp":)" + exp + "}")),
      "wrong audience");
  expectRejected(
      verify(signHs(kSecret, h, R"({"iss":"https://idp.tenant-a.example","exp":)" + exp + "}")),
      "wrong audience");
  EXPECT_TRUE(verify(
      signHs(kSecret,
             h,
             R"({"iss":"https://idp.tenant-a.example","aud":["other","livery:tnt_a"],"exp":)" +
                 exp + "}")));
  expectRejected(
      verify(signHs(
          kSecret, h, R"({"iss":"https://idp.tenant-a.example","aud":[1],"exp":)" + exp + "}")),
      "malformed \"aud\"");
  expectRejected(
      verify(signHs(
          kSecret, h, R"({"iss":"https://evil.example","aud":"livery:tnt_a","exp":)" + exp + "}")),
      "wrong issuer");
  // The ES256 key has no issuer/audience configured: not checked.
  EXPECT_TRUE(
      verify(signPk(ec.get(), true, R"({"alg":"ES256","kid":"es-1"})", R"({"exp":)" + exp + "}")));
}

TEST_F(JwtClaimsTest, KidIsLookedUpOnlyAmongTheKeysGiven) {
  expectRejected(verify(signHs(kSecret, R"({"alg":"HS256","kid":"nope"})", claims(600))),
                 "unknown key id");
  // Tenant B has its own key with the same kid as one of tenant A's; a token signed by B's key
  // does not verify against A's set, and vice versa.
  auto other_ec = makeEc();
  auto b_key = JwtKey::publicPem("es-1", JwsAlgorithm::kEs256, publicPem(other_ec.get())).value();
  auto tenant_b = JwtKeySet::create({std::move(b_key)}).value();
  const auto b_token = signPk(other_ec.get(), true, R"({"alg":"ES256","kid":"es-1"})", claims(600));
  EXPECT_TRUE(verifyJwt(b_token, tenant_b, {}, clock));
  expectRejected(verify(b_token), "bad signature");
  // A kid known only in B's set is unknown in A's.
  auto b2 =
      JwtKey::publicPem("tenant-b-key", JwsAlgorithm::kEs256, publicPem(other_ec.get())).value();
  auto tenant_b2 = JwtKeySet::create({std::move(b2)}).value();
  const auto b2_token =
      signPk(other_ec.get(), true, R"({"alg":"ES256","kid":"tenant-b-key"})", claims(600));
  EXPECT_TRUE(verifyJwt(b2_token, tenant_b2, {}, clock));
  expectRejected(verify(b2_token), "unknown key id");
}

TEST_F(JwtClaimsTest, BadSignaturesAreRejected) {
  for (auto t : {signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", claims(600)),
                 signPk(rsa.get(), false, R"({"alg":"RS256","kid":"rs-1"})", claims(600)),
                 signPk(ec.get(), true, R"({"alg":"ES256","kid":"es-1"})", claims(600))}) {
    ASSERT_TRUE(verify(t));
    std::string bad = t;
    bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
    expectRejected(verify(bad), "");
    // Payload swapped under the same signature.
    auto dot1 = t.find('.');
    auto dot2 = t.find('.', dot1 + 1);
    std::string swapped = t.substr(0, dot1 + 1) + b64(claims(7200)) + t.substr(dot2);
    expectRejected(verify(swapped), "bad signature");
  }
  // ES256 must be JOSE R||S: the DER form of a valid signature is refused.
  std::string input = b64(R"({"alg":"ES256","kid":"es-1"})") + "." + b64(claims(600));
  auto der = signDigest(ec.get(), input);
  expectRejected(verify(input + "." + base64UrlEncode(der)), "bad signature");
}

TEST_F(JwtClaimsTest, EmbeddedOrRemoteKeysAreNeverUsed) {
  // Signed by an attacker key that is embedded in the header (jwk) and advertised (jku/x5u).
  auto attacker = makeEc();
  auto attacker_jwk = JwtKey::publicPem("x", JwsAlgorithm::kEs256, publicPem(attacker.get()));
  ASSERT_TRUE(attacker_jwk);
  const std::string header =
      R"({"alg":"ES256","kid":"es-1","jku":"http://127.0.0.1:9/jwks.json","x5u":"http://127.0.0.1:9/c.pem","jwk":{"kty":"EC","crv":"P-256","x":"MdnTZDIhDJbfASdFqamcpO2Ch9GNKK2m0MQlh402Spo","y":"7avJ4lq_Wyx-nLPDBQ2YpytuHyMio07BUyvl3jaC-1Y"}})";
  expectRejected(verify(signPk(attacker.get(), true, header, claims(600))), "bad signature");
}

TEST_F(JwtClaimsTest, StructureSizeAndHeaderRulesAreStrict) {
  const std::string good = signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", claims(600));
  expectRejected(verify(good + "."), "three segments");
  expectRejected(verify("a.b"), "three segments");
  expectRejected(verify(std::string(9000, 'a')), "too large");
  expectRejected(
      verify(signHs(kSecret, R"({"alg":"HS256","kid":"hs-1","crit":["exp"]})", claims(600))),
      "critical");
  expectRejected(verify(signHs(kSecret, R"({"alg":"HS512","kid":"hs-1"})", claims(600))),
                 "unsupported algorithm");
  expectRejected(verify(signHs(kSecret, R"(["alg","HS256"])", claims(600))), "header");
  expectRejected(
      verify(signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", R"(["not","an","object"])")),
      "claims are not a JSON object");
  // Padding and the standard base64 alphabet are refused.
  std::string padded = good;
  padded.insert(good.find('.'), "==");
  expectRejected(verify(padded), "base64url");
  // Explicit typing, when configured.
  EXPECT_TRUE(verify(signHs(kSecret, R"({"alg":"HS256","kid":"hs-1","typ":"jwt"})", claims(600)),
                     {.required_typ = "JWT"}));
  expectRejected(verify(good, {.required_typ = "JWT"}), "wrong token type");
}

TEST(JwtKeyTest, KeyImportRefusesWeakOrMismatchedKeys) {
  auto rsa1024 = makeRsa(1024);
  auto p384 = makeEc("P-384");
  auto rsa = wycheproofRsa();
  auto ec = makeEc();
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kRs256, publicPem(rsa1024.get())));
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kEs256, publicPem(p384.get())));
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kEs256, publicPem(rsa.get())));
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kRs256, publicPem(ec.get())));
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kHs256, publicPem(rsa.get())));
  EXPECT_FALSE(JwtKey::publicPem("k", JwsAlgorithm::kRs256, "not a pem"));
  auto priv = JwtKey::publicPem("k", JwsAlgorithm::kRs256, privatePem(rsa.get()));
  ASSERT_FALSE(priv);
  EXPECT_NE(priv.error().client_message.find("private key"), std::string::npos);
  EXPECT_FALSE(JwtKey::hs256("k", SecretBytes::copyOf(std::string(31, 's'))));
  EXPECT_TRUE(JwtKey::hs256("k", SecretBytes::copyOf(std::string(32, 's'))));
}

TEST(JwtKeyTest, JwksImportPicksUsableKeysAndRefusesBadDocuments) {
  const std::string rsa_n =
      "kqGboBfAWttWPCA-0cGRgsY6SaYoIARt0B_PkaEcIq9HPYNdu9n6UuWHuuTHrjF_"
      "ZoQW97r5HaAorNvrMEGTGdxCHZdEtkHvNVVmrtxTBLiQCbCozXhFoIrVcr3qUBrdGnNn_M3jJi7Wg7p_-"
      "x62nS5gNG875oyheRkutHsQXikFZwsN3q_TsPNOVlCiHy8mxzaFTUQGm-"
      "X8UYexFyAivlDSjgDJLAZSWfxd7k9Gxuwa3AUfQqQcVcegmgKGCaErQ3qQbh1x7WB6iopE3_-"
      "GZ8HMAVtR9AmrVscqYsnjhaCehfAI0iKKs8zXr8tISc0ORbaalrkk03H1ZrsEnDKEWQ";
  const std::string ec_xy =
      R"("crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw")";
  const std::string jwks = R"({"keys":[
      {"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":")" +
                           rsa_n + R"(","e":"AQAB"},
      {"kty":"RSA","kid":"r2","use":"enc","n":")" +
                           rsa_n + R"(","e":"AQAB"},
      {"kty":"EC","kid":"e1","use":"sig",)" +
                           ec_xy + R"(},
      {"kty":"RSA","kid":"r3","alg":"PS256","n":")" +
                           rsa_n + R"(","e":"AQAB"}]})";
  auto rs = JwtKey::jwks(jwks, JwsAlgorithm::kRs256);
  ASSERT_TRUE(rs) << rs.error().client_message;
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ((*rs)[0].kid(), "r1");
  auto es = JwtKey::jwks(jwks, JwsAlgorithm::kEs256);
  ASSERT_TRUE(es);
  ASSERT_EQ(es->size(), 1u);
  EXPECT_EQ((*es)[0].kid(), "e1");
  EXPECT_FALSE(JwtKey::jwks(R"({"keys":[]})", JwsAlgorithm::kRs256));
  EXPECT_FALSE(JwtKey::jwks(R"({"nokeys":1})", JwsAlgorithm::kRs256));
  EXPECT_FALSE(JwtKey::jwks(
      R"({"keys":[{"kty":"EC","kid":"a",)" + ec_xy + R"(},{"kty":"EC","kid":"a",)" + ec_xy + "}]}",
      JwsAlgorithm::kEs256));
  auto with_private =
      JwtKey::jwk(R"({"kty":"EC","d":"yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3c",)" + ec_xy + "}",
                  JwsAlgorithm::kEs256);
  ASSERT_FALSE(with_private);
  EXPECT_NE(with_private.error().client_message.find("private"), std::string::npos);
  // A point that is not on the curve is refused.
  EXPECT_FALSE(JwtKey::jwk(
      R"({"kty":"EC","crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"AI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"})",
      JwsAlgorithm::kEs256));
}

TEST(JwtKeyTest, KeySetsAreBoundedAndKidsUnique) {
  std::vector<JwtKey> dup;
  dup.push_back(JwtKey::hs256("a", SecretBytes::copyOf(std::string(32, 'x'))).value());
  dup.push_back(JwtKey::hs256("a", SecretBytes::copyOf(std::string(32, 'y'))).value());
  EXPECT_FALSE(JwtKeySet::create(std::move(dup)));
  std::vector<JwtKey> many;
  for (std::size_t i = 0; i <= kMaxKeysPerSet; ++i) {
    many.push_back(
        JwtKey::hs256("k" + std::to_string(i), SecretBytes::copyOf(std::string(32, 'x'))).value());
  }
  EXPECT_FALSE(JwtKeySet::create(std::move(many)));
}

TEST_F(JwtClaimsTest, VerificationIsThreadSafe) {
  const auto hs = signHs(kSecret, R"({"alg":"HS256","kid":"hs-1"})", claims(600));
  const auto rs = signPk(rsa.get(), false, R"({"alg":"RS256","kid":"rs-1"})", claims(600));
  const auto es = signPk(ec.get(), true, R"({"alg":"ES256","kid":"es-1"})", claims(600));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!verify(hs) || !verify(rs) || !verify(es)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace livery::crypto
