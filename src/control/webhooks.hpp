#pragma once

#include <string>
#include <string_view>

namespace livery::crypto {
class KeyHasher;
}

namespace livery::control {

// HMAC-SHA-256 of `body` under `secret`, as "sha256=<hex>" (the X-Livery-Signature header of
// webhook deliveries).
std::string webhookSignature(std::string_view secret, std::string_view body);

// The signing secret of a tenant's webhook: derived from the server pepper, the tenant id and the
// URL (so changing the URL rotates it), never stored. Shown to the tenant when the webhook is set.
std::string tenantWebhookSecret(const crypto::KeyHasher& hasher,
                                std::string_view tenant_id,
                                std::string_view url);

}  // namespace livery::control
