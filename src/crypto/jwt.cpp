#include "crypto/jwt.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <boost/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/ids.hpp"
#include "crypto/api_key.hpp"
#include "crypto/encoding.hpp"

namespace livery::crypto {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxHeaderSegment = 2048;     // base64url chars
constexpr std::size_t kMaxSignatureSegment = 1368;  // RSA-8192 signature, base64url
constexpr std::size_t kMaxJwkBytes = 64 * 1024;
constexpr int kMaxRsaBits = 8192;
constexpr int kMinRsaBits = 2048;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
struct BioDeleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
struct X509Deleter {
  void operator()(X509* x) const noexcept { X509_free(x); }
};

Error rejected(std::string reason, std::string detail = {}) {
  std::string msg = "invalid token: " + reason;
  return fail(ErrorCode::kUnauthenticated, msg, detail.empty() ? msg : "jwt rejected: " + detail)
      .withCode("invalid_jwt");
}

Error keyError(std::string msg) {
  ERR_clear_error();
  return fail(ErrorCode::kUnprocessable, msg, msg).withParam("jwt_key");
}

std::string safeKid(std::string_view kid) {
  return isSafeClientId(kid) ? std::string(kid) : std::string("<unprintable kid>");
}

std::shared_ptr<EVP_PKEY> sharePkey(EVP_PKEY* raw) {
  return std::shared_ptr<EVP_PKEY>(raw, PkeyDeleter{});
}

Result<void> checkKeyMatchesAlg(EVP_PKEY* pkey, JwsAlgorithm alg) {
  if (alg == JwsAlgorithm::kRs256) {
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
      return keyError("RS256 needs an RSA public key");
    }
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return keyError("RSA key must have 2048..8192 bits, has " + std::to_string(bits));
    }
    return {};
  }
  if (alg == JwsAlgorithm::kEs256) {
    char group[64] = {};
    std::size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      return keyError("ES256 needs a P-256 (prime256v1) public key");
    }
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
      return keyError("EC public key is not a valid P-256 point");
    }
    return {};
  }
  return keyError("HS256 keys are shared secrets, not public keys");
}

std::optional<std::vector<unsigned char>> b64Member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  const json::string& s = v->as_string();
  return base64UrlDecode({s.data(), s.size()});
}

// Numeric date (RFC 7519 §2): JSON number, fractional seconds allowed; nullopt for other types.
std::optional<std::int64_t> numericDate(const json::value& v) {
  if (v.is_int64()) {
    return v.as_int64();
  }
  if (v.is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d) || d > 9.2e18 || d < -9.2e18) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(std::floor(d));
  }
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

// ---- algorithms ----------------------------------------------------------------------------

std::optional<JwsAlgorithm> parseJwsAlgorithm(std::string_view name) {
  if (name == "HS256") {
    return JwsAlgorithm::kHs256;
  }
  if (name == "RS256") {
    return JwsAlgorithm::kRs256;
  }
  if (name == "ES256") {
    return JwsAlgorithm::kEs256;
  }
  return std::nullopt;
}

std::string_view toString(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kHs256:
      return "HS256";
    case JwsAlgorithm::kRs256:
      return "RS256";
    case JwsAlgorithm::kEs256:
      return "ES256";
  }
  return "?";
}

// ---- keys ----------------------------------------------------------------------------------

struct JwtKey::Material {
  std::optional<KeyHasher> hmac;   // HS256
  std::shared_ptr<EVP_PKEY> pkey;  // RS256 / ES256 (read-only after construction)
};

JwtKey::JwtKey(std::string kid, JwsAlgorithm alg, std::shared_ptr<const Material> material)
    : kid_(std::move(kid)), alg_(alg), material_(std::move(material)) {}

JwtKey&& JwtKey::withIssuer(std::string issuer) && {
  issuer_ = std::move(issuer);
  return std::move(*this);
}

JwtKey&& JwtKey::withAudience(std::string audience) && {
  audience_ = std::move(audience);
  return std::move(*this);
}

Result<JwtKey> JwtKey::hs256(std::string kid, const SecretBytes& secret) {
  if (secret.size() < KeyHasher::kMinPepperBytes) {
    return keyError("an HS256 secret must be at least 32 bytes (RFC 7518 section 3.2)");
  }
  auto hasher = KeyHasher::create(secret);
  if (!hasher) {
    return hasher.error();
  }
  auto m = std::make_shared<Material>();
  m->hmac.emplace(std::move(*hasher));
  return JwtKey(std::move(kid), JwsAlgorithm::kHs256, std::move(m));
}

