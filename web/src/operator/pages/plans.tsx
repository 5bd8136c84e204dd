// Plans: monthly token quota, rate limits, key limit and features.
import { useState } from 'preact/hooks';
import { ApiClient, seg } from '../../lib/api';
import { fmtInt } from '../../lib/format';
import type { ListResponse, Plan } from '../../lib/types';
import { Button, Card, EmptyState, ErrorNotice, Modal, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';

function PlanForm({ api, plan, onSaved }: { api: ApiClient; plan: Plan | null; onSaved: () => void }) {
  const [p, setP] = useState<Plan>(plan ?? { id: '', name: '', monthly_token_quota: 1_000_000, rpm: 60, tpm: 100_000, max_api_keys: 10, features: [] });
  const [features, setFeatures] = useState((plan?.features ?? []).join(', '));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const num = (v: string) => Math.max(0, Math.floor(Number(v) || 0));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { ...p, features: features.split(',').map((f) => f.trim()).filter(Boolean) };
    try {
      if (plan) await api.put(`/admin/v1/plans/${seg(plan.id)}`, body);
      else await api.post('/admin/v1/plans', body);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={submit}>
      <div class="grid-2">
        <TextField label="Id" value={p.id} onValue={(v) => setP({ ...p, id: v })} disabled={!!plan} required placeholder="pro" />
        <TextField label="Name" value={p.name} onValue={(v) => setP({ ...p, name: v })} required />
        <TextField label="Monthly token quota (0 = unlimited)" type="number" min={0} value={String(p.monthly_token_quota)} onValue={(v) => setP({ ...p, monthly_token_quota: num(v) })} />
        <TextField label="Requests per minute (0 = unlimited)" type="number" min={0} value={String(p.rpm)} onValue={(v) => setP({ ...p, rpm: num(v) })} />
        <TextField label="Tokens per minute (0 = unlimited)" type="number" min={0} value={String(p.tpm)} onValue={(v) => setP({ ...p, tpm: num(v) })} />
        <TextField label="Max API keys (0 = unlimited)" type="number" min={0} value={String(p.max_api_keys)} onValue={(v) => setP({ ...p, max_api_keys: num(v) })} />
      </div>
      <TextField label="Features" value={features} onValue={setFeatures} hint="Comma-separated, e.g. jwt, custom_domains, mock_response." />
      <ErrorNotice error={error} />
      <div class="row"><Button type="submit" variant="primary" busy={busy}>Save plan</Button></div>
    </form>
  );
}

export function PlansPage({ api }: { api: ApiClient }) {
  const toast = useToast();
  const plans = useAsync(() => api.get<ListResponse<Plan>>('/admin/v1/plans'), []);
  const [editing, setEditing] = useState<Plan | 'new' | null>(null);
  const lim = (n: number) => (n ? fmtInt(n) : 'unlimited');
  return (
    <>
      <PageHeader title="Plans" description="Limits every tenant on a plan gets (tenants can have overrides)." actions={<Button variant="primary" onClick={() => setEditing('new')}>Create plan</Button>} />
      <Card>
        {plans.loading && !plans.data ? <Spinner /> : plans.error ? <ErrorNotice error={plans.error} onRetry={plans.reload} /> :
          plans.data!.data.length === 0 ? <EmptyState title="No plans yet" /> : (
            <table class="data">
              <thead><tr><th>Plan</th><th class="num">Tokens / month</th><th class="num">RPM</th><th class="num">TPM</th><th class="num">API keys</th><th>Features</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {plans.data!.data.map((p) => (
                  <tr key={p.id}>
                    <td><strong>{p.name}</strong> <span class="muted small mono">{p.id}</span></td>
                    <td class="num">{lim(p.monthly_token_quota)}</td><td class="num">{lim(p.rpm)}</td><td class="num">{lim(p.tpm)}</td><td class="num">{lim(p.max_api_keys)}</td>
                    <td class="small">{p.features.join(', ') || '—'}</td>
                    <td class="cell-actions"><Button class="btn-small" onClick={() => setEditing(p)}>Edit</Button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </Card>
      <Modal open={editing !== null} title={editing === 'new' ? 'Create plan' : 'Edit plan'} onClose={() => setEditing(null)} wide>
        {editing !== null && <PlanForm api={api} plan={editing === 'new' ? null : editing} onSaved={() => { setEditing(null); toast('Plan saved'); plans.reload(); }} />}
      </Modal>
    </>
  );
}
