#include "control/webhooks.hpp"

#include <fmt/format.h>
#include <openssl/hmac.h>

#include "crypto/api_key.hpp"

namespace livery::control {

namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

}  // namespace

std::string webhookSignature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(),
       secret.data(),
       static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()),  // NOLINT: byte view
       body.size(),
       mac,
       &len);
  return "sha256=" + hex(mac, len);
}

std::string tenantWebhookSecret(const crypto::KeyHasher& hasher,
                                std::string_view tenant_id,
                                std::string_view url) {
  std::string input = fmt::format("livery-webhook-secret\n{}\n{}", tenant_id, url);
  auto digest = hasher.hash(input);
  if (!digest) {
    return {};
  }
  return "whsec_" + hex(digest->data(), digest->size());
}

}  // namespace livery::control
