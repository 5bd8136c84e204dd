// Upstream health per tenant credential (fingerprints only). The response shape is listed in
// docs/API.md only as "upstream health per tenant credential", so rows are rendered generically
// from their fields, as text.
import type { ApiClient } from '../../lib/api';
import { detailsText } from '../../lib/format';
import { Badge, Card, EmptyState, ErrorNotice, PageHeader, Spinner } from '../../ui/components';
import { useAsync } from '../../ui/hooks';

type Row = Record<string, unknown>;

function rowsOf(v: unknown): Row[] {
  if (Array.isArray(v)) return v as Row[];
  if (v && typeof v === 'object' && Array.isArray((v as { data?: unknown }).data)) return (v as { data: Row[] }).data;
  return [];
}

function cell(k: string, v: unknown) {
  if (k === 'health' || k === 'status') {
    const s = String(v);
    const tone = s === 'ok' ? 'ok' : s === 'refused' ? 'danger' : s === 'unreachable' ? 'warn' : 'neutral';
    return <Badge tone={tone}>{s}</Badge>;
  }
  if (k.endsWith('_at') && typeof v === 'number') return v ? new Date(v).toLocaleString() : '—';
  return detailsText(v);
}

export function HealthPage({ api }: { api: ApiClient }) {
  const h = useAsync(() => api.get<unknown>('/admin/v1/health'), []);
  const rows = rowsOf(h.data);
  const cols = Array.from(new Set(rows.flatMap((r) => Object.keys(r)))).slice(0, 8);
  return (
    <>
      <PageHeader title="Upstream health" description="Tells a single tenant's refused key apart from a provider outage across tenants." />
      <Card>
        {h.loading && !h.data ? <Spinner /> : h.error ? <ErrorNotice error={h.error} onRetry={h.reload} /> :
          rows.length === 0 ? <EmptyState title="No credentials to report" /> : (
            <div class="table-wrap">
              <table class="data">
                <thead><tr>{cols.map((c) => <th key={c}>{c.replace(/_/g, ' ')}</th>)}</tr></thead>
                <tbody>{rows.map((r, i) => <tr key={i}>{cols.map((c) => <td key={c} class="small">{cell(c, r[c])}</td>)}</tr>)}</tbody>
              </table>
            </div>
          )}
      </Card>
    </>
  );
}
