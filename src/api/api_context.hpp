#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/net.hpp"

namespace livery {
class Clock;
class Logger;
class MetricsRegistry;
}  // namespace livery
namespace livery::config {
struct Config;
}
namespace livery::storage {
struct Stores;
}
namespace livery::control {
class ControlPlane;
class IndexSync;
}  // namespace livery::control
namespace livery::crypto {
class KeyHasher;
class PasswordHasher;
class Vault;
class RandomSource;
}  // namespace livery::crypto
namespace livery::tenancy {
class TenantDirectory;
}
namespace livery::upstream {
class Client;
class Resolver;
}  // namespace livery::upstream
namespace livery::providers {
class ProviderRegistry;
}
namespace livery::metering {
class UsageFeed;
class Ledger;
}  // namespace livery::metering
namespace livery::limits {
class Limiter;
}
namespace livery::pipeline {
class JwtAuthenticator;
}
namespace livery::whitelabel {
class HostResolver;
class PromptCache;
}  // namespace livery::whitelabel

namespace livery::api {

// DNS TXT lookup for the custom-domain ownership check: the records at `name`, each with its
// character-strings joined; empty when the name has none or does not exist; kUnavailable when
// the lookup itself failed. Blocking: called on the blocking pool. Production uses the system
// resolver (api::lookupTxtRecords); tests inject a table.
using TxtLookup = std::function<Result<std::vector<std::string>>(const std::string& name)>;

// Everything the control-plane HTTP handlers (operator, tenant console, workspace, public pages)
// use, by reference. Built by app/gateway.cpp; every referenced object outlives the router.
// Store and control-plane calls block: handlers run them through offload(blocking, …) and then
// refresh the indexes of this node (sync.refreshTenant / refreshKey) so the next request sees
// the change. Per-thread objects (upstream clients) are indexed by Exchange::worker.
struct ApiContext {
  const config::Config& cfg;
  const Clock& clock;
  Logger& log;
  MetricsRegistry& metrics;
  net::thread_pool& blocking;
  storage::Stores& stores;
  control::ControlPlane& control;
  control::IndexSync& sync;
  tenancy::TenantDirectory& tenants;
  const crypto::KeyHasher& hasher;
  const crypto::PasswordHasher& passwords;
  crypto::Vault& vault;
  crypto::RandomSource& random;
  const providers::ProviderRegistry& providers;
  std::vector<upstream::Client*> upstream_clients;  // one per I/O thread
  upstream::Resolver& resolver;
  metering::UsageFeed& feed;
  metering::Ledger& ledger;
  limits::Limiter& limiter;
  const whitelabel::HostResolver& hosts;
  whitelabel::PromptCache& prompt_cache;
  pipeline::JwtAuthenticator& jwt;  // tenant-signed JWTs (workspace hand-off)
  TxtLookup txt_lookup;
};

}  // namespace livery::api
