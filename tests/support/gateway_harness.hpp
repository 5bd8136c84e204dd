#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/gateway.hpp"
#include "config/config.hpp"
#include "control/control_plane.hpp"
#include "core/log.hpp"
#include "storage/model.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace livery::testing {

// A real Gateway, in-process, on 127.0.0.1:0 with a fresh data directory (SQLite, local KEK file),
// a fake provider upstream the gateway may reach over plain http, and a captured log. Tenants are
// served at "<slug>.localhost". Set-up helpers go through the control plane (as the admin API
// does) and refresh this node's indexes before returning.
class GatewayHarness {
 public:
  using Tweak = std::function<void(config::Config&)>;
  explicit GatewayHarness(Tweak tweak = {},
                          FakeUpstreamOptions upstream = {},
                          const Clock* clock = nullptr);
  ~GatewayHarness();
  GatewayHarness(const GatewayHarness&) = delete;
  GatewayHarness& operator=(const GatewayHarness&) = delete;

  app::Gateway& gateway() { return *gateway_; }
  FakeUpstream& upstream() { return *upstream_; }
  std::uint16_t port() const { return gateway_->port(); }
  const std::string& dataDir() const { return data_dir_; }
  std::string logs() const { return logs_->joined(); }
  // Stops the gateway (graceful), as SIGTERM would.
  void stop();

  // --- set-up through the control plane ---
  storage::Plan createPlan(const std::string& id,
                           std::uint64_t monthly_quota = 0,
                           std::uint32_t rpm = 0,
                           std::uint32_t tpm = 0);
  storage::Tenant createTenant(const std::string& slug, const std::string& plan_id = "");
  // Provider "openai" | "anthropic" | "azure" | "ollama" | "openai_compatible"; the base URL
  // points at the fake upstream unless given.
  storage::Credential addCredential(const std::string& tenant_id,
                                    const std::string& provider,
                                    const std::string& key,
                                    const std::string& label = "",
                                    std::string base_url = "",
                                    std::string options_json = "{}");
  // The base URL of the fake upstream for a provider (what addCredential uses by default).
  std::string baseUrlFor(const std::string& provider) const;
  void setRoute(const std::string& tenant_id,
                const std::string& model,
                std::vector<storage::Deployment> deployments);
  // A one-deployment route `model` -> provider/upstream_model with a new credential; returns
  // the credential.
  storage::Credential routeTo(const std::string& tenant_id,
                              const std::string& model,
                              const std::string& provider,
                              const std::string& upstream_model);
  // Issues an API key and returns the secret.
  std::string issueKey(const std::string& tenant_id, control::KeySpec spec = {});
  // Applies pending changes to the indexes now.
  void refresh();
  // The DNS TXT records the gateway's domain-ownership check finds at `name`. The table stands in
  // for DNS: a name never set here does not exist, so no test depends on the network.
  void setTxtRecords(const std::string& name, std::vector<std::string> records);

  // --- requests ---
  TestHttpClient client() const { return TestHttpClient("127.0.0.1", port()); }
  // POST /v1/chat/completions with a bearer key on host `<slug>.localhost` (or no Host override).
  HttpResult chat(const std::string& key,
                  const std::string& body,
                  const std::string& host = "",
                  HeaderList extra = {});
  static std::string simpleChat(const std::string& model,
                                const std::string& text = "Hello!",
                                bool stream = false);

 private:
  TempDir dir_;
  std::string data_dir_;
  std::shared_ptr<MemoryLogSink> logs_;
  struct TxtTable {
    std::mutex mu;  // guards records (lookups run on the gateway's blocking pool)
    std::map<std::string, std::vector<std::string>> records;
  };
  std::shared_ptr<TxtTable> txt_ = std::make_shared<TxtTable>();
  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<app::Gateway> gateway_;
  std::thread waiter_;
  bool stopped_ = false;
};

}  // namespace livery::testing
