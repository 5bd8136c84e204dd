// Console administrators: list, invite (the invite link is shown once), remove.
import { useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { fmtAgo, fmtDate } from '../../lib/format';
import type { ListResponse, User } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, EmptyState, ErrorNotice, PageHeader, SelectField, Spinner, TextField } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';
import { ShowOnce } from './api-keys';

export function TeamPage() {
  const { api, user } = useConsole();
  const admins = useAsync(() => api.get<ListResponse<User>>('/api/v1/admins'), []);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('admin');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [invite, setInvite] = useState<string | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ invite_url: string; token: string }>('/api/v1/admins', { email: email.trim(), role });
      setInvite(r.invite_url);
      setEmail('');
      admins.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Team" description="People who can sign in to this console." />
      <Card title="Invite an administrator">
        <form class="row" onSubmit={send} style={{ alignItems: 'flex-end' }}>
          <div class="grow"><TextField label="E-mail" type="email" value={email} onValue={setEmail} required /></div>
          <SelectField label="Role" value={role} onValue={setRole} options={[{ value: 'admin', label: 'Admin' }, { value: 'owner', label: 'Owner' }, { value: 'viewer', label: 'Viewer' }]} />
          <Button type="submit" variant="primary" busy={busy}>Create invite</Button>
        </form>
        <ErrorNotice error={error} />
      </Card>
      <Card title="Administrators">
        {admins.loading && !admins.data ? <Spinner /> : admins.error ? <ErrorNotice error={admins.error} onRetry={admins.reload} /> :
          admins.data!.data.length === 0 ? <EmptyState title="No administrators" /> : (
            <table class="data">
              <thead><tr><th>E-mail</th><th>Role</th><th>Added</th><th>Last sign-in</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {admins.data!.data.map((a) => (
                  <tr key={a.id}>
                    <td>{a.email}{a.id === user.id && <> <Badge tone="info">you</Badge></>}</td>
                    <td>{a.role}</td>
                    <td class="small">{fmtDate(a.created_at)}</td>
                    <td class="small">{fmtAgo(a.last_login_at)}</td>
                    <td class="cell-actions">{a.id !== user.id && <Button class="btn-small" variant="ghost" onClick={() => setRemoving(a)}>Remove</Button>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </Card>
      <ShowOnce open={invite !== null} secret={invite ?? ''} title="Invitation link" what="invitation link" onClose={() => setInvite(null)} />
      <ConfirmModal open={removing !== null} title="Remove administrator" confirmLabel="Remove"
                    body={<p><strong>{removing?.email}</strong> can no longer sign in to this console.</p>}
                    onClose={() => setRemoving(null)}
                    onConfirm={async () => { await api.del(`/api/v1/admins/${seg(removing!.id)}`); admins.reload(); }} />
    </>
  );
}