Result<JwtKey> JwtKey::publicPem(std::string kid, JwsAlgorithm alg, std::string_view pem) {
  if (alg == JwsAlgorithm::kHs256) {
    return keyError("HS256 keys are shared secrets, not PEM public keys");
  }
  if (pem.size() > kMaxJwkBytes) {
    return keyError("PEM key too large");
  }
  if (pem.find("PRIVATE KEY") != std::string_view::npos) {
    return keyError("this is a private key: register the public key (BEGIN PUBLIC KEY) instead");
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return keyError("cannot read PEM");
  }
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    ERR_clear_error();
    std::unique_ptr<BIO, BioDeleter> again(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<X509, X509Deleter> cert(
        PEM_read_bio_X509(again.get(), nullptr, nullptr, nullptr));
    if (cert) {
      raw = X509_get_pubkey(cert.get());
    }
  }
  if (raw == nullptr) {
    return keyError("not a PEM public key (BEGIN PUBLIC KEY) or certificate");
  }
  auto pkey = sharePkey(raw);
  if (auto r = checkKeyMatchesAlg(pkey.get(), alg); !r) {
    return r.error();
  }
  auto m = std::make_shared<Material>();
  m->pkey = std::move(pkey);
  return JwtKey(std::move(kid), alg, std::move(m));
}

namespace {

Result<std::shared_ptr<EVP_PKEY>> pkeyFromJwk(const json::object& o, JwsAlgorithm alg) {
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (o.contains(priv)) {
      return keyError("the JWK contains private key material; register the public key only");
    }
  }
  const json::value* kty = o.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) {
    return keyError("JWK without \"kty\"");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld) {
    return keyError("out of memory");
  }
  const char* type = nullptr;
  std::vector<unsigned char> point;
  std::unique_ptr<BIGNUM, BnDeleter> n;
  std::unique_ptr<BIGNUM, BnDeleter> e;
  if (alg == JwsAlgorithm::kRs256) {
    if (kty->as_string() != "RSA") {
      return keyError("RS256 needs a JWK with \"kty\": \"RSA\"");
    }
    auto nb = b64Member(o, "n");
    auto eb = b64Member(o, "e");
    if (!nb || !eb || nb->empty() || eb->empty() || eb->size() > 8) {
      return keyError("RSA JWK needs base64url \"n\" and \"e\"");
    }
    n.reset(BN_bin2bn(nb->data(), static_cast<int>(nb->size()), nullptr));
    e.reset(BN_bin2bn(eb->data(), static_cast<int>(eb->size()), nullptr));
    if (!n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return keyError("cannot build RSA key");
    }
    type = "RSA";
  } else if (alg == JwsAlgorithm::kEs256) {
    const json::value* crv = o.if_contains("crv");
    if (kty->as_string() != "EC" || crv == nullptr || !crv->is_string() ||
        crv->as_string() != "P-256") {
      return keyError("ES256 needs a JWK with \"kty\": \"EC\" and \"crv\": \"P-256\"");
    }
    auto x = b64Member(o, "x");
    auto y = b64Member(o, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) {
      return keyError("P-256 JWK needs 32-byte base64url \"x\" and \"y\"");
    }
    point.reserve(65);
    point.push_back(0x04);
    point.insert(point.end(), x->begin(), x->end());
    point.insert(point.end(), y->begin(), y->end());
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(
            bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
      return keyError("cannot build EC key");
    }
    type = "EC";
  } else {
    return keyError("HS256 secrets are not imported from JWKs; store them in the vault");
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return keyError("invalid JWK key material");
  }
  auto pkey = sharePkey(raw);
  if (auto r = checkKeyMatchesAlg(pkey.get(), alg); !r) {
    return r.error();
  }
  return pkey;
}

