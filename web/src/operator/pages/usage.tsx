import type { ApiClient } from '../../lib/api';
import type { ListResponse, Tenant } from '../../lib/types';
import { PageHeader } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { UsageView } from '../../ui/usage-view';

export function OpUsagePage({ api }: { api: ApiClient }) {
  const tenants = useAsync(() => api.get<ListResponse<Tenant>>('/admin/v1/tenants'), []);
  const tenantName = (id: string) => tenants.data?.data.find((t) => t.id === id)?.display_name ?? id;
  return (
    <>
      <PageHeader title="Global usage" description="Requests, tokens and estimated cost across every tenant." />
      <UsageView api={api} base="/admin/v1/usage" names={{ tenant: tenantName }}
                 breakdowns={[
                   { group: 'tenant', title: 'Top tenants', keyLabel: 'Tenant' },
                   { group: 'model', title: 'By model', keyLabel: 'Model' },
                 ]} />
    </>
  );
}
