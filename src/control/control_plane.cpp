#include "control/control_plane.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "crypto/api_key.hpp"
#include "crypto/random.hpp"
#include "crypto/vault.hpp"
#include "storage/codec.hpp"
#include "storage/stores.hpp"

namespace livery::control {

namespace json = boost::json;

namespace {

std::string detailsJson(json::object o) {
  return json::serialize(o);
}

Result<void> validateSlug(std::string_view slug) {
  if (slug.size() < 2 || slug.size() > 40 || slug.front() == '-' || slug.back() == '-') {
    return Error{ErrorCode::kBadRequest,
                 "slug must be 2 to 40 characters, not starting or "
                 "ending with '-'"}
        .withParam("slug");
  }
  for (char c : slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Error{ErrorCode::kBadRequest,
                   "slug may contain only lower-case letters, digits and '-'"}
          .withParam("slug");
    }
  }
  return {};
}

Result<void> validateName(std::string_view field, std::string_view value, std::size_t max) {
  if (value.empty() || value.size() > max) {
    return Error{ErrorCode::kBadRequest, fmt::format("'{}' must be 1 to {} characters", field, max)}
        .withParam(std::string(field));
  }
  if (std::any_of(value.begin(), value.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      })) {
    return Error{ErrorCode::kBadRequest,
                 fmt::format("'{}' must not contain control characters", field)}
        .withParam(std::string(field));
  }
  return {};
}

constexpr std::string_view kProviders[] = {
    "openai", "azure", "anthropic", "ollama", "openai_compatible"};

bool knownProvider(std::string_view p) {
  return std::find(std::begin(kProviders), std::end(kProviders), p) != std::end(kProviders);
}

}  // namespace

std::string Actor::describe() const {
  if (id.empty()) {
    return kind;
  }
  return kind + ":" + id;
}

ControlPlane::ControlPlane(storage::Stores& stores,
                           crypto::Vault& vault,
                           const crypto::KeyHasher& hasher,
                           crypto::RandomSource& random,
                           const Clock& clock,
                           Logger& log)
    : stores_(stores), vault_(vault), hasher_(hasher), random_(random), clock_(clock), log_(log) {}

Result<void> ControlPlane::audit(const Actor& actor,
                                 std::string_view tenant_id,
                                 std::string_view action,
                                 std::string details_json) {
  storage::AuditEntry e;
  e.actor = actor.describe();
  e.tenant_id = std::string(tenant_id);
  e.action = std::string(action);
  e.details_json = std::move(details_json);
  auto r = stores_.audit.append(std::move(e));
  if (!r) {
    // The change itself is committed; a lost audit line is logged loudly rather than undoing it.
    LIVERY_LOG(
        log_, Error, "audit_append_failed", {"action", action}, {"error", r.error().log_detail});
    return r.error();
  }
  return {};
}

Result<storage::Tenant> ControlPlane::requireTenant(std::string_view tenant_id) {
  return stores_.tenants.get(tenant_id);
}

Result<storage::Tenant> ControlPlane::findTenant(std::string_view id_or_slug) {
  if (id_or_slug.starts_with("tnt_")) {
    return stores_.tenants.get(id_or_slug);
  }
  return stores_.tenants.getBySlug(id_or_slug);
}

// ---- plans ------------------------------------------------------------------------------------

Result<storage::Plan> ControlPlane::createPlan(const Actor& actor, storage::Plan plan) {
  if (auto r = validateSlug(plan.id); !r) {
    return Error{ErrorCode::kBadRequest,
                 "plan id must be 2 to 40 lower-case letters, digits or '-'"}
        .withParam("id");
  }
  if (plan.name.empty()) {
    plan.name = plan.id;
  }
  if (auto r = validateName("name", plan.name, 120); !r) {
    return r.error();
  }
  auto created = stores_.plans.insert(std::move(plan));
  if (!created) {
    return created.error();
  }
  audit(actor,
        "",
        "plan.created",
        detailsJson({{"plan_id", created->id},
                     {"monthly_token_quota", created->monthly_token_quota},
                     {"rpm", created->rpm},
                     {"tpm", created->tpm}}));
  return created;
}

Result<storage::Plan> ControlPlane::updatePlan(const Actor& actor, storage::Plan plan) {
  if (auto r = validateName("name", plan.name, 120); !r) {
    return r.error();
  }
  auto updated = stores_.plans.update(plan);
  if (!updated) {
    return updated.error();
  }
  audit(actor,
        "",
        "plan.updated",
        detailsJson({{"plan_id", updated->id},
                     {"monthly_token_quota", updated->monthly_token_quota},
                     {"rpm", updated->rpm},
                     {"tpm", updated->tpm}}));
  return updated;
}

