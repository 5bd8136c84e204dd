#pragma once

// The persistent domain model: plain structs, one per table, shared by every store backend
// (SQLite, PostgreSQL) and by the in-memory indexes. Times are Unix milliseconds (UTC);
// 0 means "not set". Ids are prefixed random strings from core/ids.hpp ("tnt_…", "key_…").
// No struct here ever holds a plaintext secret: keys and passwords are stored as keyed hashes,
// provider keys as envelopes (crypto/envelope.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace livery::storage {

using Millis = std::int64_t;

// ---- operator side -------------------------------------------------------------------------

struct Plan {
  std::string id;  // slug: "free", "pro"
  std::string name;
  std::uint64_t monthly_token_quota = 0;  // 0: unlimited
  std::uint32_t rpm = 0;                  // requests per minute per tenant; 0: unlimited
  std::uint32_t tpm = 0;                  // tokens per minute per tenant; 0: unlimited
  std::uint32_t max_api_keys = 0;         // 0: unlimited
  std::vector<std::string> features;      // "jwt", "custom_domains", "mock_response", ...
  Millis created_at = 0;
  Millis updated_at = 0;
};

// Per-tenant overrides of its plan (unset: the plan's value applies).
struct PlanOverrides {
  std::optional<std::uint64_t> monthly_token_quota;
  std::optional<std::uint32_t> rpm;
  std::optional<std::uint32_t> tpm;
  std::optional<std::uint32_t> max_api_keys;
};

enum class TenantStatus { kActive, kSuspended };

struct Tenant {
  std::string id;    // "tnt_…"
  std::string slug;  // [a-z0-9-]{2,40}, unique; <slug>.<base_domain> serves it
  std::string display_name;
  TenantStatus status = TenantStatus::kActive;
  std::string suspended_reason;
  std::string plan_id;
  PlanOverrides overrides;
  bool mock_response_enabled = true;  // `mock_response` in request bodies
  std::string webhook_url;            // tenant alert webhook (empty: none)
  std::string active_prompt_id;       // PromptVersion.id that is active (empty: none)
  Millis created_at = 0;
  Millis updated_at = 0;
  std::int64_t revision = 0;  // bumped on every update (compare-and-set, change feed)
};

struct OperatorToken {
  std::string id;  // "opt_…"
  std::string name;
  std::vector<unsigned char> hash;  // HMAC-SHA-256(pepper, token)
  Millis created_at = 0;
  Millis revoked_at = 0;
  Millis last_used_at = 0;
};

// ---- tenant credentials and keys -----------------------------------------------------------

struct KeyLimits {
  std::uint32_t rpm = 0;  // 0: no per-key limit
  std::uint32_t tpm = 0;
  std::uint64_t monthly_token_quota = 0;
};

struct ApiKey {
  std::string id;  // "key_…"
  std::string tenant_id;
  std::string name;
  std::vector<unsigned char> hash;  // HMAC-SHA-256(pepper, full key); unique
  std::string last4;
  std::string environment;          // "live" | "test"
  std::vector<std::string> scopes;  // allowed model names; empty: all of the tenant's models
  Millis expires_at = 0;            // 0: never
  KeyLimits limits;
  std::string end_user;  // bound end-user id (empty: the request may name one)
  Millis created_at = 0;
  Millis revoked_at = 0;
  Millis last_used_at = 0;
};

// An AES-256-GCM envelope (docs/design/envelope-encryption.md).
struct Envelope {
  std::vector<unsigned char> ciphertext;
  std::vector<unsigned char> nonce;        // 12 bytes
  std::vector<unsigned char> tag;          // 16 bytes
  std::vector<unsigned char> wrapped_dek;  // DEK wrapped by the KEK
  std::string kek_id;                      // which KMS key ("local", a PKCS#11 label)
  std::uint32_t kek_version = 0;
  std::uint32_t format_version = 1;
};

enum class CredentialHealth { kUnknown, kOk, kRefused, kUnreachable };

struct Credential {
  std::string id;  // "cred_…"
  std::string tenant_id;
  std::string provider;  // "openai" | "azure" | "anthropic" | "ollama" | "openai_compatible"
  std::string label;
  std::string fingerprint;          // "sk-…abcd": the only form ever shown
  std::string base_url;             // optional (Azure endpoint, Ollama/compatible server)
  std::string options_json = "{}";  // provider options, e.g. {"api_version": "2024-06-01"}
  Envelope envelope;
  CredentialHealth health = CredentialHealth::kUnknown;
  std::string health_detail;  // e.g. "401 from provider at 2026-11-27T10:00Z" (never the key)
  Millis created_at = 0;
  Millis updated_at = 0;
  Millis last_used_at = 0;
  std::int64_t revision = 0;  // compare-and-set for replace and KEK rewrap
};

// A tenant's JWT verification key. The algorithm is fixed here, never taken from a token.
struct JwtKey {
  std::string id;  // "jwk_…"
  std::string tenant_id;
  std::string kid;                 // matched only among this tenant's keys
  std::string algorithm;           // "HS256" | "RS256" | "ES256"
  std::string public_pem;          // RS256/ES256
  std::string hmac_credential_id;  // HS256: the secret lives in the vault as a Credential
  std::string issuer;              // required `iss` (empty: not checked)
  std::string audience;            // required `aud` (empty: not checked)
  Millis created_at = 0;
};

// ---- white label ---------------------------------------------------------------------------

enum class DomainStatus { kPending, kVerified, kActive };

struct Domain {
  std::string host;  // lower-case, no port; primary key
  std::string tenant_id;
  DomainStatus status = DomainStatus::kPending;
  std::string verification_token;  // served at /.well-known/livery-challenge/<token>
  Millis created_at = 0;
  Millis verified_at = 0;
};

