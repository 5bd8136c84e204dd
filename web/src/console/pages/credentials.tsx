// Provider keys: fingerprint cards (never the key), health, last use; add, validate, replace, delete.
import { useState } from 'preact/hooks';
import { describeError, seg } from '../../lib/api';
import { fmtAgo, fmtDate } from '../../lib/format';
import { providerName } from '../../lib/providers';
import type { Credential, ListResponse, Validation } from '../../lib/types';
import { Button, Card, ConfirmModal, EmptyState, ErrorNotice, Modal, PageHeader, Spinner, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';
import { HealthBadge, VaultForm, validationMessage } from '../vault';

export function CredentialList({ items, onChanged }: { items: Credential[]; onChanged: () => void }) {
  const { api } = useConsole();
  const toast = useToast();
  const [replacing, setReplacing] = useState<Credential | null>(null);
  const [deleting, setDeleting] = useState<Credential | null>(null);
  const [checking, setChecking] = useState<string | null>(null);
  const validate = async (c: Credential) => {
    setChecking(c.id);
    try {
      const v = await api.post<Validation>(`/api/v1/credentials/${seg(c.id)}/validate`);
      toast(validationMessage(c.provider, v), v.ok ? 'ok' : 'danger');
      onChanged();
    } catch (e) {
      toast(describeError(e), 'danger');
    } finally {
      setChecking(null);
    }
  };
  return (
    <>
      <div data-testid="credential-list">
        {items.map((c) => (
          <div key={c.id} class="cred-card" data-testid="credential">
            <div class="stack" style={{ gap: '4px' }}>
              <strong>{c.label || providerName(c.provider)}</strong>
              <span class="muted small">{providerName(c.provider)}{c.base_url ? ` · ${c.base_url}` : ''}</span>
            </div>
            <div class="stack" style={{ gap: '6px' }}>
              <div class="row"><span class="fingerprint" title="Fingerprint: the key itself is never shown">{c.fingerprint}</span><HealthBadge c={c} /></div>
              <span class="muted small">
                Added {fmtDate(c.created_at)} · last used {fmtAgo(c.last_used_at)}
                {c.health_detail ? ` · ${c.health_detail}` : ''}
              </span>
            </div>
            <div class="cell-actions">
              <Button class="btn-small" busy={checking === c.id} onClick={() => validate(c)}>Check now</Button>
              <Button class="btn-small" onClick={() => setReplacing(c)}>Replace</Button>
              <Button class="btn-small" variant="ghost" onClick={() => setDeleting(c)} aria-label={`Delete ${c.label}`}>Delete</Button>
            </div>
          </div>
        ))}
      </div>
      <Modal open={replacing !== null} title="Replace provider key" onClose={() => setReplacing(null)} wide>
        {replacing && (
          <VaultForm replace={replacing} onDone={() => { onChanged(); window.setTimeout(() => setReplacing(null), 1200); }} />
        )}
      </Modal>
      <ConfirmModal open={deleting !== null} title="Delete provider key"
                    body={<p>Routes that use <strong>{deleting?.label}</strong> ({deleting?.fingerprint}) stop answering until they get another key.</p>}
                    confirmLabel="Delete key" typed={deleting?.label || undefined}
                    onConfirm={async () => {
                      await api.del(`/api/v1/credentials/${seg(deleting!.id)}`);
                      toast('Provider key deleted');
                      onChanged();
                    }}
                    onClose={() => setDeleting(null)} />
    </>
  );
}

export function CredentialsPage() {
  const { api } = useConsole();
  const creds = useAsync(() => api.get<ListResponse<Credential>>('/api/v1/credentials'), []);
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageHeader title="Provider keys"
                  description="Your own OpenAI, Anthropic, Azure or compatible keys. Every model call of your workspace is paid with them. Livery stores them encrypted and shows only a fingerprint."
                  actions={<Button variant="primary" onClick={() => setAdding(true)}>Add provider key</Button>} />
      <Card>
        {creds.loading && !creds.data ? <Spinner /> : creds.error ? <ErrorNotice error={creds.error} onRetry={creds.reload} /> :
          creds.data!.data.length === 0
            ? <EmptyState title="No provider key yet">Add one to let your workspace call a model.</EmptyState>
            : <CredentialList items={creds.data!.data} onChanged={creds.reload} />}
      </Card>
      <Modal open={adding} title="Add provider key" onClose={() => setAdding(false)} wide>
        <VaultForm onDone={() => { creds.reload(); window.setTimeout(() => setAdding(false), 1500); }} />
      </Modal>
    </>
  );
}