Result<void> ControlPlane::deletePlan(const Actor& actor, std::string_view id) {
  auto r = stores_.plans.remove(id);
  if (!r) {
    return r;
  }
  audit(actor, "", "plan.deleted", detailsJson({{"plan_id", id}}));
  return {};
}

// ---- tenants ----------------------------------------------------------------------------------

Result<storage::Tenant> ControlPlane::createTenant(const Actor& actor, TenantSpec spec) {
  if (auto r = validateSlug(spec.slug); !r) {
    return r.error();
  }
  if (spec.display_name.empty()) {
    spec.display_name = spec.slug;
  }
  if (auto r = validateName("display_name", spec.display_name, 120); !r) {
    return r.error();
  }
  if (!spec.plan_id.empty()) {
    if (auto p = stores_.plans.get(spec.plan_id); !p) {
      return Error{ErrorCode::kBadRequest, fmt::format("no plan '{}'", spec.plan_id)}.withParam(
          "plan_id");
    }
  }
  storage::Tenant t;
  t.slug = spec.slug;
  t.display_name = spec.display_name;
  t.plan_id = spec.plan_id;
  auto created = stores_.tenants.create(std::move(t));
  if (!created) {
    if (created.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, fmt::format("the slug '{}' is taken", spec.slug)}
          .withParam("slug");
    }
    return created.error();
  }
  audit(actor,
        created->id,
        "tenant.created",
        detailsJson({{"slug", created->slug}, {"plan_id", created->plan_id}}));
  return created;
}

Result<storage::Tenant> ControlPlane::updateTenant(const Actor& actor,
                                                   std::string_view tenant_id,
                                                   const TenantPatch& patch) {
  auto t = requireTenant(tenant_id);
  if (!t) {
    return t.error();
  }
  json::object changed;
  if (patch.display_name) {
    if (auto r = validateName("display_name", *patch.display_name, 120); !r) {
      return r.error();
    }
    t->display_name = *patch.display_name;
    changed["display_name"] = *patch.display_name;
  }
  if (patch.plan_id) {
    if (!patch.plan_id->empty()) {
      if (auto p = stores_.plans.get(*patch.plan_id); !p) {
        return Error{ErrorCode::kBadRequest, fmt::format("no plan '{}'", *patch.plan_id)}.withParam(
            "plan_id");
      }
    }
    t->plan_id = *patch.plan_id;
    changed["plan_id"] = *patch.plan_id;
  }
  if (patch.overrides) {
    t->overrides = *patch.overrides;
    changed["overrides"] = true;
  }
  if (patch.mock_response_enabled) {
    t->mock_response_enabled = *patch.mock_response_enabled;
    changed["mock_response_enabled"] = *patch.mock_response_enabled;
  }
  if (patch.webhook_url) {
    t->webhook_url = *patch.webhook_url;
    changed["webhook_url_set"] = !patch.webhook_url->empty();
  }
  auto updated = stores_.tenants.update(*t, t->revision);
  if (!updated) {
    return updated.error();
  }
  audit(actor, updated->id, "tenant.updated", detailsJson(std::move(changed)));
  return updated;
}

Result<storage::Tenant> ControlPlane::suspendTenant(const Actor& actor,
                                                    std::string_view tenant_id,
                                                    std::string_view reason) {
  auto t = stores_.tenants.suspend(tenant_id, reason);
  if (!t) {
    return t.error();
  }
  audit(actor, t->id, "tenant.suspended", detailsJson({{"reason", reason}}));
  return t;
}

Result<storage::Tenant> ControlPlane::resumeTenant(const Actor& actor, std::string_view tenant_id) {
  auto t = stores_.tenants.resume(tenant_id);
  if (!t) {
    return t.error();
  }
  audit(actor, t->id, "tenant.resumed", "{}");
  return t;
}

Result<void> ControlPlane::deleteTenant(const Actor& actor, std::string_view tenant_id) {
  auto t = requireTenant(tenant_id);
  if (!t) {
    return t.error();
  }
  if (auto r = stores_.tenants.remove(tenant_id); !r) {
    return r;
  }
  audit(actor, tenant_id, "tenant.deleted", detailsJson({{"slug", t->slug}}));
  return {};
}

// ---- operator tokens --------------------------------------------------------------------------

