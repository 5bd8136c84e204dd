// Tenants: list, create, suspend (with a reason), resume, change plan, details with usage.
import { useState } from 'preact/hooks';
import { ApiClient, seg } from '../../lib/api';
import { fmtDate, fmtInt } from '../../lib/format';
import type { ListResponse, Plan, Tenant } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, EmptyState, ErrorNotice, KeyValue, Modal, PageHeader, SelectField, Spinner,
         TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';

const kSlug = /^[a-z0-9-]{2,40}$/;

function CreateTenant({ api, plans, onCreated }: { api: ApiClient; plans: Plan[]; onCreated: (t: Tenant) => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [plan, setPlan] = useState(plans[0]?.id ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [slugTouched, setSlugTouched] = useState(false);
  const derived = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  const s = slugTouched ? slug : derived;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { slug: s, display_name: name.trim(), plan_id: plan };
      if (email.trim()) body.admin_email = email.trim();
      if (password) body.admin_password = password;
      const t = await api.post<Tenant>('/admin/v1/tenants', body);
      onCreated(t);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={submit}>
      <TextField label="Display name" value={name} onValue={setName} required maxLength={80} />
      <TextField label="Slug" value={s} onValue={(v) => { setSlugTouched(true); setSlug(v); }} required
                 error={s && !kSlug.test(s) ? '2–40 of a–z, 0–9 and -.' : null} hint="The workspace answers at <slug>.<base domain>." />
      <SelectField label="Plan" value={plan} onValue={setPlan} options={plans.map((p) => ({ value: p.id, label: p.name }))} />
      <div class="grid-2">
        <TextField label="First admin e-mail (optional)" type="email" value={email} onValue={setEmail} />
        <TextField label="First admin password (optional)" type="password" value={password} onValue={setPassword} autoComplete="new-password" />
      </div>
      <ErrorNotice error={error} />
      <div class="row"><Button type="submit" variant="primary" busy={busy} disabled={!kSlug.test(s) || !name.trim() || !plan}>Create tenant</Button></div>
    </form>
  );
}

function TenantDetail({ api, id, plans, onChanged }: { api: ApiClient; id: string; plans: Plan[]; onChanged: () => void }) {
  const toast = useToast();
  const t = useAsync(() => api.get<Tenant>(`/admin/v1/tenants/${seg(id)}`), [id]);
  const [plan, setPlan] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState(false);
  if (t.loading && !t.data) return <Spinner />;
  if (t.error) return <ErrorNotice error={t.error} onRetry={t.reload} />;
  const tenant = t.data!;
  const run = async (label: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(label);
    setError(null);
    try { await fn(); toast(done); t.reload(); onChanged(); } catch (e) { setError(e); } finally { setBusy(null); }
  };
  const u = tenant.usage_month;
  return (
    <div class="stack">
      <KeyValue items={[
        ['Name', tenant.display_name],
        ['Slug', <span class="mono">{tenant.slug}</span>],
        ['Status', tenant.status === 'active' ? <Badge tone="ok">Active</Badge> : <Badge tone="danger">Suspended</Badge>],
        ...(tenant.status === 'suspended' ? [['Reason', tenant.suspended_reason || '—'] as [string, string]] : []),
        ['Plan', plans.find((p) => p.id === tenant.plan_id)?.name ?? tenant.plan_id],
        ['Created', fmtDate(tenant.created_at)],
        ['This month', u ? `${fmtInt(u.requests)} requests · ${fmtInt(u.prompt_tokens + u.completion_tokens)} tokens` : '—'],
      ]} />
      <div class="row" style={{ alignItems: 'flex-end' }}>
        <SelectField label="Change plan" value={plan || tenant.plan_id} onValue={setPlan} options={plans.map((p) => ({ value: p.id, label: p.name }))} />
        <Button busy={busy === 'plan'} disabled={!plan || plan === tenant.plan_id}
                onClick={() => run('plan', () => api.patch(`/admin/v1/tenants/${seg(id)}`, { plan_id: plan }), 'Plan changed')}>Apply plan</Button>
      </div>
      {tenant.status === 'active' ? (
        <div class="row" style={{ alignItems: 'flex-end' }}>
          <div class="grow"><TextField label="Suspension reason" value={reason} onValue={setReason} placeholder="e.g. abnormal volume, unpaid invoice" /></div>
          <Button variant="danger" busy={busy === 'suspend'} disabled={!reason.trim()}
                  onClick={() => run('suspend', () => api.post(`/admin/v1/tenants/${seg(id)}/suspend`, { reason: reason.trim() }), 'Tenant suspended')}>Suspend</Button>
        </div>
      ) : (
        <div class="row"><Button variant="primary" busy={busy === 'resume'}
                                 onClick={() => run('resume', () => api.post(`/admin/v1/tenants/${seg(id)}/resume`), 'Tenant resumed')}>Resume</Button></div>
      )}
      <ErrorNotice error={error} />
      <div class="row"><Button variant="ghost" onClick={() => setDeleting(true)}>Delete tenant…</Button></div>
      <ConfirmModal open={deleting} title="Delete tenant" confirmLabel="Delete tenant" typed={tenant.slug}
                    body={<p>Deletes <strong>{tenant.display_name}</strong>, its keys, credentials and branding.</p>}
                    onClose={() => setDeleting(false)}
                    onConfirm={async () => { await api.del(`/admin/v1/tenants/${seg(id)}`); onChanged(); }} />
    </div>
  );
}

export function TenantsPage({ api }: { api: ApiClient }) {
  const toast = useToast();
  const tenants = useAsync(() => api.get<ListResponse<Tenant>>('/admin/v1/tenants'), []);
  const plans = useAsync(() => api.get<ListResponse<Plan>>('/admin/v1/plans'), []);
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const planList = plans.data?.data ?? [];
  const rows = (tenants.data?.data ?? []).filter((t) => !filter || `${t.display_name} ${t.slug}`.toLowerCase().includes(filter.toLowerCase()));
  return (
    <>
      <PageHeader title="Tenants" description="Every agency on this deployment. Provider keys are never visible here — only fingerprints and health."
                  actions={<Button variant="primary" disabled={planList.length === 0} onClick={() => setCreating(true)}>Create tenant</Button>} />
      {plans.data && planList.length === 0 && <Card><EmptyState title="Create a plan first"><a href="#/plans">Plans</a></EmptyState></Card>}
      <Card>
        <div style={{ maxWidth: '320px', marginBottom: '12px' }}><TextField label="Search" type="search" value={filter} onValue={setFilter} /></div>
        {tenants.loading && !tenants.data ? <Spinner /> : tenants.error ? <ErrorNotice error={tenants.error} onRetry={tenants.reload} /> :
          rows.length === 0 ? <EmptyState title="No tenants" /> : (
            <div class="table-wrap">
              <table class="data">
                <thead><tr><th>Tenant</th><th>Slug</th><th>Plan</th><th>Status</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {rows.map((t) => (
                    <tr key={t.id} data-testid="tenant-row">
                      <td>{t.display_name}</td>
                      <td class="mono small">{t.slug}</td>
                      <td>{planList.find((p) => p.id === t.plan_id)?.name ?? t.plan_id}</td>
                      <td>{t.status === 'active' ? <Badge tone="ok">Active</Badge> : <Badge tone="danger">Suspended</Badge>}</td>
                      <td class="small">{fmtDate(t.created_at)}</td>
                      <td class="cell-actions"><Button class="btn-small" onClick={() => setOpen(t.id)} aria-label={`Manage ${t.display_name}`}>Manage</Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Card>
      <Modal open={creating} title="Create tenant" onClose={() => setCreating(false)} wide>
        <CreateTenant api={api} plans={planList} onCreated={() => { setCreating(false); toast('Tenant created'); tenants.reload(); }} />
      </Modal>
      <Modal open={open !== null} title="Manage tenant" onClose={() => setOpen(null)} wide>
        {open && <TenantDetail api={api} id={open} plans={planList} onChanged={tenants.reload} />}
      </Modal>
    </>
  );
}
