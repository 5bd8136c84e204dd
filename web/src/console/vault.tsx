// Provider-key entry "like into a bank vault": masked input with a reveal toggle only while
// typing, password-manager opt-outs, the key cleared from the form the moment it is sent,
// server-side validation against the provider with a clear outcome, and afterwards only the
// fingerprint. The key is never kept in storage, logged, or put back into the DOM.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, seg } from '../lib/api';
import { cleanKey, detectProvider, kProviders, providerName } from '../lib/providers';
import type { Credential, Validation } from '../lib/types';
import { Badge, Button, Notice, SelectField, TextField } from '../ui/components';
import { IconEye, IconEyeOff, IconLock, IconShield } from '../ui/icons';
import { useConsole } from './context';

export interface VaultOutcome {
  credential: Credential | null;
  validation: Validation | null;
}

/** Turns a validation reason into words for the admin. */
export function validationMessage(provider: string, v: Validation | null | undefined): string {
  const p = providerName(provider);
  if (!v) return `Saved. ${p} was not contacted.`;
  if (v.ok) return v.message || `${p} accepted the key.`;
  switch (v.reason) {
    case 'bad_key': return `${p} rejected this key. Check that you copied the whole key and that it has not been revoked.`;
    case 'no_permission': return `${p} accepted the key but it lacks permission to list or use models. Check the key's project and permissions.`;
    case 'unreachable': return `Livery could not reach ${p}. Nothing was saved; try again in a moment.`;
    case 'rate_limited': return `${p} is rate-limiting validation requests. Try again in a minute.`;
    default: return v.message || `${p} did not accept the key (${v.reason ?? 'unknown reason'}).`;
  }
}

function validationFromError(e: unknown): Validation | null {
  if (!(e instanceof ApiError) || e.status !== 422) return null;
  const body = e.body as { validation?: Validation; error?: { code?: string; message?: string } } | null;
  if (body?.validation) return body.validation;
  return { ok: false, reason: e.code ?? undefined, message: e.message };
}

export function SecretInput({ id, value, onValue, placeholder, describedBy, disabled, label }: {
  id: string; value: string; onValue: (v: string) => void; placeholder?: string; describedBy?: string; disabled?: boolean;
  label: string;
}) {
  const [reveal, setReveal] = useState(false);
  useEffect(() => { if (!value) setReveal(false); }, [value]);
  return (
    <div class="secret-input">
      <input id={id} type={(reveal ? 'text' : 'password') as 'text'} value={value} placeholder={placeholder}
             autoComplete="off" spellcheck={false} autocapitalize="off" autocorrect="off"
             data-1p-ignore="true" data-lpignore="true" data-bwignore="true" data-form-type="other"
             aria-describedby={describedBy} disabled={disabled} name="provider-secret"
             onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)} />
      <button type="button" class="btn btn-secondary btn-icon" disabled={disabled || !value}
              aria-pressed={reveal} aria-label={reveal ? `Hide ${label}` : `Show ${label}`}
              onClick={() => setReveal((r) => !r)}>
        {reveal ? <IconEyeOff /> : <IconEye />}
      </button>
    </div>
  );
}

/**
 * Add (POST /api/v1/credentials) or replace (PUT /api/v1/credentials/{id}) a provider key.
 * `onDone` receives the stored credential (fingerprint only).
 */