Result<Issued<storage::OperatorToken>> ControlPlane::createOperatorToken(const Actor& actor,
                                                                         std::string_view name) {
  if (auto r = validateName("name", name, 120); !r) {
    return r.error();
  }
  auto secret = crypto::api_key::generate(crypto::TokenKind::kOperator, random_);
  if (!secret) {
    return secret.error();
  }
  auto digest = hasher_.hash(secret->reveal());
  if (!digest) {
    return digest.error();
  }
  storage::OperatorToken t;
  t.name = std::string(name);
  t.hash.assign(digest->begin(), digest->end());
  auto stored = stores_.operator_tokens.insert(std::move(t));
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        "",
        "operator_token.created",
        detailsJson({{"token_id", stored->id}, {"name", stored->name}}));
  return Issued<storage::OperatorToken>{std::move(*stored), std::move(*secret)};
}

Result<void> ControlPlane::revokeOperatorToken(const Actor& actor, std::string_view id) {
  if (auto r = stores_.operator_tokens.revoke(id); !r) {
    return r;
  }
  audit(actor, "", "operator_token.revoked", detailsJson({{"token_id", id}}));
  return {};
}

Result<std::optional<Issued<storage::OperatorToken>>> ControlPlane::bootstrapOperatorToken() {
  auto existing = stores_.operator_tokens.list();
  if (!existing) {
    return existing.error();
  }
  if (!existing->empty()) {
    return std::optional<Issued<storage::OperatorToken>>{};
  }
  auto issued = createOperatorToken(Actor::system(), "bootstrap");
  if (!issued) {
    return issued.error();
  }
  return std::optional<Issued<storage::OperatorToken>>(std::move(*issued));
}

Result<storage::OperatorToken> ControlPlane::authenticateOperator(std::string_view token) {
  auto parsed = crypto::api_key::parse(token);
  if (!parsed || parsed->kind != crypto::TokenKind::kOperator) {
    return Error{ErrorCode::kUnauthenticated, "Invalid operator token."}.withCode(
        "invalid_api_key");
  }
  auto digest = hasher_.hash(token);
  if (!digest) {
    return digest.error();
  }
  auto t = stores_.operator_tokens.getByHash(*digest);
  if (!t || t->revoked_at != 0) {
    return Error{ErrorCode::kUnauthenticated, "Invalid operator token."}.withCode(
        "invalid_api_key");
  }
  (void)stores_.operator_tokens.touchLastUsed(t->id, clock_.unixMillis());
  return t;
}

// ---- API keys ---------------------------------------------------------------------------------

Result<Issued<storage::ApiKey>> ControlPlane::issueApiKey(const Actor& actor,
                                                          std::string_view tenant_id,
                                                          KeySpec spec) {
  auto tenant = requireTenant(tenant_id);
  if (!tenant) {
    return tenant.error();
  }
  if (auto r = validateName("name", spec.name, 120); !r) {
    return r.error();
  }
  if (spec.environment != "live" && spec.environment != "test") {
    return Error{ErrorCode::kBadRequest, "environment must be live or test"}.withParam(
        "environment");
  }
  if (spec.expires_at != 0 && spec.expires_at <= clock_.unixMillis()) {
    return Error{ErrorCode::kBadRequest, "expires_at must be in the future"}.withParam(
        "expires_at");
  }
  // The plan's key allowance (with the tenant's override).
  std::uint32_t max_keys = 0;
  if (!tenant->plan_id.empty()) {
    if (auto plan = stores_.plans.get(tenant->plan_id)) {
      max_keys = plan->max_api_keys;
    }
  }
  if (tenant->overrides.max_api_keys) {
    max_keys = *tenant->overrides.max_api_keys;
  }
  if (max_keys != 0) {
    auto active = stores_.api_keys.countActive(tenant_id);
    if (!active) {
      return active.error();
    }
    if (*active >= max_keys) {
      return Error{ErrorCode::kConflict,
                   fmt::format("the plan allows {} active API keys; revoke one first", max_keys)};
    }
  }
  auto kind = spec.environment == "test" ? crypto::TokenKind::kTest : crypto::TokenKind::kLive;
  auto secret = crypto::api_key::generate(kind, random_);
  if (!secret) {
    return secret.error();
  }
  auto digest = hasher_.hash(secret->reveal());
  if (!digest) {
    return digest.error();
  }
  storage::ApiKey k;
  k.tenant_id = std::string(tenant_id);
  k.name = std::move(spec.name);
  k.hash.assign(digest->begin(), digest->end());
  k.last4 = crypto::api_key::last4(secret->reveal());
  k.environment = spec.environment;
  k.scopes = std::move(spec.scopes);
  k.expires_at = spec.expires_at;
  k.limits = spec.limits;
  k.end_user = std::move(spec.end_user);
  auto stored = stores_.api_keys.insert(std::move(k));
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        tenant_id,
        "api_key.issued",
        detailsJson({{"key_id", stored->id}, {"name", stored->name}, {"last4", stored->last4}}));
  return Issued<storage::ApiKey>{std::move(*stored), std::move(*secret)};
}

