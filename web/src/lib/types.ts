// Objects of docs/API.md ("Objects"), as the portal reads them. Times are Unix milliseconds.
// Every string here may be tenant- or user-controlled: render it as text, never as HTML.

export interface ApiErrorBody {
  error: { message: string; type?: string; param?: string | null; code?: string | null };
}

export type TenantStatus = 'active' | 'suspended';

export interface PlanOverrides {
  monthly_token_quota?: number;
  rpm?: number;
  tpm?: number;
  max_api_keys?: number;
}

export interface Tenant {
  id: string;
  slug: string;
  display_name: string;
  status: TenantStatus;
  suspended_reason?: string;
  plan_id: string;
  overrides?: PlanOverrides;
  mock_response_enabled?: boolean;
  created_at: number;
  usage_month?: UsageTotals | null;
}

export interface Plan {
  id: string;
  name: string;
  monthly_token_quota: number;
  rpm: number;
  tpm: number;
  max_api_keys: number;
  features: string[];
}

export interface KeyLimits {
  rpm?: number;
  tpm?: number;
  monthly_token_quota?: number;
}

export interface ApiKey {
  id: string;
  name: string;
  last4: string;
  environment: 'live' | 'test';
  scopes: string[];
  expires_at: number | null;
  limits: KeyLimits | null;
  end_user: string | null;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export type CredentialHealth = 'unknown' | 'ok' | 'refused' | 'unreachable';

export interface Credential {
  id: string;
  provider: string;
  label: string;
  fingerprint: string;
  base_url: string | null;
  options: Record<string, unknown> | null;
  health: CredentialHealth;
  health_detail: string | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

export interface Validation {
  ok: boolean;
  reason?: string;
  message?: string;
}

export interface Deployment {
  name: string;
  provider: string;
  model: string;
  credential_id: string;
  priority: number;
  weight: number;
  max_context_tokens: number;
}

export interface Route {
  model: string;
  deployments: Deployment[];
  inherited: boolean;
}

export interface PromptEval {
  passed?: boolean;
  pass_rate?: number;
  total?: number;
  failed?: number;
  summary?: string;
  cases?: Array<{ name?: string; passed?: boolean; detail?: string }>;
  [k: string]: unknown;
}

export interface PromptVersion {
  id: string;
  version: number;
  content: string;
  author: string;
  note: string;
  status: 'draft' | 'active' | 'retired';
  created_at: number;
  activated_at: number | null;
  commit_id: string | null;
  eval: PromptEval | null;
}

export interface UsageTotals {
  key: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
}

export interface UsageEvent {
  request_id: string;
  tenant_id: string;
  api_key_id: string;
  end_user: string;
  model: string;
  deployment: string;
  provider: string;
  prompt_tokens: number;
  completion_tokens: number;
  status: number;
  latency_ms: number;
  cost_usd: number;
  ts: number;
}

export interface Quota {
  period: string;
  limit: number;
  used: number;
  reserved: number;
  rpm: number;
  tpm: number;
}

export interface Alert {
  id: string;
  tenant_id: string;
  kind: string;
  message: string;
  details: unknown;
  created_at: number;
  acknowledged_at: number | null;
}

export interface AuditEntry {
  seq: number;
  ts: number;
  actor: string;
  tenant_id: string;
  action: string;
  details: unknown;
}

export interface User {
  id: string;
  email: string;
  display_name: string;
  role: string;
  kind: string;
  created_at: number;
  last_login_at: number | null;
}

export interface Branding {
  display_name: string;
  primary_color: string;
  accent_color: string;
  text_on_primary: string;
  logo_url: string | null;
  favicon_url: string | null;
  support_email: string;
  footer_text: string;
}

export interface DomainVerification {
  http_url: string;
  token: string;
  dns_txt_name: string;
}

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** A key the tenant's app signs workspace hand-off JWTs with; the secret is never returned. */
export interface JwtKey {
  id: string;
  kid: string;
  algorithm: JwtAlgorithm;
  issuer: string;
  audience: string;
  has_public_key: boolean;
  created_at: number;
  format?: 'secret' | 'pem' | 'jwks';  // in the list only
}

export interface Domain {
  host: string;
  status: 'pending' | 'verified' | 'active';
  created_at: number;
  verified_at: number | null;
  verification?: DomainVerification;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Conversation {
  id: string;
  title: string;
  model: string;
  messages: ChatMessage[];
  created_at?: number;
  updated_at?: number;
}

/** GET /branding.json (public, per Host). */
export interface PublicBranding {
  tenant: { slug: string; display_name: string } | null;
  colors: { primary: string; accent: string; text_on_primary: string; [k: string]: string };
  logo_url: string | null;
  favicon_url: string | null;
  support_email: string;
  footer_text: string;
}

export interface ListResponse<T> {
  data: T[];
}