// Whether a JWK object is meant for signature verification with `alg` (RFC 7517 §4.2-4.4).
bool usableFor(const json::object& o, JwsAlgorithm alg, std::string* why) {
  if (const json::value* use = o.if_contains("use"); use != nullptr) {
    if (!use->is_string() || use->as_string() != "sig") {
      *why = "\"use\" is not \"sig\"";
      return false;
    }
  }
  if (const json::value* ops = o.if_contains("key_ops"); ops != nullptr) {
    bool verify = false;
    if (ops->is_array()) {
      for (const auto& op : ops->as_array()) {
        verify = verify || (op.is_string() && op.as_string() == "verify");
      }
    }
    if (!verify) {
      *why = "\"key_ops\" does not include \"verify\"";
      return false;
    }
  }
  if (const json::value* a = o.if_contains("alg"); a != nullptr) {
    if (!a->is_string() || a->as_string() != toString(alg)) {
      *why = "\"alg\" is not " + std::string(toString(alg));
      return false;
    }
  }
  const json::value* kty = o.if_contains("kty");
  const char* want = alg == JwsAlgorithm::kRs256 ? "RSA" : "EC";
  if (kty == nullptr || !kty->is_string() || kty->as_string() != want) {
    *why = "\"kty\" is not " + std::string(want);
    return false;
  }
  return true;
}

Result<json::value> parseBounded(std::string_view text, int depth) {
  json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(depth);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) {
    return keyError("not valid JSON: " + ec.message());
  }
  return v;
}

}  // namespace

Result<JwtKey> JwtKey::jwk(std::string_view jwk_json, JwsAlgorithm alg) {
  if (jwk_json.size() > kMaxJwkBytes) {
    return keyError("JWK too large");
  }
  auto v = parseBounded(jwk_json, 8);
  if (!v) {
    return v.error();
  }
  const json::object* o = v->if_object();
  if (o == nullptr) {
    return keyError("a JWK must be a JSON object");
  }
  std::string why;
  if (!usableFor(*o, alg, &why)) {
    return keyError("JWK not usable for " + std::string(toString(alg)) + " verification: " + why);
  }
  auto pkey = pkeyFromJwk(*o, alg);
  if (!pkey) {
    return pkey.error();
  }
  std::string kid;
  if (const json::value* k = o->if_contains("kid"); k != nullptr) {
    if (!k->is_string()) {
      return keyError("JWK \"kid\" must be a string");
    }
    kid = std::string(k->as_string());
  }
  auto m = std::make_shared<Material>();
  m->pkey = std::move(*pkey);
  return JwtKey(std::move(kid), alg, std::move(m));
}

Result<std::vector<JwtKey>> JwtKey::jwks(std::string_view jwks_json, JwsAlgorithm alg) {
  if (jwks_json.size() > kMaxJwkBytes) {
    return keyError("JWKS document too large");
  }
  auto v = parseBounded(jwks_json, 8);
  if (!v) {
    return v.error();
  }
  const json::object* o = v->if_object();
  const json::value* keys = o != nullptr ? o->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return keyError("a JWKS document is an object with a \"keys\" array");
  }
  std::vector<JwtKey> out;
  std::set<std::string> kids;
  for (const auto& entry : keys->as_array()) {
    const json::object* k = entry.if_object();
    std::string why;
    if (k == nullptr || !usableFor(*k, alg, &why)) {
      continue;  // another algorithm or use: not ours
    }
    auto key = jwk(json::serialize(entry), alg);
    if (!key) {
      return key.error();
    }
    if (!key->kid().empty() && !kids.insert(key->kid()).second) {
      return keyError("two keys in the JWKS share kid \"" + safeKid(key->kid()) + "\"");
    }
    out.push_back(std::move(*key));
    if (out.size() > kMaxKeysPerSet) {
      return keyError("more than " + std::to_string(kMaxKeysPerSet) + " keys in the JWKS");
    }
  }
  if (out.empty()) {
    return keyError("the JWKS holds no key usable for " + std::string(toString(alg)));
  }
  return out;
}