Result<void> ControlPlane::revokeApiKey(const Actor& actor,
                                        std::string_view tenant_id,
                                        std::string_view key_id) {
  if (auto r = stores_.api_keys.revoke(tenant_id, key_id); !r) {
    return r;
  }
  audit(actor, tenant_id, "api_key.revoked", detailsJson({{"key_id", key_id}}));
  return {};
}

// ---- credentials ------------------------------------------------------------------------------

Result<storage::Credential> ControlPlane::addCredential(const Actor& actor,
                                                        std::string_view tenant_id,
                                                        CredentialSpec spec,
                                                        const SecretBytes& key) {
  if (auto t = requireTenant(tenant_id); !t) {
    return t.error();
  }
  if (!knownProvider(spec.provider) && spec.provider != "jwt-hs256") {
    return Error{ErrorCode::kBadRequest,
                 "provider must be one of openai, azure, anthropic, ollama, openai_compatible"}
        .withParam("provider");
  }
  if (spec.label.empty()) {
    spec.label = spec.provider;
  }
  if (auto r = validateName("label", spec.label, 120); !r) {
    return r.error();
  }
  if (key.empty() && spec.provider != "ollama") {
    return Error{ErrorCode::kBadRequest, "the key is empty"}.withParam("key");
  }
  if (key.size() > 8192) {
    return Error{ErrorCode::kBadRequest, "the key is too long"}.withParam("key");
  }
  storage::Credential c;
  c.id = randomId("cred");  // known before sealing: it is part of the ciphertext's binding
  c.tenant_id = std::string(tenant_id);
  c.provider = spec.provider;
  c.label = spec.label;
  c.base_url = spec.base_url;
  c.options_json = spec.options_json.empty() ? "{}" : spec.options_json;
  c.fingerprint = fingerprintOf(key.reveal());
  crypto::CredentialBinding who{c.tenant_id, c.id, c.provider};
  auto sealed = vault_.seal(who, key);
  if (!sealed) {
    return sealed.error();
  }
  c.envelope = std::move(*sealed);
  auto stored = stores_.credentials.insert(std::move(c));
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        tenant_id,
        "credential.added",
        detailsJson({{"credential_id", stored->id},
                     {"provider", stored->provider},
                     {"label", stored->label},
                     {"fingerprint", stored->fingerprint}}));
  return stored;
}

Result<storage::Credential> ControlPlane::replaceCredential(const Actor& actor,
                                                            std::string_view tenant_id,
                                                            std::string_view credential_id,
                                                            const SecretBytes& key) {
  auto c = stores_.credentials.get(tenant_id, credential_id);
  if (!c) {
    return c.error();
  }
  if (key.empty() && c->provider != "ollama") {
    return Error{ErrorCode::kBadRequest, "the key is empty"}.withParam("key");
  }
  crypto::CredentialBinding who{c->tenant_id, c->id, c->provider};
  auto sealed = vault_.seal(who, key);  // a fresh DEK: the old one is never reused
  if (!sealed) {
    return sealed.error();
  }
  auto expected = c->revision;
  c->envelope = std::move(*sealed);
  c->fingerprint = fingerprintOf(key.reveal());
  c->health = storage::CredentialHealth::kUnknown;
  c->health_detail.clear();
  auto stored = stores_.credentials.replace(*c, expected);
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        tenant_id,
        "credential.replaced",
        detailsJson({{"credential_id", stored->id}, {"fingerprint", stored->fingerprint}}));
  return stored;
}

Result<void> ControlPlane::deleteCredential(const Actor& actor,
                                            std::string_view tenant_id,
                                            std::string_view credential_id) {
  if (auto r = stores_.credentials.remove(tenant_id, credential_id); !r) {
    return r;
  }
  audit(actor, tenant_id, "credential.deleted", detailsJson({{"credential_id", credential_id}}));
  return {};
}

Result<SecretBytes> ControlPlane::openCredential(std::string_view tenant_id,
                                                 std::string_view credential_id) {
  auto c = stores_.credentials.get(tenant_id, credential_id);
  if (!c) {
    return c.error();
  }
  crypto::CredentialBinding who{c->tenant_id, c->id, c->provider};
  return vault_.open(who, c->envelope);
}

// ---- routes -----------------------------------------------------------------------------------

