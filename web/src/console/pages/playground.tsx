// Playground: chat against this workspace's models (same streaming path as the workspace),
// using the admin's console session.
import { useEffect, useState } from 'preact/hooks';
import type { ListResponse, Route } from '../../lib/types';
import { ChatPane, type UiMessage } from '../../ui/chat';
import { Button, Card, EmptyState, ErrorNotice, PageHeader, SelectField, Spinner } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

export function Playground({ height = 520 }: { height?: number }) {
  const { api, go } = useConsole();
  const routes = useAsync(() => api.get<ListResponse<Route>>('/api/v1/routes'), []);
  const [model, setModel] = useState('');
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const models = routes.data?.data.map((r) => r.model) ?? [];
  useEffect(() => { if (!model && models.length) setModel(models[0]); }, [models.join(','), model]);
  if (routes.loading && !routes.data) return <Spinner />;
  if (routes.error) return <ErrorNotice error={routes.error} onRetry={routes.reload} />;
  if (models.length === 0) {
    return <EmptyState title="No model configured yet"><Button onClick={() => go('/routes')}>Add a model</Button></EmptyState>;
  }
  return (
    <div class="stack">
      <div class="row-between">
        <SelectField label="Model" value={model} onValue={setModel} options={models.map((m) => ({ value: m, label: m }))} />
        <Button class="btn-small" onClick={() => setMessages([])} disabled={messages.length === 0}>Clear</Button>
      </div>
      <div class="playground" style={{ height: `${height}px` }} data-testid="playground">
        <ChatPane api={api} model={model} messages={messages} setMessages={setMessages} placeholder="Ask something to try your setup"
                  composerLabel="Playground message"
                  empty={<p class="muted" style={{ textAlign: 'center', padding: '40px 0' }}>Send a message to see a streamed answer from {model}.</p>} />
      </div>
    </div>
  );
}

export function PlaygroundPage() {
  return (
    <>
      <PageHeader title="Playground" description="Try your models with your system prompt and keys, exactly as your end users get them. Usage counts towards your quota." />
      <Card><Playground /></Card>
    </>
  );
}
