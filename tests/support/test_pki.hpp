#pragma once

#include <string>
#include <vector>

namespace livery::testing {

// A throw-away PKI generated at test time with the OpenSSL API (ECDSA P-256, SHA-256): a CA and
// one server certificate it signed, all PEM, valid from an hour ago for a day. Nothing is read
// from or written to disk; tests write ca_cert_pem to a TempDir when a file is needed.
struct TestPki {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  // Server certificate followed by the CA certificate (what a server presents).
  std::string serverChainPem() const { return server_cert_pem + ca_cert_pem; }
};

// `dns_names` and `ips` become the server certificate's subjectAltName entries. Throws
// std::runtime_error when OpenSSL fails.
TestPki makeTestPki(const std::vector<std::string>& dns_names = {"localhost"},
                    const std::vector<std::string>& ips = {"127.0.0.1"});

}  // namespace livery::testing