Result<storage::Route> ControlPlane::setRoute(const Actor& actor,
                                              std::string_view tenant_id,
                                              std::string_view model,
                                              std::vector<storage::Deployment> deployments) {
  if (model.empty() || model.size() > 128) {
    return Error{ErrorCode::kBadRequest, "model name must be 1 to 128 characters"}.withParam(
        "model");
  }
  if (deployments.empty() || deployments.size() > 16) {
    return Error{ErrorCode::kBadRequest, "a route needs 1 to 16 deployments"}.withParam(
        "deployments");
  }
  std::vector<std::string> names;
  for (auto& d : deployments) {
    if (!knownProvider(d.provider)) {
      return Error{ErrorCode::kBadRequest, fmt::format("unknown provider '{}'", d.provider)}
          .withParam("deployments");
    }
    if (d.name.empty()) {
      d.name = d.provider + ":" + d.model;
    }
    if (std::find(names.begin(), names.end(), d.name) != names.end()) {
      return Error{ErrorCode::kBadRequest,
                   fmt::format("deployment name '{}' is used twice", d.name)}
          .withParam("deployments");
    }
    names.push_back(d.name);
    if (!tenant_id.empty()) {
      // A tenant route may only use that tenant's own credentials.
      auto c = stores_.credentials.get(tenant_id, d.credential_id);
      if (!c) {
        return Error{
            ErrorCode::kBadRequest,
            fmt::format(
                "deployment '{}': no credential '{}' in this account", d.name, d.credential_id)}
            .withParam("deployments");
      }
      if (c->provider != d.provider) {
        return Error{ErrorCode::kBadRequest,
                     fmt::format("deployment '{}': credential '{}' is for {}, not {}",
                                 d.name,
                                 c->label,
                                 c->provider,
                                 d.provider)}
            .withParam("deployments");
      }
    }
  }
  storage::Route r;
  r.tenant_id = std::string(tenant_id);
  r.model = std::string(model);
  r.deployments = std::move(deployments);
  auto stored = stores_.routes.upsert(std::move(r));
  if (!stored) {
    return stored.error();
  }
  json::array ds;
  for (const auto& d : stored->deployments) {
    ds.emplace_back(d.name);
  }
  audit(actor, tenant_id, "route.set", detailsJson({{"model", model}, {"deployments", ds}}));
  return stored;
}

Result<void> ControlPlane::deleteRoute(const Actor& actor,
                                       std::string_view tenant_id,
                                       std::string_view model) {
  if (auto r = stores_.routes.remove(tenant_id, model); !r) {
    return r;
  }
  audit(actor, tenant_id, "route.deleted", detailsJson({{"model", model}}));
  return {};
}

// ---- KEK lifecycle ----------------------------------------------------------------------------

Result<std::vector<KekVersionReport>> ControlPlane::kekStatus() {
  auto& kms = vault_.kms();
  auto versions = kms.versions();
  if (!versions) {
    return versions.error();
  }
  crypto::KekRowCounts counts;
  for (const auto& v : *versions) {
    auto n = stores_.credentials.countByKek(kms.kekId(), v.version);
    if (!n) {
      return n.error();
    }
    counts[{std::string(kms.kekId()), v.version}] = *n;
  }
  auto status = vault_.kekStatus(counts);
  if (!status) {
    return status.error();
  }
  std::vector<KekVersionReport> out;
  for (const auto& s : *status) {
    out.push_back({s.kek_id, s.version, s.held, s.current, s.rows, s.retirable});
  }
  return out;
}

Result<std::uint32_t> ControlPlane::rotateKek(const Actor& actor) {
  auto v = vault_.kms().rotate();
  if (!v) {
    return v.error();
  }
  audit(actor, "", "kek.rotated", detailsJson({{"kek_id", vault_.kms().kekId()}, {"version", *v}}));
  return v;
}

Result<RewrapProgress> ControlPlane::rewrapAll(
    const Actor& actor, const std::function<void(const RewrapProgress&)>& progress) {
  auto current = vault_.kms().currentVersion();
  if (!current) {
    return current.error();
  }
  RewrapProgress p;
  std::string after;
  for (;;) {
    auto batch = stores_.credentials.listByKekVersionBelow(*current, 200, after);
    if (!batch) {
      return batch.error();
    }
    if (batch->empty()) {
      break;
    }
    after = batch->back().id;
    for (const auto& c : *batch) {
      crypto::CredentialBinding who{c.tenant_id, c.id, c.provider};
      auto rewrapped = vault_.rewrap(who, c.envelope);
      if (!rewrapped) {
        return rewrapped.error();
      }
      auto swapped = stores_.credentials.casUpdateEnvelope(c.id, c.revision, *rewrapped);
      if (!swapped) {
        if (swapped.error().code == ErrorCode::kConflict) {
          ++p.skipped;  // replaced meanwhile: its new envelope is already current
          continue;
        }
        return swapped.error();
      }
      ++p.rewrapped;
    }
    if (progress) {
      progress(p);
    }
  }
  std::uint64_t remaining = 0;
  auto versions = vault_.kms().versions();
  if (versions) {
    for (const auto& v : *versions) {
      if (v.version < *current) {
        auto n = stores_.credentials.countByKek(vault_.kms().kekId(), v.version);
        if (n) {
          remaining += *n;
        }
      }
    }
  }
  p.remaining = remaining;
  audit(
      actor,
      "",
      "kek.rewrapped",
      detailsJson({{"rewrapped", p.rewrapped}, {"remaining", p.remaining}, {"version", *current}}));
  return p;
}

