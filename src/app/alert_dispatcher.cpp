#include "app/alert_dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "control/webhooks.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "crypto/api_key.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "upstream/client.hpp"

namespace livery::app {

AlertDispatcher::AlertDispatcher(storage::Stores& stores,
                                 const tenancy::TenantDirectory& tenants,
                                 const crypto::KeyHasher& hasher,
                                 upstream::Client& client,
                                 boost::asio::io_context& io,
                                 std::string operator_url,
                                 std::string operator_secret,
                                 Logger& log)
    : stores_(stores),
      tenants_(tenants),
      hasher_(hasher),
      client_(client),
      io_(io),
      operator_url_(std::move(operator_url)),
      operator_secret_(std::move(operator_secret)),
      log_(log) {}

void AlertDispatcher::raise(storage::Alert alert) {
  // Called from the control-events thread (never an I/O thread): storing here is fine.
  auto stored = stores_.alerts.insert(alert);
  if (!stored) {
    LIVERY_LOG(log_,
               Error,
               "alert_store_failed",
               {"kind", alert.kind},
               {"error", stored.error().log_detail});
  } else {
    alert = std::move(*stored);
  }
  LIVERY_LOG(log_,
             Warn,
             "alert",
             {"tenant_id", alert.tenant_id},
             {"kind", alert.kind},
             {"alert_id", alert.id});
  boost::json::object o;
  o["type"] = "alert";
  o["id"] = alert.id;
  o["tenant_id"] = alert.tenant_id;
  o["kind"] = alert.kind;
  o["message"] = alert.message;
  o["details"] = alert.details_json;
  o["created_at"] = alert.created_at;
  auto body = boost::json::serialize(o);
  if (!operator_url_.empty()) {
    net::co_spawn(io_, deliver(operator_url_, operator_secret_, body), net::detached);
  }
  if (auto t = tenants_.byId(alert.tenant_id); t && !t->tenant.webhook_url.empty()) {
    auto secret = control::tenantWebhookSecret(hasher_, t->tenant.id, t->tenant.webhook_url);
    net::co_spawn(
        io_, deliver(t->tenant.webhook_url, std::move(secret), std::move(body)), net::detached);
  }
}

net::awaitable<void> AlertDispatcher::deliver(std::string url,
                                              std::string secret,
                                              std::string body) {
  // Never throws: failures are logged (co_spawn with `detached` requires that).
  try {
    auto delivery = randomId("whd");
    auto delay = std::chrono::milliseconds(500);
    for (int attempt = 1; attempt <= 3; ++attempt) {
      upstream::Request req;
      req.method = "POST";
      req.url = url;
      req.headers.push_back({"Content-Type", "application/json"});
      req.headers.push_back({"User-Agent", "Livery-Webhooks/1"});
      req.headers.push_back({"X-Livery-Event", "alert"});
      req.headers.push_back({"X-Livery-Delivery", delivery});
      req.headers.push_back({"X-Livery-Signature", control::webhookSignature(secret, body)});
      req.body = body;
      auto res = co_await client_.send(std::move(req));
      if (res) {
        auto drained = co_await (*res)->readAll();
        (void)drained;
        int status = (*res)->status();
        if (status >= 200 && status < 300) {
          co_return;
        }
        if (status >= 400 && status < 500 && status != 429) {
          LIVERY_LOG(log_, Warn, "webhook_rejected", {"status", status}, {"delivery", delivery});
          co_return;
        }
      }
      LIVERY_LOG(log_,
                 Warn,
                 "webhook_attempt_failed",
                 {"attempt", attempt},
                 {"delivery", delivery},
                 {"error", res ? std::string("status") : res.error().client_message});
      net::steady_timer t(io_, delay);
      co_await t.async_wait(net::as_tuple(net::use_awaitable));
      delay *= 4;
    }
  } catch (const std::exception& e) {
    LIVERY_LOG(log_, Error, "webhook_failed", {"error", e.what()});
  }
}

}  // namespace livery::app