bool JwtKey::verifySignature(std::string_view input, const std::vector<unsigned char>& sig) const {
  const Material& m = *material_;
  if (alg_ == JwsAlgorithm::kHs256) {
    if (!m.hmac || sig.size() != 32) {
      return false;
    }
    auto mac = m.hmac->hash(input);
    return mac && constantTimeEqual(*mac, sig);
  }
  if (!m.pkey) {
    return false;
  }
  std::vector<unsigned char> der;
  const std::vector<unsigned char>* to_verify = &sig;
  if (alg_ == JwsAlgorithm::kRs256) {
    if (sig.size() != static_cast<std::size_t>(EVP_PKEY_get_size(m.pkey.get()))) {
      return false;
    }
  } else {
    // JOSE R||S (RFC 7518 §3.4) → DER ECDSA-Sig-Value for OpenSSL.
    if (sig.size() != 64) {
      return false;
    }
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(sig.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(sig.data() + 32, 32, nullptr);
    if (!es || r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ERR_clear_error();
      return false;
    }
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &out);
    if (len <= 0) {
      ERR_clear_error();
      return false;
    }
    der.assign(out, out + len);
    OPENSSL_free(out);
    to_verify = &der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit_ex(
                ctx.get(), nullptr, "SHA256", nullptr, nullptr, m.pkey.get(), nullptr) == 1 &&
            EVP_DigestVerify(ctx.get(),
                             to_verify->data(),
                             to_verify->size(),
                             reinterpret_cast<const unsigned char*>(input.data()),  // NOLINT
                             input.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<JwtKeySet> JwtKeySet::create(std::vector<JwtKey> keys) {
  if (keys.size() > kMaxKeysPerSet) {
    return keyError("at most " + std::to_string(kMaxKeysPerSet) + " JWT keys per tenant");
  }
  std::set<std::string> kids;
  for (const auto& k : keys) {
    if (!k.kid().empty() && !kids.insert(k.kid()).second) {
      return keyError("two JWT keys share kid \"" + safeKid(k.kid()) + "\"");
    }
  }
  JwtKeySet set;
  set.keys_ = std::move(keys);
  return set;
}

// ---- verification --------------------------------------------------------------------------

Result<JwsResult> verifyJws(std::string_view token,
                            const JwtKeySet& keys,
                            std::size_t max_token_bytes,
                            std::string_view required_typ) {
  if (token.empty()) {
    return rejected("empty");
  }
  if (token.size() > std::min(max_token_bytes, kMaxJwtBytes * 8)) {
    return rejected("too large");
  }
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return rejected("not a compact JWS (three segments)");
  }
  std::string_view h64 = token.substr(0, d1);
  std::string_view p64 = token.substr(d1 + 1, d2 - d1 - 1);
  std::string_view s64 = token.substr(d2 + 1);
  if (h64.empty() || s64.empty()) {
    return rejected("missing header or signature");
  }
  if (h64.size() > kMaxHeaderSegment || s64.size() > kMaxSignatureSegment) {
    return rejected("segment too large");
  }
  auto header_bytes = base64UrlDecode(h64);
  auto payload_bytes = base64UrlDecode(p64);
  auto signature = base64UrlDecode(s64);
  if (!header_bytes || !payload_bytes || !signature) {
    return rejected("malformed base64url");
  }
  JwsResult out;
  out.header_json.assign(header_bytes->begin(), header_bytes->end());
  json::parse_options opts;
  opts.max_depth = 4;
  boost::system::error_code ec;
  json::value header = json::parse(out.header_json, ec, {}, opts);
  if (ec || !header.is_object()) {
    return rejected("header is not a JSON object");
  }
  const json::object& h = header.as_object();
  const json::value* alg_v = h.if_contains("alg");
  if (alg_v == nullptr || !alg_v->is_string()) {
    return rejected("header has no \"alg\"");
  }
  const std::string_view alg_name(alg_v->as_string().data(), alg_v->as_string().size());
  if (iequals(alg_name, "none")) {
    return rejected("unsigned tokens (alg none) are not accepted");
  }
  auto alg = parseJwsAlgorithm(alg_name);
  if (!alg) {
    return rejected("unsupported algorithm");
  }
  if (h.contains("crit")) {
    return rejected("critical header extensions are not supported");
  }
  if (!required_typ.empty()) {
    const json::value* typ = h.if_contains("typ");
    if (typ == nullptr || !typ->is_string() ||
        !iequals({typ->as_string().data(), typ->as_string().size()}, required_typ)) {
      return rejected("wrong token type");
    }
  }
  std::optional<std::string_view> kid;
  if (const json::value* k = h.if_contains("kid"); k != nullptr) {
    if (!k->is_string() || k->as_string().size() > 256) {
      return rejected("malformed \"kid\"");
    }
    kid = std::string_view(k->as_string().data(), k->as_string().size());
  }
  // jku, x5u, x5c and jwk are deliberately ignored: keys come only from `keys`.
  const std::string_view signing_input = token.substr(0, d2);
  bool kid_known = false;
  bool alg_allowed = false;
  std::size_t tried = 0;
  for (const JwtKey& key : keys.keys()) {
    if (kid && key.kid() != *kid) {
      continue;
    }
    kid_known = true;
    if (key.algorithm() != *alg) {
      continue;
    }
    alg_allowed = true;
    if (++tried > kMaxKeysPerSet) {
      break;
    }
    if (key.verifySignature(signing_input, *signature)) {
      out.payload.assign(payload_bytes->begin(), payload_bytes->end());
      out.key = &key;
      return out;
    }
  }
  if (kid && !kid_known) {
    return rejected("unknown key id", "unknown kid " + safeKid(*kid));
  }
  if (!alg_allowed) {
    return rejected("algorithm not allowed for this key",
                    "alg " + std::string(alg_name) + " matches no configured key" +
                        (kid ? " (kid " + safeKid(*kid) + ")" : std::string()));
  }
  return rejected("bad signature");
}

Result<JwtClaims> verifyJwt(std::string_view token,
                            const JwtKeySet& keys,
                            const JwtPolicy& policy,
                            const Clock& clock) {
  auto jws = verifyJws(token, keys, policy.max_token_bytes, policy.required_typ);
  if (!jws) {
    return jws.error();
  }
  json::parse_options opts;
  opts.max_depth = 16;
  boost::system::error_code ec;
  json::value payload = json::parse(jws->payload, ec, {}, opts);
  if (ec || !payload.is_object()) {
    return rejected("claims are not a JSON object");
  }
  const json::object& c = payload.as_object();
  const JwtKey& key = *jws->key;
  JwtClaims out;
  out.kid = key.kid();
  out.algorithm = key.algorithm();

  const std::int64_t leeway =
      std::clamp<std::int64_t>(policy.leeway.count(), 0, kMaxJwtLeeway.count());
  const std::int64_t now = clock.unixSeconds();

  const json::value* exp = c.if_contains("exp");
  if (exp == nullptr) {
    return rejected("missing \"exp\"");
  }
  auto exp_v = numericDate(*exp);
  if (!exp_v) {
    return rejected("malformed \"exp\"");
  }
  out.expires_at = *exp_v;
  if (now >= out.expires_at + leeway) {
    return rejected("expired");
  }
  if (const json::value* nbf = c.if_contains("nbf"); nbf != nullptr) {
    auto v = numericDate(*nbf);
    if (!v) {
      return rejected("malformed \"nbf\"");
    }
    out.not_before = *v;
    if (now + leeway < out.not_before) {
      return rejected("not yet valid");
    }
  }
  if (const json::value* iat = c.if_contains("iat"); iat != nullptr) {
    auto v = numericDate(*iat);
    if (!v) {
      return rejected("malformed \"iat\"");
    }
    out.issued_at = *v;
    if (out.issued_at > now + leeway) {
      return rejected("issued in the future");
    }
  }
  if (policy.max_lifetime.count() > 0) {
    const std::int64_t start = out.issued_at != 0 ? out.issued_at : now;
    if (out.expires_at - start > policy.max_lifetime.count()) {
      return rejected("lifetime longer than allowed");
    }
  }
  if (const json::value* iss = c.if_contains("iss"); iss != nullptr) {
    if (!iss->is_string()) {
      return rejected("malformed \"iss\"");
    }
    out.issuer = std::string(iss->as_string());
  }
  if (!key.issuer().empty() && out.issuer != key.issuer()) {
    return rejected("wrong issuer");
  }
  if (const json::value* aud = c.if_contains("aud"); aud != nullptr) {
    if (aud->is_string()) {
      out.audience.emplace_back(aud->as_string());
    } else if (aud->is_array()) {
      for (const auto& a : aud->as_array()) {
        if (!a.is_string()) {
          return rejected("malformed \"aud\"");
        }
        out.audience.emplace_back(a.as_string());
      }
    } else {
      return rejected("malformed \"aud\"");
    }
  }
  if (!key.audience().empty() &&
      std::find(out.audience.begin(), out.audience.end(), key.audience()) == out.audience.end()) {
    return rejected("wrong audience");
  }
  if (const json::value* sub = c.if_contains("sub"); sub != nullptr) {
    if (!sub->is_string() || sub->as_string().size() > 256) {
      return rejected("malformed \"sub\"");
    }
    out.subject = std::string(sub->as_string());
  }
  out.payload_json = std::move(jws->payload);
  return out;
}

}  // namespace livery::crypto
