// Alerts (usage spikes, quota thresholds, key failures) and the alert webhook.
import { useEffect, useState } from 'preact/hooks';
import { describeError, seg } from '../../lib/api';
import { fmtDate, detailsText } from '../../lib/format';
import type { Alert, ListResponse } from '../../lib/types';
import { Badge, Button, Card, EmptyState, ErrorNotice, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';
import { ShowOnce } from './api-keys';

export function AlertTable({ alerts, onAck }: { alerts: Alert[]; onAck?: (a: Alert) => void }) {
  if (alerts.length === 0) return <EmptyState title="No alerts">Usage spikes, quota thresholds and key failures appear here.</EmptyState>;
  return (
    <div class="table-wrap">
      <table class="data">
        <thead><tr><th>When</th><th>Kind</th><th>Message</th><th>Status</th>{onAck && <th><span class="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id}>
              <td class="small">{fmtDate(a.created_at)}</td>
              <td><Badge tone={a.kind.includes('spike') || a.kind.includes('fail') ? 'danger' : 'warn'}>{a.kind}</Badge></td>
              <td>{a.message}{a.details ? <div class="muted small mono">{detailsText(a.details).slice(0, 300)}</div> : null}</td>
              <td>{a.acknowledged_at ? <Badge>Acknowledged</Badge> : <Badge tone="warn">Open</Badge>}</td>
              {onAck && <td class="cell-actions">{!a.acknowledged_at && <Button class="btn-small" onClick={() => onAck(a)}>Acknowledge</Button>}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AlertsPage() {
  const { api } = useConsole();
  const toast = useToast();
  const alerts = useAsync(() => api.get<ListResponse<Alert>>('/api/v1/alerts'), []);
  // GET /api/v1/webhook: {"url"} (null: none); the signing secret is only ever shown on save.
  const webhook = useAsync(() => api.get<{ url: string | null }>('/api/v1/webhook'), []);
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const current = webhook.data?.url ?? null;
  useEffect(() => { if (current) setUrl(current); }, [current]);
  const ack = async (a: Alert) => {
    try {
      await api.post(`/api/v1/alerts/${seg(a.id)}/ack`);
      alerts.reload();
    } catch (err) {
      toast(describeError(err), 'danger');
    }
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.put<{ url: string; secret?: string }>('/api/v1/webhook', { url: url.trim() });
      if (r.secret) setSecret(r.secret);
      webhook.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.del('/api/v1/webhook');
      setUrl('');
      webhook.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Alerts & webhook" description="Livery watches for unusual volume (for example 10× your usual rate), quota thresholds and provider-key failures." />
      <Card title="Recent alerts">
        {alerts.loading && !alerts.data ? <Spinner /> : alerts.error ? <ErrorNotice error={alerts.error} onRetry={alerts.reload} /> :
          <AlertTable alerts={alerts.data!.data} onAck={ack} />}
      </Card>
      <Card title="Webhook">
        <form class="stack" onSubmit={save}>
          {webhook.error ? <ErrorNotice error={webhook.error} onRetry={webhook.reload} /> : webhook.data &&
            <p class="muted" data-testid="webhook-status">{current ? <>Alerts are sent to <code>{current}</code>.</> : 'No webhook: alerts are only listed here.'}</p>}
          <TextField label="Webhook URL" type="url" value={url} onValue={setUrl} placeholder="https://hooks.example.com/livery" required
                     hint={<>Alerts are POSTed as JSON, signed with <code>X-Livery-Signature: sha256=&lt;hex HMAC&gt;</code>. Saving shows a new signing secret once.</>} />
          <ErrorNotice error={error} />
          <div class="row">
            <Button type="submit" variant="primary" busy={busy}>Save webhook</Button>
            {current && <Button variant="ghost" onClick={remove} disabled={busy}>Remove webhook</Button>}
          </div>
        </form>
      </Card>
      <ShowOnce open={secret !== null} secret={secret ?? ''} title="Webhook signing secret" what="secret" onClose={() => setSecret(null)} />
    </>
  );
}
