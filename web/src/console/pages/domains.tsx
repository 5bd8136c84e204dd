// Custom domains: add, verification instructions (HTTP challenge or DNS TXT), status, remove.
import { useState } from 'preact/hooks';
import { describeError, seg } from '../../lib/api';
import { fmtDate } from '../../lib/format';
import type { Domain, ListResponse } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, CopyButton, EmptyState, ErrorNotice, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

const kHost = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function StatusBadge({ s }: { s: Domain['status'] }) {
  if (s === 'active') return <Badge tone="ok">Active</Badge>;
  if (s === 'verified') return <Badge tone="info">Verified</Badge>;
  return <Badge tone="warn">Pending verification</Badge>;
}

export function DomainsPage() {
  const { api, tenant } = useConsole();
  const toast = useToast();
  const domains = useAsync(() => api.get<ListResponse<Domain>>('/api/v1/domains'), []);
  const [host, setHost] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [checking, setChecking] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Domain | null>(null);
  const normalized = host.trim().toLowerCase().replace(/\.$/, '');
  const add = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post<Domain>('/api/v1/domains', { host: normalized });
      setHost('');
      domains.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const verify = async (d: Domain) => {
    setChecking(d.host);
    try {
      const r = await api.post<Domain>(`/api/v1/domains/${seg(d.host)}/verify`);
      toast(r.status === 'pending' ? 'Not verified yet: the challenge was not found.' : `${d.host} is ${r.status}.`, r.status === 'pending' ? 'warn' : 'ok');
      domains.reload();
    } catch (err) {
      toast(describeError(err), 'danger');
    } finally {
      setChecking(null);
    }
  };
  return (
    <>
      <PageHeader title="Domains" description={`Your workspace always answers at ${tenant.slug}.<base domain>. Add your own domain and verify it to serve your brand there.`} />
      <Card title="Add a domain">
        <form class="row" onSubmit={add}>
          <div class="grow">
            <TextField label="Domain" value={host} onValue={setHost} placeholder="ai.youragency.com"
                       error={host && !kHost.test(normalized) ? 'Enter a host name such as ai.example.com.' : null} />
          </div>
          <Button type="submit" variant="primary" busy={busy} disabled={!kHost.test(normalized)}>Add domain</Button>
        </form>
        <ErrorNotice error={error} />
      </Card>
      <Card title="Your domains">
        {domains.loading && !domains.data ? <Spinner /> : domains.error ? <ErrorNotice error={domains.error} onRetry={domains.reload} /> :
          domains.data!.data.length === 0 ? <EmptyState title="No custom domain yet" /> :
            <div class="stack">
              {domains.data!.data.map((d) => (
                <section key={d.host} class="card" aria-label={d.host}>
                  <div class="row-between">
                    <div class="row"><strong>{d.host}</strong><StatusBadge s={d.status} /></div>
                    <div class="row">
                      {d.status === 'pending' && <Button class="btn-small" busy={checking === d.host} onClick={() => verify(d)}>Check now</Button>}
                      <Button class="btn-small" variant="ghost" onClick={() => setRemoving(d)}>Remove</Button>
                    </div>
                  </div>
                  <p class="muted small">Added {fmtDate(d.created_at)}{d.verified_at ? ` · verified ${fmtDate(d.verified_at)}` : ''}</p>
                  {d.status === 'pending' && d.verification && (
                    <div class="stack" style={{ marginTop: '12px' }}>
                      <p><strong>Verify ownership</strong> with either method, then press “Check now”.</p>
                      <ol class="stack" style={{ paddingLeft: '20px', margin: 0 }}>
                        <li>
                          Point <span class="mono">{d.host}</span> at Livery (a CNAME to your workspace address), so that this URL answers with the token:
                          <div class="row"><code class="once-key grow">{d.verification.http_url}</code><CopyButton text={d.verification.http_url} compact label="Copy URL" /></div>
                        </li>
                        <li>
                          Or add a DNS TXT record:
                          <div class="kv" style={{ marginTop: '6px' }}>
                            <div class="kv-row"><dt>Name</dt><dd class="row"><code>{d.verification.dns_txt_name}</code><CopyButton text={d.verification.dns_txt_name} compact label="Copy name" /></dd></div>
                            <div class="kv-row"><dt>Value</dt><dd class="row"><code>{d.verification.token}</code><CopyButton text={d.verification.token} compact label="Copy value" /></dd></div>
                          </div>
                        </li>
                      </ol>
                    </div>
                  )}
                </section>
              ))}
            </div>}
      </Card>
      <ConfirmModal open={removing !== null} title="Remove domain" confirmLabel="Remove"
                    body={<p>Livery stops serving your workspace at <strong>{removing?.host}</strong>. Remember to remove its DNS record too.</p>}
                    onClose={() => setRemoving(null)}
                    onConfirm={async () => { await api.del(`/api/v1/domains/${seg(removing!.host)}`); domains.reload(); }} />
    </>
  );
}
