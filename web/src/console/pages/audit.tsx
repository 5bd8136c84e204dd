import { detailsText, fmtDate } from '../../lib/format';
import type { AuditEntry, ListResponse } from '../../lib/types';
import { Card, EmptyState, ErrorNotice, PageHeader, Spinner } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) return <EmptyState title="Nothing recorded yet" />;
  return (
    <div class="table-wrap">
      <table class="data">
        <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Details</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td class="small">{fmtDate(e.ts)}</td>
              <td class="small">{e.actor}</td>
              <td><code>{e.action}</code></td>
              <td class="small mono">{detailsText(e.details).slice(0, 400)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditPage() {
  const { api } = useConsole();
  const log = useAsync(() => api.get<ListResponse<AuditEntry>>('/api/v1/audit'), []);
  return (
    <>
      <PageHeader title="Audit log" description="Every change to keys, branding, routes, prompts and people in your workspace: who, what and when. Secrets are never recorded." />
      <Card>
        {log.loading && !log.data ? <Spinner /> : log.error ? <ErrorNotice error={log.error} onRetry={log.reload} /> : <AuditTable entries={log.data!.data} />}
      </Card>
    </>
  );
}
