import { fmtInt } from '../../lib/format';
import type { ApiKey, ListResponse, Quota } from '../../lib/types';
import { Card, ErrorNotice, Meter, PageHeader, Spinner } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { UsageView } from '../../ui/usage-view';
import { useConsole } from '../context';

export function QuotaCard() {
  const { api } = useConsole();
  const quota = useAsync(() => api.get<Quota>('/api/v1/quota'), []);
  return (
    <Card title="This month's quota">
      {quota.loading && !quota.data ? <Spinner /> : quota.error ? <ErrorNotice error={quota.error} onRetry={quota.reload} /> : (() => {
        const q = quota.data!;
        const unlimited = !q.limit;
        return (
          <div class="stack" data-testid="quota">
            <div class="row-between">
              <strong>{fmtInt(q.used)} tokens used{unlimited ? '' : ` of ${fmtInt(q.limit)}`}</strong>
              <span class="muted small">Period {q.period}</span>
            </div>
            {!unlimited && <Meter value={q.used + q.reserved} max={q.limit} label="Monthly token quota used" />}
            <span class="muted small">
              {unlimited ? 'No monthly limit. ' : ''}{q.reserved ? `${fmtInt(q.reserved)} reserved by requests in flight. ` : ''}
              Limits: {q.rpm ? `${fmtInt(q.rpm)} requests/min` : 'no request limit'}, {q.tpm ? `${fmtInt(q.tpm)} tokens/min` : 'no token rate limit'}.
            </span>
          </div>
        );
      })()}
    </Card>
  );
}

export function UsagePage() {
  const { api } = useConsole();
  const keys = useAsync(() => api.get<ListResponse<ApiKey>>('/api/v1/keys'), []);
  const keyName = (id: string) => {
    const k = keys.data?.data.find((x) => x.id === id);
    return k ? `${k.name} (…${k.last4})` : id || 'workspace session';
  };
  return (
    <>
      <PageHeader title="Usage" description="Tokens and requests of your workspace, by day, model, API key and end user. Costs are estimates at provider list prices." />
      <QuotaCard />
      <div style={{ height: '16px' }} />
      <UsageView api={api} base="/api/v1/usage" names={{ key: keyName }}
                 breakdowns={[
                   { group: 'model', title: 'By model', keyLabel: 'Model' },
                   { group: 'key', title: 'By API key', keyLabel: 'Key' },
                   { group: 'user', title: 'By end user', keyLabel: 'End user' },
                 ]} />
    </>
  );
}
