import type { ApiClient } from '../../lib/api';
import { describeError, seg } from '../../lib/api';
import type { Alert, ListResponse } from '../../lib/types';
import { AlertTable } from '../../console/pages/alerts';
import { Card, ErrorNotice, PageHeader, Spinner, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';

export function OpAlertsPage({ api }: { api: ApiClient }) {
  const toast = useToast();
  const alerts = useAsync(() => api.get<ListResponse<Alert>>('/admin/v1/alerts'), []);
  const ack = async (a: Alert) => {
    try {
      await api.post(`/admin/v1/alerts/${seg(a.id)}/ack`);
      alerts.reload();
    } catch (e) {
      toast(describeError(e), 'danger');
    }
  };
  return (
    <>
      <PageHeader title="Alerts" description="Usage spikes, quota thresholds and key failures across tenants." />
      <Card>
        {alerts.loading && !alerts.data ? <Spinner /> : alerts.error ? <ErrorNotice error={alerts.error} onRetry={alerts.reload} /> :
          <AlertTable alerts={alerts.data!.data} onAck={ack} />}
      </Card>
    </>
  );
}
