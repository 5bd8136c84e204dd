#include "support/gateway_harness.hpp"

#include <stdexcept>

#include "control/index_sync.hpp"
#include "support/must.hpp"

namespace livery::testing {

GatewayHarness::GatewayHarness(Tweak tweak, FakeUpstreamOptions upstream, const Clock* clock)
    : logs_(std::make_shared<MemoryLogSink>()) {
  upstream_ = std::make_unique<FakeUpstream>(std::move(upstream));
  data_dir_ = dir_.file("data");
  config::Config cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.data_dir = data_dir_;
  cfg.threads = 2;
  cfg.http.base_domain = "localhost";
  // Every loopback port: tests may start more fake providers (one per provider flavour).
  cfg.upstream.allow_http_hosts = {"127.0.0.1"};
  cfg.upstream.allow_private_hosts = {"127.0.0.1"};
  cfg.upstream.connect_timeout = std::chrono::seconds(2);
  cfg.sync.poll_interval = std::chrono::milliseconds(50);
  cfg.storage.sqlite_synchronous = "normal";  // tests do not need fsync per batch
  cfg.http.drain_timeout = std::chrono::seconds(5);
  if (tweak) {
    tweak(cfg);
  }
  auto txt_lookup = [txt = txt_](const std::string& name) -> Result<std::vector<std::string>> {
    std::lock_guard lock(txt->mu);
    auto it = txt->records.find(name);
    return it == txt->records.end() ? std::vector<std::string>{} : it->second;
  };
  gateway_ = std::make_unique<app::Gateway>(
      std::move(cfg),
      app::GatewayOptions{.log_sink = logs_, .clock = clock, .txt_lookup = txt_lookup});
  gateway_->start();
  waiter_ = std::thread([g = gateway_.get()] { g->wait(); });
}

GatewayHarness::~GatewayHarness() {
  stop();
}

void GatewayHarness::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  gateway_->requestStop();
  if (waiter_.joinable()) {
    waiter_.join();
  }
}

void GatewayHarness::setTxtRecords(const std::string& name, std::vector<std::string> records) {
  std::lock_guard lock(txt_->mu);
  txt_->records[name] = std::move(records);
}

storage::Plan GatewayHarness::createPlan(const std::string& id,
                                         std::uint64_t monthly_quota,
                                         std::uint32_t rpm,
                                         std::uint32_t tpm) {
  storage::Plan p;
  p.id = id;
  p.name = id;
  p.monthly_token_quota = monthly_quota;
  p.rpm = rpm;
  p.tpm = tpm;
  auto created = must(gateway_->control().createPlan(control::Actor::cli(), p), "createPlan");
  refresh();
  return created;
}

storage::Tenant GatewayHarness::createTenant(const std::string& slug, const std::string& plan_id) {
  auto t = must(gateway_->control().createTenant(control::Actor::cli(), {slug, slug, plan_id}),
                "createTenant");
  refresh();
  return t;
}

std::string GatewayHarness::baseUrlFor(const std::string& provider) const {
  auto base = upstream_->baseUrl();
  if (provider == "openai" || provider == "openai_compatible") {
    return base + "/v1";
  }
  return base;
}

storage::Credential GatewayHarness::addCredential(const std::string& tenant_id,
                                                  const std::string& provider,
                                                  const std::string& key,
                                                  const std::string& label,
                                                  std::string base_url,
                                                  std::string options_json) {
  control::CredentialSpec spec;
  spec.provider = provider;
  spec.label = label.empty() ? provider : label;
  spec.base_url = base_url.empty() ? baseUrlFor(provider) : std::move(base_url);
  spec.options_json = std::move(options_json);
  auto secret = SecretBytes::copyOf(std::string_view(key));
  auto c = must(gateway_->control().addCredential(control::Actor::cli(), tenant_id, spec, secret),
                "addCredential");
  refresh();
  return c;
}

void GatewayHarness::setRoute(const std::string& tenant_id,
                              const std::string& model,
                              std::vector<storage::Deployment> deployments) {
  must(
      gateway_->control().setRoute(control::Actor::cli(), tenant_id, model, std::move(deployments)),
      "setRoute");
  refresh();
}

storage::Credential GatewayHarness::routeTo(const std::string& tenant_id,
                                            const std::string& model,
                                            const std::string& provider,
                                            const std::string& upstream_model) {
  std::string key = provider == "anthropic" ? "sk-ant-fake-anthropic-key"
                    : provider == "azure"   ? "fake-azure-key"
                    : provider == "ollama"  ? ""
                                            : "sk-fake-openai-key";
  auto cred = addCredential(tenant_id, provider, key.empty() ? "ollama-none" : key);
  storage::Deployment d;
  d.provider = provider;
  d.model = upstream_model;
  d.credential_id = cred.id;
  setRoute(tenant_id, model, {d});
  return cred;
}

std::string GatewayHarness::issueKey(const std::string& tenant_id, control::KeySpec spec) {
  if (spec.name.empty()) {
    spec.name = "test";
  }
  auto issued =
      must(gateway_->control().issueApiKey(control::Actor::cli(), tenant_id, spec), "issueApiKey");
  refresh();
  return std::string(issued.secret.reveal());
}

void GatewayHarness::refresh() {
  must(gateway_->sync().poll(), "poll");
}

HttpResult GatewayHarness::chat(const std::string& key,
                                const std::string& body,
                                const std::string& host,
                                HeaderList extra) {
  HeaderList headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
  if (!host.empty()) {
    headers.emplace_back("Host", host);
  }
  for (auto& h : extra) {
    headers.push_back(std::move(h));
  }
  return client().post("/v1/chat/completions", body, headers);
}

std::string GatewayHarness::simpleChat(const std::string& model,
                                       const std::string& text,
                                       bool stream) {
  std::string body =
      R"({"model":")" + model + R"(","messages":[{"role":"user","content":")" + text + R"("}])";
  if (stream) {
    body += R"(,"stream":true)";
  }
  return body + "}";
}

}  // namespace livery::testing