struct Branding {
  std::string tenant_id;
  std::string display_name;               // shown in pages (plain text, escaped when rendered)
  std::string primary_color = "#2563eb";  // #rrggbb only
  std::string accent_color = "#0f172a";
  std::string logo_asset;     // Asset.hash (empty: none)
  std::string favicon_asset;  // Asset.hash
  std::string support_email;
  std::string footer_text;
  Millis updated_at = 0;
};

struct Asset {
  std::string tenant_id;
  std::string hash;          // hex SHA-256 of the bytes: content-addressed, immutable
  std::string content_type;  // image/png | image/jpeg | image/webp | image/svg+xml (sanitised)
  std::string bytes;
  Millis created_at = 0;
};

enum class PromptStatus { kDraft, kActive, kRetired };

struct PromptVersion {
  std::string id;  // "pv_…"
  std::string tenant_id;
  std::int64_t version = 0;  // 1, 2, 3 … per tenant
  std::string content;
  std::string author;
  std::string note;
  std::string commit_id;  // Git commit when imported from a prompt repository
  std::string eval_json;  // last evaluation result (empty: never evaluated)
  bool eval_passed = false;
  PromptStatus status = PromptStatus::kDraft;
  Millis created_at = 0;
  Millis activated_at = 0;
};

// ---- routing -------------------------------------------------------------------------------

struct Deployment {
  std::string name;           // stable, shown in x-livery-deployment (e.g. "openai-gpt-4o")
  std::string provider;       // adapter name
  std::string model;          // upstream model / Azure deployment
  std::string credential_id;  // the tenant's credential used for this deployment
  std::int32_t priority = 0;  // lower runs first; equal priorities are load-balanced
  std::int32_t weight = 1;
  std::uint32_t max_context_tokens = 0;  // for context-window fallback (0: unknown)
  std::uint32_t rpm = 0;                 // per-deployment limit (0: none)
};

// A model alias of one tenant ("gpt-4o") or an operator default inherited by every tenant
// (tenant_id empty).
struct Route {
  std::string tenant_id;
  std::string model;
  std::vector<Deployment> deployments;
  Millis updated_at = 0;
};

// ---- metering ------------------------------------------------------------------------------

struct UsageRecord {
  std::string request_id;  // primary key: writes are idempotent on it
  std::string tenant_id;
  std::string api_key_id;
  std::string end_user;
  std::string model;       // as requested
  std::string deployment;  // that served (empty: none)
  std::string provider;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;
  std::uint64_t reasoning_tokens = 0;
  std::uint32_t latency_ms = 0;
  std::uint32_t ttft_ms = 0;
  std::int32_t status = 0;  // HTTP status returned to the client (499: client went away)
  std::string outcome;      // "ok" | "error" | "aborted"
  std::uint32_t attempts = 0;
  std::string fallback_reason;  // e.g. "openai-gpt-4o:429"
  std::int64_t cost_micro_usd = 0;
  bool streamed = false;
  Millis created_at = 0;
};

struct UsageTotals {
  std::string key;  // the group value (tenant, model, key id, end user, or bucket start)
  std::uint64_t requests = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;
  std::uint64_t reasoning_tokens = 0;
  std::int64_t cost_micro_usd = 0;
};

struct Alert {
  std::string id;  // "alr_…"
  std::string tenant_id;
  std::string kind;  // "usage_spike", "credential_refused", ...
  std::string message;
  std::string details_json = "{}";
  Millis created_at = 0;
  Millis acknowledged_at = 0;
};

// ---- audit and change feed -----------------------------------------------------------------

struct AuditEntry {
  std::int64_t seq = 0;  // 1, 2, 3 …
  Millis ts = 0;
  std::string actor;                // "operator:opt_…", "tenant-admin:usr_…", "cli", "system"
  std::string tenant_id;            // empty: operator-level
  std::string action;               // "tenant.created", "key.revoked", "kek.rotated", ...
  std::string details_json = "{}";  // never a secret
  std::string prev_hash;            // hex
  std::string hash;  // hex SHA-256 over (seq, ts, actor, tenant, action, details, prev_hash)
};

// One row per state change that in-memory indexes on other nodes (or a running server, when
// the CLI changed the store) must pick up.
struct Change {
  std::int64_t seq = 0;
  std::string kind;  // "tenant", "api_key", "credential", "domain", "branding", "prompt", "route",
                     // "plan", "jwt_key"
  std::string entity_id;
  std::string tenant_id;
  Millis ts = 0;
};

// ---- console and workspace accounts --------------------------------------------------------

enum class UserRole { kOwner, kAdmin, kMember };

// A tenant console administrator or a workspace end user (kind distinguishes them).
struct User {
  std::string id;  // "usr_…"
  std::string tenant_id;
  std::string kind;   // "admin" (console) | "end_user" (workspace)
  std::string email;  // lower-case; unique per (tenant, kind)
  std::string display_name;
  std::string password_hash;  // Argon2id (libsodium crypto_pwhash_str)
  UserRole role = UserRole::kMember;
  bool disabled = false;
  Millis created_at = 0;
  Millis last_login_at = 0;
};

struct Session {
  std::vector<unsigned char> token_hash;  // HMAC of the cookie value
  std::string user_id;
  std::string tenant_id;  // empty for operator sessions
  std::string kind;       // "admin" | "end_user" | "operator"
  std::string csrf_token;
  Millis created_at = 0;
  Millis expires_at = 0;
};

struct Conversation {
  std::string id;  // "cnv_…"
  std::string tenant_id;
  std::string user_id;
  std::string title;
  std::string model;
  std::string messages_json = "[]";  // [{role, content}] as the workspace keeps them
  Millis created_at = 0;
  Millis updated_at = 0;
};

}  // namespace livery::storage