export function VaultForm({ replace, onDone, submitLabel }: {
  replace?: Credential; onDone: (o: VaultOutcome) => void; submitLabel?: string;
}) {
  const { api } = useConsole();
  const [provider, setProvider] = useState(replace?.provider ?? 'openai');
  const [label, setLabel] = useState(replace?.label ?? '');
  const [key, setKey] = useState('');
  const [baseUrl, setBaseUrl] = useState(replace?.base_url ?? '');
  const [apiVersion, setApiVersion] = useState('2024-06-01');
  const [skip, setSkip] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ tone: 'ok' | 'danger' | 'warn'; text: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const info = kProviders.find((p) => p.id === provider) ?? kProviders[0];
  const detected = detectProvider(key);
  const mismatch = detected && detected !== provider && !info.needsBaseUrl;

  const submit = async (e: Event) => {
    e.preventDefault();
    const secret = cleanKey(key);
    if (!secret && !info.keyOptional) {
      setOutcome({ tone: 'danger', text: 'Paste the key first.' });
      return;
    }
    // The key leaves the form now: clear the field (and the DOM value) before awaiting.
    setKey('');
    const input = formRef.current?.querySelector<HTMLInputElement>('input[name="provider-secret"]');
    if (input) input.value = '';
    setBusy(true);
    setOutcome(null);
    try {
      let cred: Credential;
      let validation: Validation | null = null;
      if (replace) {
        const r = await api.put<Credential & { validation?: Validation }>(`/api/v1/credentials/${seg(replace.id)}`, { key: secret });
        validation = r.validation ?? null;
        cred = r;
      } else {
        const body: Record<string, unknown> = { provider, label: label.trim() || providerName(provider), key: secret };
        if (info.needsBaseUrl && baseUrl.trim()) body.base_url = baseUrl.trim();
        if (provider === 'azure') body.options = { api_version: apiVersion.trim() };
        if (skip) body.skip_validation = true;
        const r = await api.post<Credential & { validation?: Validation }>('/api/v1/credentials', body);
        validation = r.validation ?? null;
        cred = r;
      }
      setOutcome({ tone: 'ok', text: `${validationMessage(provider, validation)} Stored encrypted as ${cred.fingerprint}.` });
      onDone({ credential: cred, validation });
    } catch (err) {
      const v = validationFromError(err);
      if (v) {
        setOutcome({ tone: v.reason === 'unreachable' ? 'warn' : 'danger', text: validationMessage(provider, v) });
      } else {
        setOutcome({ tone: 'danger', text: describeError(err) });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="vault stack" onSubmit={submit} ref={formRef} autoComplete="off" data-testid="vault-form">
      <div class="vault-head">
        <span class="vault-icon" aria-hidden="true"><IconLock /></span>
        <div>
          <strong>{replace ? `Replace the ${providerName(replace.provider)} key “${replace.label}”` : 'Connect a provider key'}</strong>
          <p class="muted small">
            Encrypted before it's stored. Used only to call {providerName(provider)} for your workspace.
            We can't show it again — you can replace it any time.
          </p>
        </div>
      </div>
      {!replace && (
        <div class="grid-2">
          <SelectField label="Provider" value={provider} onValue={setProvider}
                       options={kProviders.map((p) => ({ value: p.id, label: p.name }))} />
          <TextField label="Label" value={label} onValue={setLabel} placeholder={`${providerName(provider)} production`}
                     hint="Shown in routes and alerts." maxLength={80} />
        </div>
      )}
      {!replace && info.needsBaseUrl && (
        <TextField label={provider === 'azure' ? 'Azure endpoint' : 'Server URL'} type="url" value={baseUrl}
                   onValue={setBaseUrl} placeholder={provider === 'azure' ? 'https://my-resource.openai.azure.com' : 'https://llm.example.com'}
                   required />
      )}
      {!replace && provider === 'azure' && (
        <TextField label="API version" value={apiVersion} onValue={setApiVersion} />
      )}
      <div class="field">
        <label for="vault-key">{info.keyOptional ? 'API key (optional)' : 'API key'}</label>
        <SecretInput id="vault-key" value={key} onValue={setKey} placeholder={info.placeholder}
                     describedBy="vault-key-hint" disabled={busy} label="API key" />
        <div class="hint" id="vault-key-hint">
          <IconShield size={14} /> Paste the key. You can show it while typing; once sent it is cleared from this page.
        </div>
        {mismatch && (
          <div class="field-error" role="status">
            This looks like {providerName(detected!)} key, but {providerName(provider)} is selected.
          </div>
        )}
      </div>
      {!replace && (
        <label class="checkbox small">
          <input type="checkbox" checked={skip} onChange={(e) => setSkip((e.currentTarget as HTMLInputElement).checked)} />
          Save without checking it against the provider now (for servers Livery cannot reach yet)
        </label>
      )}
      <div class="row">
        <Button type="submit" variant="primary" busy={busy}>
          {busy ? `Verifying with ${providerName(provider)}…` : submitLabel ?? (replace ? 'Verify and replace' : 'Verify and save')}
        </Button>
      </div>
      <div aria-live="polite" data-testid="vault-outcome">
        {outcome && <Notice tone={outcome.tone}>{outcome.text}</Notice>}
      </div>
    </form>
  );
}

export function HealthBadge({ c }: { c: Credential }) {
  switch (c.health) {
    case 'ok': return <Badge tone="ok"><span class="status-dot ok" />Healthy</Badge>;
    case 'refused': return <Badge tone="danger"><span class="status-dot bad" />Refused by provider</Badge>;
    case 'unreachable': return <Badge tone="warn"><span class="status-dot warn" />Unreachable</Badge>;
    default: return <Badge><span class="status-dot unknown" />Not checked yet</Badge>;
  }
}
