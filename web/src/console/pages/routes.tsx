// Models and fallbacks: each model name maps to an ordered list of deployments (provider, model,
// credential). On rate limits, timeouts or errors the next deployment answers.
import { useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { kProviders, providerName } from '../../lib/providers';
import type { Credential, Deployment, ListResponse, Route } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, EmptyState, ErrorNotice, Modal, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

const blank = (credentials: Credential[]): Deployment => {
  const c = credentials[0];
  return { name: '', provider: c?.provider ?? 'openai', model: '', credential_id: c?.id ?? '', priority: 0, weight: 1, max_context_tokens: 0 };
};

export function RouteEditor({ initial, credentials, onSaved, onCancel }: {
  initial: Route | null; credentials: Credential[]; onSaved: (r: Route) => void; onCancel?: () => void;
}) {
  const { api } = useConsole();
  const [model, setModel] = useState(initial?.model ?? '');
  const [deps, setDeps] = useState<Deployment[]>(initial?.deployments.length ? initial.deployments.map((d) => ({ ...d })) : [blank(credentials)]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const update = (i: number, patch: Partial<Deployment>) => setDeps(deps.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const move = (i: number, by: number) => {
    const j = i + by;
    if (j < 0 || j >= deps.length) return;
    const copy = deps.slice();
    [copy[i], copy[j]] = [copy[j], copy[i]];
    setDeps(copy);
  };
  const valid = model.trim() !== '' && deps.length > 0 && deps.every((d) => d.model.trim() && d.credential_id);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        deployments: deps.map((d, i) => ({
          ...d, priority: i, name: d.name.trim() || `${d.provider}-${d.model.trim()}`, model: d.model.trim(),
        })),
      };
      const r = await api.put<Route>(`/api/v1/routes/${seg(model.trim())}`, body);
      onSaved(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={save}>
      <TextField label="Model name your users request" value={model} onValue={setModel} disabled={!!initial && !initial.inherited}
                 placeholder="gpt-4o" required hint="Apps send this as `model`; the workspace lists it in its model picker." />
      <fieldset class="stack" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend class="card-title" style={{ marginBottom: '8px' }}>Deployments, in fallback order</legend>
        {deps.map((d, i) => (
          <div class="deploy-row" key={i} aria-label={`Deployment ${i + 1}`} role="group">
            <span class="order">{i + 1}.</span>
            <div class="field">
              <label for={`dc${i}`}>Provider key</label>
              <select id={`dc${i}`} value={d.credential_id} onChange={(e) => {
                const id = (e.currentTarget as HTMLSelectElement).value;
                update(i, { credential_id: id, provider: credentials.find((c) => c.id === id)?.provider ?? d.provider });
              }}>
                {credentials.map((c) => <option key={c.id} value={c.id}>{c.label} ({c.fingerprint})</option>)}
              </select>
            </div>
            <div class="field">
              <label for={`dp${i}`}>Provider</label>
              <select id={`dp${i}`} value={d.provider} onChange={(e) => update(i, { provider: (e.currentTarget as HTMLSelectElement).value })}>
                {kProviders.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
              </select>
            </div>
            <div class="field">
              <label for={`dm${i}`}>Upstream model</label>
              <input id={`dm${i}`} value={d.model} placeholder="gpt-4o-mini" required
                     onInput={(e) => update(i, { model: (e.currentTarget as HTMLInputElement).value })} />
            </div>
            <div class="field">
              <label for={`dn${i}`}>Name (optional)</label>
              <input id={`dn${i}`} value={d.name} placeholder={`${d.provider}-${d.model || 'model'}`}
                     onInput={(e) => update(i, { name: (e.currentTarget as HTMLInputElement).value })} />
            </div>
            <div class="row" style={{ flexWrap: 'nowrap', paddingBottom: '2px' }}>
              <button type="button" class="btn btn-ghost btn-icon" aria-label={`Move deployment ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
              <button type="button" class="btn btn-ghost btn-icon" aria-label={`Move deployment ${i + 1} down`} disabled={i === deps.length - 1} onClick={() => move(i, 1)}>↓</button>
              <button type="button" class="btn btn-ghost btn-icon" aria-label={`Remove deployment ${i + 1}`} disabled={deps.length === 1}
                      onClick={() => setDeps(deps.filter((_, j) => j !== i))}>×</button>
            </div>
          </div>
        ))}
        <div><Button class="btn-small" onClick={() => setDeps([...deps, blank(credentials)])}>Add fallback</Button></div>
      </fieldset>
      <ErrorNotice error={error} />
      <div class="row">
        <Button type="submit" variant="primary" busy={busy} disabled={!valid}>Save route</Button>
        {onCancel && <Button onClick={onCancel}>Cancel</Button>}
      </div>
    </form>
  );
}

export function RoutesPage() {
  const { api } = useConsole();
  const toast = useToast();
  const routes = useAsync(() => api.get<ListResponse<Route>>('/api/v1/routes'), []);
  const creds = useAsync(() => api.get<ListResponse<Credential>>('/api/v1/credentials'), []);
  const [editing, setEditing] = useState<Route | null | 'new'>(null);
  const [deleting, setDeleting] = useState<Route | null>(null);
  const credName = (id: string) => creds.data?.data.find((c) => c.id === id)?.label ?? id;
  const credentials = creds.data?.data ?? [];
  return (
    <>
      <PageHeader title="Models & fallbacks"
                  description="Map the model names your users ask for to your deployments. If one is rate-limited, slow or failing, the next one answers — with your own key for each provider."
                  actions={<Button variant="primary" disabled={credentials.length === 0} onClick={() => setEditing('new')}>Add model</Button>} />
      {creds.data && credentials.length === 0 && <Card><EmptyState title="Add a provider key first">Routes send requests with one of your provider keys.</EmptyState></Card>}
      <Card>
        {routes.loading && !routes.data ? <Spinner /> : routes.error ? <ErrorNotice error={routes.error} onRetry={routes.reload} /> :
          routes.data!.data.length === 0 ? <EmptyState title="No models yet" /> : (
            <div class="table-wrap">
              <table class="data">
                <thead><tr><th>Model</th><th>Fallback chain</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {routes.data!.data.map((r) => (
                    <tr key={r.model}>
                      <td><strong>{r.model}</strong>{r.inherited && <> <Badge tone="neutral">Default</Badge></>}</td>
                      <td>
                        <div class="route-chain">
                          {[...r.deployments].sort((a, b) => a.priority - b.priority).map((d, i) => (
                            <span key={i} class="row" style={{ gap: '6px' }}>
                              {i > 0 && <span class="arrow" aria-label="then">→</span>}
                              <Badge tone="info">{providerName(d.provider)} · {d.model}</Badge>
                              <span class="muted small">{r.inherited ? '' : credName(d.credential_id)}</span>
                            </span>
                          ))}
                        </div>
                      </td>
                      <td class="cell-actions">
                        <Button class="btn-small" disabled={credentials.length === 0} onClick={() => setEditing(r)}>{r.inherited ? 'Override' : 'Edit'}</Button>
                        {!r.inherited && <Button class="btn-small" variant="ghost" onClick={() => setDeleting(r)} aria-label={`Delete route ${r.model}`}>Delete</Button>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Card>
      <Modal open={editing !== null} title={editing === 'new' ? 'Add model' : `Edit ${editing?.model ?? ''}`}
             onClose={() => setEditing(null)} wide>
        {editing !== null && (
          <RouteEditor initial={editing === 'new' ? null : editing} credentials={credentials}
                       onSaved={() => { setEditing(null); toast('Route saved'); routes.reload(); }} onCancel={() => setEditing(null)} />
        )}
      </Modal>
      <ConfirmModal open={deleting !== null} title="Delete route" confirmLabel="Delete"
                    body={<p>Requests for <strong>{deleting?.model}</strong> will fail unless an operator default exists.</p>}
                    onClose={() => setDeleting(null)}
                    onConfirm={async () => { await api.del(`/api/v1/routes/${seg(deleting!.model)}`); routes.reload(); }} />
    </>
  );
}
