#include "support/test_pki.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace livery::testing {

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

void check(int ok, const char* what) {
  if (ok != 1) {
    throw std::runtime_error(std::string("test PKI: ") + what + " failed");
  }
}

Key newKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) {
    throw std::runtime_error("test PKI: EC key generation failed");
  }
  return key;
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string certPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  return bioText(bio.get());
}

std::string keyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  return bioText(bio.get());
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) {
    throw std::runtime_error("test PKI: extension " + value + " failed");
  }
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

Cert newCert(EVP_PKEY* key, const std::string& common_name) {
  Cert cert(X509_new());
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof(serial)), "RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  ASN1_INTEGER* asn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (asn == nullptr) {
    throw std::runtime_error("test PKI: serial failed");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name,
                                   "CN",
                                   MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(  // NOLINT
                                       common_name.c_str()),
                                   -1,
                                   -1,
                                   0),
        "X509_NAME_add_entry_by_txt");
  return cert;
}

}  // namespace

TestPki makeTestPki(const std::vector<std::string>& dns_names,
                    const std::vector<std::string>& ips) {
  Key ca_key = newKey();
  Cert ca = newCert(ca_key.get(), "Livery Test CA");
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "issuer");
  addExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("test PKI: CA signature failed");
  }

  Key server_key = newKey();
  std::string cn = dns_names.empty() ? (ips.empty() ? "server" : ips.front()) : dns_names.front();
  Cert server = newCert(server_key.get(), cn);
  check(X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get())), "issuer");
  addExtension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  addExtension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  addExtension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& d : dns_names) {
    san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  }
  for (const auto& ip : ips) {
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  if (!san.empty()) {
    addExtension(server.get(), ca.get(), NID_subject_alt_name, san);
  }
  if (X509_sign(server.get(), ca_key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("test PKI: server signature failed");
  }
  return TestPki{
      certPem(ca.get()), keyPem(ca_key.get()), certPem(server.get()), keyPem(server_key.get())};
}

}  // namespace livery::testing
