#pragma once

// Every store over one Database, for the composition root (app/) and tests:
//   auto db = storage::openDatabase(cfg, clock);   storage::Stores stores(**db, clock);
// Holds references only: `db` and `clock` must outlive it. Thread-safe like its members.

#include "core/clock.hpp"
#include "storage/alert_store.hpp"
#include "storage/api_key_store.hpp"
#include "storage/asset_store.hpp"
#include "storage/audit_store.hpp"
#include "storage/branding_store.hpp"
#include "storage/change_store.hpp"
#include "storage/conversation_store.hpp"
#include "storage/credential_store.hpp"
#include "storage/database.hpp"
#include "storage/domain_store.hpp"
#include "storage/jwt_key_store.hpp"
#include "storage/login_throttle_store.hpp"
#include "storage/operator_token_store.hpp"
#include "storage/plan_store.hpp"
#include "storage/prompt_store.hpp"
#include "storage/route_store.hpp"
#include "storage/session_store.hpp"
#include "storage/tenant_store.hpp"
#include "storage/usage_store.hpp"
#include "storage/user_store.hpp"

namespace livery::storage {

struct Stores {
  Stores(Database& db, const Clock& clock)
      : plans(db, clock),
        tenants(db, clock),
        operator_tokens(db, clock),
        api_keys(db, clock),
        credentials(db, clock),
        jwt_keys(db, clock),
        domains(db, clock),
        branding(db, clock),
        assets(db, clock),
        prompts(db, clock),
        routes(db, clock),
        usage(db, clock),
        alerts(db, clock),
        audit(db, clock),
        changes(db, clock),
        users(db, clock),
        sessions(db, clock),
        login_throttle(db, clock),
        conversations(db, clock) {}

  PlanStore plans;
  TenantStore tenants;
  OperatorTokenStore operator_tokens;
  ApiKeyStore api_keys;
  CredentialStore credentials;
  JwtKeyStore jwt_keys;
  DomainStore domains;
  BrandingStore branding;
  AssetStore assets;
  PromptStore prompts;
  RouteStore routes;
  UsageStore usage;
  AlertStore alerts;
  AuditStore audit;
  ChangeStore changes;
  UserStore users;
  SessionStore sessions;
  LoginThrottleStore login_throttle;
  ConversationStore conversations;
};

}  // namespace livery::storage