Result<void> ControlPlane::retireKek(const Actor& actor, std::uint32_t version) {
  auto rows = stores_.credentials.countByKek(vault_.kms().kekId(), version);
  if (!rows) {
    return rows.error();
  }
  if (auto r = vault_.retireKekVersion(version, *rows); !r) {
    return r;
  }
  audit(actor,
        "",
        "kek.retired",
        detailsJson({{"kek_id", vault_.kms().kekId()}, {"version", version}}));
  return {};
}

// ---- console and workspace accounts -----------------------------------------------------------

Result<storage::User> ControlPlane::createUser(const Actor& actor,
                                               std::string_view tenant_id,
                                               storage::User user) {
  if (auto t = requireTenant(tenant_id); !t) {
    return t.error();
  }
  if (user.kind != "admin" && user.kind != "end_user") {
    return Error{ErrorCode::kBadRequest, "kind must be admin or end_user"}.withParam("kind");
  }
  std::string email = user.email;
  std::transform(email.begin(), email.end(), email.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  auto at = email.find('@');
  const bool bad_char = std::any_of(email.begin(), email.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string::npos || bad_char) {
    return Error{ErrorCode::kBadRequest, "email must look like name@example.com"}.withParam(
        "email");
  }
  if (user.display_name.empty()) {
    user.display_name = email.substr(0, at);
  }
  if (auto r = validateName("display_name", user.display_name, 120); !r) {
    return r.error();
  }
  if (user.password_hash.empty()) {
    return Error{ErrorCode::kBadRequest, "a password is required"}.withParam("password");
  }
  user.email = std::move(email);
  user.tenant_id = std::string(tenant_id);
  auto stored = stores_.users.insert(std::move(user));
  if (!stored) {
    if (stored.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "this tenant already has a user with that email"}
          .withParam("email");
    }
    return stored.error();
  }
  std::string_view role = storage::toString(stored->role);
  audit(actor,
        tenant_id,
        "user.created",
        detailsJson({{"user_id", stored->id}, {"kind", stored->kind}, {"role", role}}));
  return stored;
}

}  // namespace livery::control

// ==== Console, workspace and white-label state (the HTTP APIs) ================================

namespace livery::control {

// ---- accounts ---------------------------------------------------------------------------------

Result<storage::User> ControlPlane::createUser(const Actor& actor, storage::User user) {
  if (user.kind != "admin" && user.kind != "end_user") {
    return Error{ErrorCode::kBadRequest, "kind must be admin or end_user"};
  }
  if (auto t = requireTenant(user.tenant_id); !t) {
    return t.error();
  }
  auto created = stores_.users.insert(std::move(user));
  if (!created) {
    if (created.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "an account with this e-mail address exists"}.withParam(
          "email");
    }
    return created.error();
  }
  audit(actor,
        created->tenant_id,
        created->kind == "admin" ? "admin.created" : "user.created",
        detailsJson({{"user_id", created->id},
                     {"email", created->email},
                     {"role", storage::toString(created->role)}}));
  return created;
}

Result<storage::User> ControlPlane::updateUser(const Actor& actor, const storage::User& user) {
  auto updated = stores_.users.update(user);
  if (!updated) {
    return updated.error();
  }
  audit(actor,
        updated->tenant_id,
        updated->kind == "admin" ? "admin.updated" : "user.updated",
        detailsJson({{"user_id", updated->id},
                     {"role", storage::toString(updated->role)},
                     {"disabled", updated->disabled}}));
  return updated;
}

Result<void> ControlPlane::setUserPassword(const Actor& actor,
                                           std::string_view tenant_id,
                                           std::string_view user_id,
                                           std::string_view password_hash) {
  if (auto r = stores_.users.setPasswordHash(tenant_id, user_id, password_hash); !r) {
    return r;
  }
  audit(actor, tenant_id, "user.password_set", detailsJson({{"user_id", user_id}}));
  return {};
}

Result<void> ControlPlane::deleteUser(const Actor& actor,
                                      std::string_view tenant_id,
                                      std::string_view user_id) {
  auto user = stores_.users.get(tenant_id, user_id);
  if (!user) {
    return user.error();
  }
  if (auto r = stores_.users.remove(tenant_id, user_id); !r) {
    return r;
  }
  audit(actor,
        tenant_id,
        user->kind == "admin" ? "admin.deleted" : "user.deleted",
        detailsJson({{"user_id", user_id}, {"email", user->email}}));
  return {};
}

