#pragma once

#include <string>

#include <boost/asio/io_context.hpp>

#include "app/control_events.hpp"

namespace livery {
class Logger;
class SecretBytes;
}  // namespace livery
namespace livery::storage {
struct Stores;
}
namespace livery::tenancy {
class TenantDirectory;
}
namespace livery::upstream {
class Client;
}
namespace livery::crypto {
class KeyHasher;
}

namespace livery::app {

// Stores alerts and delivers them to the operator webhook (alerts.operator_webhook_url) and the
// tenant's own webhook, each a JSON POST signed with X-Livery-Signature, retried with backoff
// (3 attempts) through the upstream client (so the outbound guard applies to tenant URLs).
// raise() is thread-safe and returns at once; delivery runs on `io`.
class AlertDispatcher final : public AlertSink {
 public:
  AlertDispatcher(storage::Stores& stores,
                  const tenancy::TenantDirectory& tenants,
                  const crypto::KeyHasher& hasher,
                  upstream::Client& client,
                  boost::asio::io_context& io,
                  std::string operator_url,
                  std::string operator_secret,
                  Logger& log);
  void raise(storage::Alert alert) override;

 private:
  net::awaitable<void> deliver(std::string url, std::string secret, std::string body);

  storage::Stores& stores_;
  const tenancy::TenantDirectory& tenants_;
  const crypto::KeyHasher& hasher_;
  upstream::Client& client_;
  boost::asio::io_context& io_;
  std::string operator_url_;
  std::string operator_secret_;
  Logger& log_;
};

}  // namespace livery::app
