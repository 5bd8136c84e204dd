-- Livery schema, SQLite dialect. Keep in step with migrations/postgres/0001_initial.sql: the
-- same tables, columns, constraints and indexes; only the type names differ (INTEGER/BLOB here,
-- BIGINT/BYTEA there). Tables are STRICT so a wrongly typed bind fails here as it would on
-- PostgreSQL. Times are Unix milliseconds (UTC), 0 meaning "not set". Booleans are 0/1.

CREATE TABLE plans (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL,
  monthly_token_quota INTEGER NOT NULL DEFAULT 0,
  rpm                 INTEGER NOT NULL DEFAULT 0,
  tpm                 INTEGER NOT NULL DEFAULT 0,
  max_api_keys        INTEGER NOT NULL DEFAULT 0,
  features            TEXT NOT NULL DEFAULT '[]',
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE tenants (
  id                    TEXT PRIMARY KEY,
  slug                  TEXT NOT NULL UNIQUE,
  display_name          TEXT NOT NULL,
  status                TEXT NOT NULL,
  suspended_reason      TEXT NOT NULL DEFAULT '',
  plan_id               TEXT REFERENCES plans (id),  -- NULL: no plan; a plan in use cannot go
  quota_override        INTEGER,                     -- NULL: the plan's value applies
  rpm_override          INTEGER,
  tpm_override          INTEGER,
  max_api_keys_override INTEGER,
  mock_response_enabled INTEGER NOT NULL DEFAULT 1,
  webhook_url           TEXT NOT NULL DEFAULT '',
  active_prompt_id      TEXT NOT NULL DEFAULT '',
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  revision              INTEGER NOT NULL
) STRICT;
CREATE INDEX tenants_plan ON tenants (plan_id);

CREATE TABLE operator_tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  hash         BLOB NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE api_keys (
  id                  TEXT PRIMARY KEY,
  tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name                TEXT NOT NULL,
  hash                BLOB NOT NULL UNIQUE,
  last4               TEXT NOT NULL,
  environment         TEXT NOT NULL,
  scopes              TEXT NOT NULL DEFAULT '[]',
  expires_at          INTEGER NOT NULL DEFAULT 0,
  rpm                 INTEGER NOT NULL DEFAULT 0,
  tpm                 INTEGER NOT NULL DEFAULT 0,
  monthly_token_quota INTEGER NOT NULL DEFAULT 0,
  end_user            TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  revoked_at          INTEGER NOT NULL DEFAULT 0,
  last_used_at        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
-- forEachActive pages through this (keyset on id), so index loading never sorts.
CREATE INDEX api_keys_active ON api_keys (id) WHERE revoked_at = 0;

CREATE TABLE credentials (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  provider       TEXT NOT NULL,
  label          TEXT NOT NULL,
  fingerprint    TEXT NOT NULL,
  base_url       TEXT NOT NULL DEFAULT '',
  options_json   TEXT NOT NULL DEFAULT '{}',
  ciphertext     BLOB NOT NULL,
  nonce          BLOB NOT NULL,
  tag            BLOB NOT NULL,
  wrapped_dek    BLOB NOT NULL,
  kek_id         TEXT NOT NULL,
  kek_version    INTEGER NOT NULL,
  format_version INTEGER NOT NULL,
  health         TEXT NOT NULL DEFAULT 'unknown',
  health_detail  TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  last_used_at   INTEGER NOT NULL DEFAULT 0,
  revision       INTEGER NOT NULL,
  UNIQUE (tenant_id, id)  -- target of tenant-bound references (jwt_keys)
) STRICT;
CREATE INDEX credentials_kek_version ON credentials (kek_version, id);
CREATE INDEX credentials_kek ON credentials (kek_id, kek_version);

CREATE TABLE jwt_keys (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kid                TEXT NOT NULL,
  algorithm          TEXT NOT NULL,
  public_pem         TEXT NOT NULL DEFAULT '',
  hmac_credential_id TEXT,  -- NULL: none; else a credential of the SAME tenant
  issuer             TEXT NOT NULL DEFAULT '',
  audience           TEXT NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  UNIQUE (tenant_id, kid),
  FOREIGN KEY (tenant_id, hmac_credential_id) REFERENCES credentials (tenant_id, id)
) STRICT;
CREATE INDEX jwt_keys_credential ON jwt_keys (tenant_id, hmac_credential_id);

CREATE TABLE domains (
  host               TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  status             TEXT NOT NULL,
  verification_token TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  verified_at        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX domains_tenant ON domains (tenant_id, host);

CREATE TABLE branding (
  tenant_id     TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  display_name  TEXT NOT NULL,
  primary_color TEXT NOT NULL,
  accent_color  TEXT NOT NULL,
  logo_asset    TEXT NOT NULL DEFAULT '',
  favicon_asset TEXT NOT NULL DEFAULT '',
  support_email TEXT NOT NULL DEFAULT '',
  footer_text   TEXT NOT NULL DEFAULT '',
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE assets (
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  hash         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  bytes        BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hash)
) STRICT;

CREATE TABLE prompt_versions (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  content      TEXT NOT NULL,
  author       TEXT NOT NULL DEFAULT '',
  note         TEXT NOT NULL DEFAULT '',
  commit_id    TEXT NOT NULL DEFAULT '',
  eval_json    TEXT NOT NULL DEFAULT '',
  eval_passed  INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  activated_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tenant_id, version)
) STRICT;

-- tenant_id '' holds the operator defaults every tenant inherits (so no foreign key; tenant
-- deletion removes a tenant's routes explicitly).
CREATE TABLE routes (
  tenant_id   TEXT NOT NULL,
  model       TEXT NOT NULL,
  deployments TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, model)
) STRICT;

-- The usage ledger: append-only, idempotent on request_id. No foreign keys: it is the billing
-- record and outlives deleted tenants and keys, and it is the hottest insert path.
CREATE TABLE usage_records (
  request_id        TEXT PRIMARY KEY,
  tenant_id         TEXT NOT NULL,
  api_key_id        TEXT NOT NULL DEFAULT '',
  end_user          TEXT NOT NULL DEFAULT '',
  model             TEXT NOT NULL DEFAULT '',
  deployment        TEXT NOT NULL DEFAULT '',
  provider          TEXT NOT NULL DEFAULT '',
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens     INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
  latency_ms        INTEGER NOT NULL DEFAULT 0,
  ttft_ms           INTEGER NOT NULL DEFAULT 0,
  status            INTEGER NOT NULL DEFAULT 0,
  outcome           TEXT NOT NULL DEFAULT '',
  attempts          INTEGER NOT NULL DEFAULT 0,
  fallback_reason   TEXT NOT NULL DEFAULT '',
  cost_micro_usd    INTEGER NOT NULL DEFAULT 0,
  streamed          INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL
) STRICT;
-- Tenant listings, exports and per-tenant totals over a time range.
CREATE INDEX usage_tenant_time ON usage_records (tenant_id, created_at, request_id);
-- Per-key quota bootstrap and per-key listings.
CREATE INDEX usage_tenant_key_time ON usage_records (tenant_id, api_key_id, created_at);
-- Operator-wide ranges (all tenants since the start of the month).
CREATE INDEX usage_time ON usage_records (created_at);

CREATE TABLE alerts (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,  -- '' for operator-level alerts
  kind            TEXT NOT NULL,
  message         TEXT NOT NULL,
  details_json    TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL,
  acknowledged_at INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX alerts_tenant_time ON alerts (tenant_id, created_at, id);
CREATE INDEX alerts_time ON alerts (created_at, id);

-- Tamper-evident: hash = SHA-256 over (seq, ts, actor, tenant, action, details, prev_hash).
CREATE TABLE audit_log (
  seq          INTEGER PRIMARY KEY,
  ts           INTEGER NOT NULL,
  actor        TEXT NOT NULL,
  tenant_id    TEXT NOT NULL DEFAULT '',
  action       TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}',
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

CREATE TABLE changes (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  kind      TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL DEFAULT '',
  ts        INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kind          TEXT NOT NULL,
  email         TEXT NOT NULL,
  display_name  TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tenant_id, kind, email)
) STRICT;

-- user_id is not a foreign key: operator sessions belong to no users row.
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  user_id    TEXT NOT NULL,
  tenant_id  TEXT NOT NULL DEFAULT '',
  kind       TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE conversations (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title         TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  messages_json TEXT NOT NULL DEFAULT '[]',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_user ON conversations (tenant_id, user_id, updated_at, id);
CREATE INDEX conversations_user_fk ON conversations (user_id);