// ---- custom domains ---------------------------------------------------------------------------

Result<storage::Domain> ControlPlane::addDomain(const Actor& actor,
                                                std::string_view tenant_id,
                                                std::string_view host,
                                                std::string_view verification_token) {
  if (auto t = requireTenant(tenant_id); !t) {
    return t.error();
  }
  storage::Domain d;
  d.host = std::string(host);
  d.tenant_id = std::string(tenant_id);
  d.status = storage::DomainStatus::kPending;
  d.verification_token = std::string(verification_token);
  auto stored = stores_.domains.insert(std::move(d));
  if (!stored) {
    if (stored.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "this domain is already claimed"}.withParam("host");
    }
    return stored.error();
  }
  audit(actor, tenant_id, "domain.added", detailsJson({{"host", host}}));
  return stored;
}

Result<storage::Domain> ControlPlane::setDomainStatus(const Actor& actor,
                                                      std::string_view tenant_id,
                                                      std::string_view host,
                                                      storage::DomainStatus status) {
  auto updated = stores_.domains.setStatus(tenant_id, host, status);
  if (!updated) {
    return updated.error();
  }
  audit(actor,
        tenant_id,
        "domain.status_changed",
        detailsJson({{"host", host}, {"status", storage::toString(status)}}));
  return updated;
}

Result<void> ControlPlane::removeDomain(const Actor& actor,
                                        std::string_view tenant_id,
                                        std::string_view host) {
  if (auto r = stores_.domains.remove(tenant_id, host); !r) {
    return r;
  }
  audit(actor, tenant_id, "domain.removed", detailsJson({{"host", host}}));
  return {};
}

// ---- branding ---------------------------------------------------------------------------------

Result<storage::Branding> ControlPlane::branding(std::string_view tenant_id) {
  auto b = stores_.branding.get(tenant_id);
  if (b) {
    return b;
  }
  if (b.error().code != ErrorCode::kNotFound) {
    return b.error();
  }
  auto t = requireTenant(tenant_id);
  if (!t) {
    return t.error();
  }
  storage::Branding defaults;
  defaults.tenant_id = t->id;
  defaults.display_name = t->display_name;
  return defaults;
}

Result<storage::Branding> ControlPlane::setBranding(const Actor& actor, storage::Branding b) {
  auto stored = stores_.branding.upsert(std::move(b));
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        stored->tenant_id,
        "branding.updated",
        detailsJson({{"display_name", stored->display_name},
                     {"primary_color", stored->primary_color},
                     {"accent_color", stored->accent_color}}));
  return stored;
}

Result<storage::Branding> ControlPlane::setBrandAsset(const Actor& actor,
                                                      std::string_view tenant_id,
                                                      bool favicon,
                                                      std::string_view content_type,
                                                      std::string_view bytes) {
  auto current = branding(tenant_id);
  if (!current) {
    return current.error();
  }
  auto asset = stores_.assets.put(tenant_id, content_type, bytes);
  if (!asset) {
    return asset.error();
  }
  (favicon ? current->favicon_asset : current->logo_asset) = asset->hash;
  auto stored = stores_.branding.upsert(std::move(*current));
  if (!stored) {
    return stored.error();
  }
  audit(actor,
        tenant_id,
        "branding.asset_set",
        detailsJson({{"kind", favicon ? "favicon" : "logo"},
                     {"sha256", asset->hash},
                     {"content_type", asset->content_type},
                     {"bytes", asset->bytes.size()}}));
  return stored;
}

// ---- prompts ----------------------------------------------------------------------------------

Result<storage::PromptVersion> ControlPlane::createPrompt(const Actor& actor,
                                                          storage::PromptVersion draft) {
  auto created = stores_.prompts.create(std::move(draft));
  if (!created) {
    return created.error();
  }
  audit(actor,
        created->tenant_id,
        "prompt.created",
        detailsJson({{"prompt_id", created->id}, {"version", created->version}}));
  return created;
}

