// API keys for apps and end users: shown once at creation with a copy button; revoke.
import { useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { fmtAgo, fmtDate } from '../../lib/format';
import type { ApiKey, ListResponse, Route } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, CopyButton, EmptyState, ErrorNotice, Modal, Notice, PageHeader, SelectField,
         Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

export interface CreatedKey { key: string; name: string }

export function CreateKeyForm({ onCreated, compact = false }: { onCreated: (k: ApiKey & { key: string }) => void; compact?: boolean }) {
  const { api } = useConsole();
  const routes = useAsync(() => api.get<ListResponse<Route>>('/api/v1/routes'), []);
  const [name, setName] = useState(compact ? 'My first key' : '');
  const [env, setEnv] = useState<'live' | 'test'>('live');
  const [scopes, setScopes] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [rpm, setRpm] = useState('');
  const [quota, setQuota] = useState('');
  const [endUser, setEndUser] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { name: name.trim() || 'API key', environment: env, scopes };
      if (expires) body.expires_at = new Date(expires).getTime();
      const limits: Record<string, number> = {};
      if (rpm) limits.rpm = Number(rpm);
      if (quota) limits.monthly_token_quota = Number(quota);
      if (Object.keys(limits).length) body.limits = limits;
      if (endUser.trim()) body.end_user = endUser.trim();
      const k = await api.post<ApiKey & { key: string }>('/api/v1/keys', body);
      onCreated(k);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const models = routes.data?.data.map((r) => r.model) ?? [];
  return (
    <form class="stack" onSubmit={submit}>
      <TextField label="Name" value={name} onValue={setName} required maxLength={80}
                 hint="So you recognise it later, e.g. “Website chat widget”." />
      {!compact && (
        <>
          <SelectField label="Environment" value={env} onValue={(v) => setEnv(v as 'live' | 'test')}
                       options={[{ value: 'live', label: 'Live' }, { value: 'test', label: 'Test' }]} />
          {models.length > 0 && (
            <fieldset class="field">
              <legend>Models this key may use</legend>
              <div class="row">
                {models.map((m) => (
                  <label key={m} class="checkbox">
                    <input type="checkbox" checked={scopes.includes(m)}
                           onChange={(e) => setScopes((s) => (e.currentTarget as HTMLInputElement).checked ? [...s, m] : s.filter((x) => x !== m))} />
                    {m}
                  </label>
                ))}
              </div>
              <div class="hint">None selected: every model of this workspace.</div>
            </fieldset>
          )}
          <div class="grid-2">
            <TextField label="Expires (optional)" type="datetime-local" value={expires} onValue={setExpires} />
            <TextField label="Bound end user (optional)" value={endUser} onValue={setEndUser} hint="Usage is attributed to this user id." />
            <TextField label="Requests per minute (optional)" type="number" min={0} value={rpm} onValue={setRpm} />
            <TextField label="Monthly token quota (optional)" type="number" min={0} value={quota} onValue={setQuota} />
          </div>
        </>
      )}
      <ErrorNotice error={error} />
      <div class="row"><Button type="submit" variant="primary" busy={busy}>Create key</Button></div>
    </form>
  );
}

/** Shows a new key once; closing needs the "I've stored it" box ticked. */
export function ShowOnce({ secret, title, what, onClose, open }: { secret: string; title: string; what: string; onClose: () => void; open: boolean }) {
  const [stored, setStored] = useState(false);
  return (
    <Modal open={open} title={title} onClose={() => stored && onClose()} dismissable={stored}
           footer={<Button variant="primary" disabled={!stored} onClick={onClose}>Done</Button>}>
      <div class="stack">
        <Notice tone="warn">This is the only time the {what} is shown. Copy it now and keep it somewhere safe.</Notice>
        <div class="once-key" data-testid="once-secret">{secret}</div>
        <div class="row"><CopyButton text={secret} label={`Copy ${what}`} /></div>
        <label class="checkbox">
          <input type="checkbox" checked={stored} onChange={(e) => setStored((e.currentTarget as HTMLInputElement).checked)} />
          I've stored it safely
        </label>
      </div>
    </Modal>
  );
}

export function ApiKeysPage() {
  const { api } = useConsole();
  const toast = useToast();
  const keys = useAsync(() => api.get<ListResponse<ApiKey>>('/api/v1/keys'), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  return (
    <>
      <PageHeader title="API keys" description="Keys your apps and end users call the OpenAI-compatible API with. A key is shown once, when it is created."
                  actions={<Button variant="primary" onClick={() => setCreating(true)}>Create key</Button>} />
      <Card>
        {keys.loading && !keys.data ? <Spinner /> : keys.error ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> :
          keys.data!.data.length === 0 ? <EmptyState title="No API keys yet" /> : (
            <div class="table-wrap">
              <table class="data">
                <thead><tr><th>Name</th><th>Key</th><th>Scope</th><th>Created</th><th>Last used</th><th>Status</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {keys.data!.data.map((k) => {
                    const expired = k.expires_at && k.expires_at < Date.now();
                    return (
                      <tr key={k.id}>
                        <td>{k.name}{k.environment === 'test' && <> <Badge tone="info">test</Badge></>}</td>
                        <td><span class="fingerprint">…{k.last4}</span></td>
                        <td class="small">{k.scopes.length ? k.scopes.join(', ') : 'All models'}{k.end_user ? ` · user ${k.end_user}` : ''}</td>
                        <td class="small">{fmtDate(k.created_at)}</td>
                        <td class="small">{fmtAgo(k.last_used_at)}</td>
                        <td>{k.revoked_at ? <Badge tone="danger">Revoked</Badge> : expired ? <Badge tone="warn">Expired</Badge> : <Badge tone="ok">Active</Badge>}</td>
                        <td class="cell-actions">
                          {!k.revoked_at && <Button class="btn-small" variant="ghost" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>Revoke</Button>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
      </Card>
      <Modal open={creating} title="Create API key" onClose={() => setCreating(false)} wide>
        <CreateKeyForm onCreated={(k) => { setCreating(false); setCreated({ key: k.key, name: k.name }); keys.reload(); }} />
      </Modal>
      <ShowOnce open={created !== null} secret={created?.key ?? ''} title={`API key “${created?.name ?? ''}”`} what="key"
                onClose={() => setCreated(null)} />
      <ConfirmModal open={revoking !== null} title="Revoke API key"
                    body={<p>Apps using <strong>{revoking?.name}</strong> (…{revoking?.last4}) stop working immediately.</p>}
                    confirmLabel="Revoke" onClose={() => setRevoking(null)}
                    onConfirm={async () => { await api.del(`/api/v1/keys/${seg(revoking!.id)}`); toast('Key revoked'); keys.reload(); }} />
    </>
  );
}
