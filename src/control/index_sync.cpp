#include "control/index_sync.hpp"

#include <set>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "crypto/dek_cache.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "tenancy/key_index.hpp"

namespace livery::control {

namespace {

constexpr std::size_t kPage = 5000;

// Operator defaults first, then the tenant's own routes (a tenant route overrides a default of
// the same model).
void mergeRoutes(tenancy::TenantState& st,
                 const std::vector<storage::Route>& defaults,
                 const std::vector<storage::Route>& own) {
  st.routes.clear();
  for (const auto& r : defaults) {
    st.routes[r.model] = r;
  }
  for (const auto& r : own) {
    st.routes[r.model] = r;
  }
}

bool keyActive(const storage::ApiKey& k, storage::Millis now) {
  return k.revoked_at == 0 && (k.expires_at == 0 || k.expires_at > now);
}

}  // namespace

IndexSync::IndexSync(storage::Stores& stores,
                     tenancy::TenantDirectory& directory,
                     tenancy::KeyIndex& keys,
                     crypto::DekCache* dek_cache,
                     const Clock& clock,
                     Logger& log)
    : stores_(stores),
      directory_(directory),
      keys_(keys),
      dek_cache_(dek_cache),
      clock_(clock),
      log_(log) {}

IndexSync::~IndexSync() {
  stop();
}

Result<void> IndexSync::reloadShared() {
  auto plans = stores_.plans.list();
  if (!plans) {
    return plans.error();
  }
  std::vector<storage::Route> defaults;
  auto own = stores_.routes.list("");  // operator defaults have an empty tenant id
  if (!own) {
    return own.error();
  }
  defaults = std::move(*own);
  std::lock_guard lock(shared_mu_);
  plans_.clear();
  for (auto& p : *plans) {
    plans_.emplace(p.id, std::move(p));
  }
  default_routes_ = std::move(defaults);
  return {};
}

Result<LoadStats> IndexSync::loadAll() {
  std::lock_guard poll_lock(poll_mu_);
  auto started = clock_.now();
  // Read the feed position first: anything committed after it is replayed by poll(), and
  // replaying a change is harmless (it rebuilds from the store).
  auto seq = stores_.changes.maxSeq();
  if (!seq) {
    return seq.error();
  }
  if (auto r = reloadShared(); !r) {
    return r.error();
  }
  std::map<std::string, storage::Plan, std::less<>> plans;
  std::vector<storage::Route> defaults;
  {
    std::lock_guard lock(shared_mu_);
    plans = plans_;
    defaults = default_routes_;
  }

  std::unordered_map<std::string, std::shared_ptr<tenancy::TenantState>> states;
  LoadStats stats;
  storage::Page page{.limit = kPage};
  for (;;) {
    auto batch = stores_.tenants.list(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().id;
    for (auto& t : *batch) {
      auto st = std::make_shared<tenancy::TenantState>();
      auto plan = plans.find(t.plan_id);
      const storage::Plan* p = plan == plans.end() ? nullptr : &plan->second;
      st->limits = tenancy::effectiveLimits(p, t.overrides);
      if (p != nullptr) {
        st->features = p->features;
      }
      st->branding.tenant_id = t.id;
      st->branding.display_name = t.display_name;
      std::string id = t.id;
      st->tenant = std::move(t);
      states.emplace(std::move(id), std::move(st));
    }
  }
  auto attach = [&](const std::string& tenant_id) -> tenancy::TenantState* {
    auto it = states.find(tenant_id);
    return it == states.end() ? nullptr : it->second.get();
  };
  // Credentials.
  page = {.limit = kPage};
  for (;;) {
    auto batch = stores_.credentials.listAll(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().id;
    for (auto& c : *batch) {
      if (auto* st = attach(c.tenant_id)) {
        ++stats.credentials;
        std::string id = c.id;
        st->credentials.emplace(std::move(id), std::move(c));
      }
    }
  }
  // Routes: defaults first, then each tenant's own.
  std::unordered_map<std::string, std::vector<storage::Route>> own_routes;
  std::string after_tenant;
  std::string after_model;
  for (;;) {
    auto batch = stores_.routes.listAll(kPage, after_tenant, after_model);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    after_tenant = batch->back().tenant_id;
    after_model = batch->back().model;
    for (auto& r : *batch) {
      if (!r.tenant_id.empty()) {
        own_routes[r.tenant_id].push_back(std::move(r));
      }
    }
  }
  for (auto& [id, st] : states) {
    auto it = own_routes.find(id);
    mergeRoutes(*st, defaults, it == own_routes.end() ? std::vector<storage::Route>{} : it->second);
  }
  // Domains (active ones serve traffic), branding, active prompts, JWT keys.
  page = {.limit = kPage};
  for (;;) {
    auto batch = stores_.domains.listAll(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().host;
    for (auto& d : *batch) {
      if (auto* st = attach(d.tenant_id);
          st != nullptr && d.status == storage::DomainStatus::kActive) {
        st->domains.push_back(d.host);
      }
    }
  }
  page = {.limit = kPage};
  for (;;) {
    auto batch = stores_.branding.listAll(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().tenant_id;
    for (auto& b : *batch) {
      if (auto* st = attach(b.tenant_id)) {
        if (b.display_name.empty()) {
          b.display_name = st->tenant.display_name;
        }
        st->branding = std::move(b);
      }
    }
  }
  page = {.limit = kPage};
  for (;;) {
    auto batch = stores_.prompts.listActiveAll(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().tenant_id;
    for (auto& p : *batch) {
      if (auto* st = attach(p.tenant_id)) {
        st->active_prompt = std::make_shared<const storage::PromptVersion>(std::move(p));
      }
    }
  }
  page = {.limit = kPage};
  for (;;) {
    auto batch = stores_.jwt_keys.listAll(page);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    page.after = batch->back().id;
    for (auto& k : *batch) {
      if (auto* st = attach(k.tenant_id)) {
        st->jwt_keys.push_back(std::move(k));
      }
    }
  }
  for (auto& [id, st] : states) {
    directory_.put(std::move(st));
  }
  stats.tenants = states.size();
  states.clear();

  // Keys: streamed, one page at a time, straight into the index.
  auto now = clock_.unixMillis();
  auto loaded = stores_.api_keys.forEachActive([&](storage::ApiKey&& k) {
    if (keyActive(k, now)) {
      if (k.limits.monthly_token_quota != 0) {
        stats.keys_with_quota.emplace_back(k.tenant_id, k.id);
      }
      keys_.put(tenancy::toKeyHash(k.hash), tenancy::keyEntryFrom(k));
      ++stats.keys;
    }
    return true;
  });
  if (!loaded) {
    return loaded.error();
  }
  last_seq_.store(*seq, std::memory_order_relaxed);
  stats.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started);
  LIVERY_LOG(log_,
             Info,
             "indexes_loaded",
             {"tenants", stats.tenants},
             {"keys", stats.keys},
             {"credentials", stats.credentials},
             {"took_ms", stats.took.count()});
  return stats;
}

Result<void> IndexSync::refreshTenant(std::string_view tenant_id) {
  std::lock_guard refresh_lock(refresh_mu_);
  auto tenant = stores_.tenants.get(tenant_id);
  if (!tenant) {
    if (tenant.error().code == ErrorCode::kNotFound) {
      directory_.remove(tenant_id);
      keys_.removeTenant(std::string(tenant_id));
      if (dek_cache_ != nullptr) {
        dek_cache_->invalidateTenant(tenant_id);
      }
      return {};
    }
    return tenant.error();
  }
  auto st = std::make_shared<tenancy::TenantState>();
  std::vector<storage::Route> defaults;
  {
    std::lock_guard lock(shared_mu_);
    auto plan = plans_.find(tenant->plan_id);
    const storage::Plan* p = plan == plans_.end() ? nullptr : &plan->second;
    st->limits = tenancy::effectiveLimits(p, tenant->overrides);
    if (p != nullptr) {
      st->features = p->features;
    }
    defaults = default_routes_;
  }
  auto branding = stores_.branding.get(tenant_id);
  if (branding) {
    st->branding = std::move(*branding);
  } else if (branding.error().code == ErrorCode::kNotFound) {
    st->branding.tenant_id = tenant->id;
  } else {
    return branding.error();
  }
  if (st->branding.display_name.empty()) {
    st->branding.display_name = tenant->display_name;
  }
  if (!tenant->active_prompt_id.empty()) {
    auto pv = stores_.prompts.get(tenant_id, tenant->active_prompt_id);
    if (!pv) {
      return pv.error();
    }
    st->active_prompt = std::make_shared<const storage::PromptVersion>(std::move(*pv));
  }
  auto routes = stores_.routes.list(tenant_id);
  if (!routes) {
    return routes.error();
  }
  mergeRoutes(*st, defaults, *routes);
  auto creds = stores_.credentials.list(tenant_id);
  if (!creds) {
    return creds.error();
  }
  for (auto& c : *creds) {
    std::string id = c.id;
    st->credentials.emplace(std::move(id), std::move(c));
  }
  auto jwt = stores_.jwt_keys.list(tenant_id);
  if (!jwt) {
    return jwt.error();
  }
  st->jwt_keys = std::move(*jwt);
  auto domains = stores_.domains.list(tenant_id);
  if (!domains) {
    return domains.error();
  }
  for (const auto& d : *domains) {
    if (d.status == storage::DomainStatus::kActive) {
      st->domains.push_back(d.host);
    }
  }
  st->tenant = std::move(*tenant);
  directory_.put(std::move(st));
  return {};
}

Result<void> IndexSync::refreshKey(std::string_view tenant_id, std::string_view key_id) {
  std::lock_guard refresh_lock(refresh_mu_);
  auto key = stores_.api_keys.get(tenant_id, key_id);
  if (!key) {
    return key.error().code == ErrorCode::kNotFound ? Result<void>{} : Result<void>(key.error());
  }
  auto hash = tenancy::toKeyHash(key->hash);
  if (keyActive(*key, clock_.unixMillis()) && directory_.byId(key->tenant_id) != nullptr) {
    keys_.put(hash, tenancy::keyEntryFrom(*key));
  } else {
    keys_.remove(hash);  // revoked or expired: refused on the next request
  }
  return {};
}

Result<void> IndexSync::refreshTenantsOnPlan(std::string_view plan_id) {
  std::vector<std::string> ids;
  directory_.forEach([&](const tenancy::TenantStatePtr& st) {
    if (st->tenant.plan_id == plan_id) {
      ids.push_back(st->tenant.id);
    }
  });
  for (const auto& id : ids) {
    if (auto r = refreshTenant(id); !r) {
      return r;
    }
  }
  return {};
}

Result<void> IndexSync::refreshAllTenants() {
  std::vector<std::string> ids;
  directory_.forEach([&](const tenancy::TenantStatePtr& st) { ids.push_back(st->tenant.id); });
  for (const auto& id : ids) {
    if (auto r = refreshTenant(id); !r) {
      return r;
    }
  }
  return {};
}

Result<std::size_t> IndexSync::poll() {
  std::lock_guard poll_lock(poll_mu_);
  std::size_t applied = 0;
  for (;;) {
    auto changes = stores_.changes.since(last_seq_.load(std::memory_order_relaxed), 1000);
    if (!changes) {
      return changes.error();
    }
    if (changes->empty()) {
      return applied;
    }
    std::set<std::string> tenants;
    std::vector<std::pair<std::string, std::string>> key_changes;  // applied after tenants
    bool shared_changed = false;
    bool defaults_changed = false;
    std::set<std::string> plans_changed;
    for (const auto& c : *changes) {
      if (c.kind == "plan") {
        shared_changed = true;
        plans_changed.insert(c.entity_id);
      } else if (c.kind == "route" && c.tenant_id.empty()) {
        shared_changed = true;
        defaults_changed = true;
      } else if (c.kind == "api_key") {
        key_changes.emplace_back(c.tenant_id, c.entity_id);
      } else if (!c.tenant_id.empty()) {
        tenants.insert(c.tenant_id);
        if (c.kind == "credential" && dek_cache_ != nullptr) {
          dek_cache_->invalidateCredential(c.tenant_id, c.entity_id);
        }
      } else if (c.kind == "tenant") {
        tenants.insert(c.entity_id);
      }
    }
    if (shared_changed) {
      if (auto r = reloadShared(); !r) {
        return r.error();
      }
    }
    if (defaults_changed) {
      if (auto r = refreshAllTenants(); !r) {
        return r.error();
      }
    } else {
      for (const auto& plan : plans_changed) {
        if (auto r = refreshTenantsOnPlan(plan); !r) {
          return r.error();
        }
      }
    }
    for (const auto& t : tenants) {
      if (auto r = refreshTenant(t); !r) {
        return r.error();
      }
    }
    for (const auto& [tenant, key] : key_changes) {
      if (auto r = refreshKey(tenant, key); !r) {
        return r.error();
      }
    }
    applied += changes->size();
    last_seq_.store(changes->back().seq, std::memory_order_relaxed);
  }
}

void IndexSync::start(std::chrono::milliseconds interval, std::chrono::milliseconds full_resync) {
  if (thread_.joinable()) {
    return;
  }
  thread_ = std::thread([this, interval, full_resync] {
    nameThisThread("lv-index-sync");
    auto next_full = clock_.now() + full_resync;
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      thread_cv_.wait_for(lock, interval, [this] { return stopping_; });
      if (stopping_) {
        break;
      }
      lock.unlock();
      if (auto r = poll(); !r) {
        LIVERY_LOG(
            log_,
            Warn,
            "index_sync_failed",
            {"error",
             r.error().log_detail.empty() ? r.error().client_message : r.error().log_detail});
      }
      if (full_resync.count() > 0 && clock_.now() >= next_full) {
        next_full = clock_.now() + full_resync;
        if (auto r = refreshAllTenants(); !r) {
          LIVERY_LOG(log_, Warn, "index_resync_failed", {"error", r.error().client_message});
        }
      }
      lock.lock();
    }
  });
}

void IndexSync::stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  thread_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace livery::control