Result<storage::PromptVersion> ControlPlane::activatePrompt(const Actor& actor,
                                                            std::string_view tenant_id,
                                                            std::string_view prompt_id) {
  auto version = stores_.prompts.get(tenant_id, prompt_id);
  if (!version) {
    return version.error();
  }
  auto refused = [&] {
    return Error{
        ErrorCode::kUnprocessable,
        fmt::format("version {} failed its evaluation and cannot be activated", version->version)}
        .withCode("evaluation_failed");
  };
  if (!version->eval_json.empty() && !version->eval_passed) {
    return refused();
  }
  // Checked again inside the activation's transaction: a failed evaluation recorded since the
  // read above (a concurrent `livery prompts eval`) still keeps the version out.
  auto active = stores_.prompts.activate(tenant_id, prompt_id, storage::EvalGate::kRefuseFailed);
  if (!active) {
    return active.error().code == ErrorCode::kUnprocessable ? refused() : active.error();
  }
  audit(actor,
        tenant_id,
        "prompt.activated",
        detailsJson({{"prompt_id", active->id}, {"version", active->version}}));
  return active;
}

Result<storage::PromptVersion> ControlPlane::rollbackPrompt(const Actor& actor,
                                                            std::string_view tenant_id) {
  auto active = stores_.prompts.rollback(tenant_id);
  if (!active) {
    if (active.error().code == ErrorCode::kNotFound) {
      return Error{ErrorCode::kConflict, "there is no earlier version to roll back to"};
    }
    return active.error();
  }
  audit(actor,
        tenant_id,
        "prompt.rolled_back",
        detailsJson({{"prompt_id", active->id}, {"version", active->version}}));
  return active;
}

Result<void> ControlPlane::recordPromptEval(const Actor& actor,
                                            std::string_view tenant_id,
                                            std::string_view prompt_id,
                                            std::string_view eval_json,
                                            bool passed) {
  auto version = stores_.prompts.get(tenant_id, prompt_id);
  if (!version) {
    return version.error();
  }
  if (auto r = stores_.prompts.recordEval(tenant_id, prompt_id, eval_json, passed); !r) {
    return r.error();
  }
  audit(actor,
        tenant_id,
        "prompt.evaluated",
        detailsJson({{"prompt_id", version->id},
                     {"version", version->version},
                     {"commit_id", version->commit_id},
                     {"passed", passed}}));
  return {};
}

// ---- JWT keys ---------------------------------------------------------------------------------

Result<storage::JwtKey> ControlPlane::addJwtKey(const Actor& actor,
                                                storage::JwtKey key,
                                                const SecretBytes* hs256_secret) {
  if (auto t = requireTenant(key.tenant_id); !t) {
    return t.error();
  }
  std::string credential_id;
  if (key.algorithm == "HS256") {
    if (hs256_secret == nullptr || hs256_secret->empty()) {
      return Error{ErrorCode::kBadRequest, "an HS256 key needs a secret"}.withParam("secret");
    }
    CredentialSpec spec;
    spec.provider = "jwt-hs256";
    spec.label = "JWT " + key.kid;
    if (spec.label.size() > 120) {
      spec.label.resize(120);
    }
    auto cred = addCredential(actor, key.tenant_id, spec, *hs256_secret);
    if (!cred) {
      return cred.error();
    }
    credential_id = cred->id;
    key.hmac_credential_id = cred->id;
    key.public_pem.clear();
  }
  const std::string tenant_id = key.tenant_id;
  auto stored = stores_.jwt_keys.insert(std::move(key));
  if (!stored) {
    if (!credential_id.empty()) {
      // The secret was sealed for this key only: do not leave it behind.
      (void)stores_.credentials.remove(tenant_id, credential_id);
    }
    if (stored.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "a key with this kid exists"}.withParam("kid");
    }
    return stored.error();
  }
  audit(actor,
        stored->tenant_id,
        "jwt_key.added",
        detailsJson(
            {{"jwt_key_id", stored->id}, {"kid", stored->kid}, {"algorithm", stored->algorithm}}));
  return stored;
}

Result<void> ControlPlane::deleteJwtKey(const Actor& actor,
                                        std::string_view tenant_id,
                                        std::string_view id) {
  auto key = stores_.jwt_keys.get(tenant_id, id);
  if (!key) {
    return key.error();
  }
  if (auto r = stores_.jwt_keys.remove(tenant_id, id); !r) {
    return r;
  }
  if (!key->hmac_credential_id.empty()) {
    (void)stores_.credentials.remove(tenant_id, key->hmac_credential_id);
  }
  audit(actor,
        tenant_id,
        "jwt_key.deleted",
        detailsJson({{"jwt_key_id", key->id}, {"kid", key->kid}}));
  return {};
}

// ---- alerts -----------------------------------------------------------------------------------

Result<void> ControlPlane::acknowledgeAlert(const Actor& actor,
                                            std::string_view tenant_id,
                                            std::string_view alert_id) {
  if (auto r = stores_.alerts.acknowledge(tenant_id, alert_id); !r) {
    return r;
  }
  audit(actor, tenant_id, "alert.acknowledged", detailsJson({{"alert_id", alert_id}}));
  return {};
}

}  // namespace livery::control
