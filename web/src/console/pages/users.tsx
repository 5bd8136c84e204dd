// Workspace end-user accounts (the people who sign in to the branded workspace).
import { useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { fmtAgo, fmtDate } from '../../lib/format';
import type { ListResponse, User } from '../../lib/types';
import { Button, Card, ConfirmModal, EmptyState, ErrorNotice, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

export function UsersPage() {
  const { api } = useConsole();
  const toast = useToast();
  const users = useAsync(() => api.get<ListResponse<User>>('/api/v1/users'), []);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post<User>('/api/v1/users', { email: email.trim(), password, display_name: name.trim() });
      setEmail(''); setName(''); setPassword('');
      toast('Account created');
      users.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="End users" description="Accounts that sign in to your branded workspace. Your own app can also sign users in with a JWT hand-off." />
      <Card title="Create an account">
        <form class="stack" onSubmit={create}>
          <div class="grid-2">
            <TextField label="E-mail" type="email" value={email} onValue={setEmail} required autoComplete="off" />
            <TextField label="Display name" value={name} onValue={setName} maxLength={80} />
            <TextField label="Initial password" type="password" value={password} onValue={setPassword} required minLength={10}
                       autoComplete="new-password" hint="At least 10 characters. Share it with the user securely." />
          </div>
          <ErrorNotice error={error} />
          <div class="row"><Button type="submit" variant="primary" busy={busy}>Create account</Button></div>
        </form>
      </Card>
      <Card title="Accounts">
        {users.loading && !users.data ? <Spinner /> : users.error ? <ErrorNotice error={users.error} onRetry={users.reload} /> :
          users.data!.data.length === 0 ? <EmptyState title="No end-user accounts yet" /> : (
            <table class="data">
              <thead><tr><th>E-mail</th><th>Name</th><th>Created</th><th>Last sign-in</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {users.data!.data.map((u) => (
                  <tr key={u.id}>
                    <td>{u.email}</td><td>{u.display_name}</td>
                    <td class="small">{fmtDate(u.created_at)}</td><td class="small">{fmtAgo(u.last_login_at)}</td>
                    <td class="cell-actions"><Button class="btn-small" variant="ghost" onClick={() => setRemoving(u)} aria-label={`Delete ${u.email}`}>Delete</Button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </Card>
      <ConfirmModal open={removing !== null} title="Delete account" confirmLabel="Delete"
                    body={<p><strong>{removing?.email}</strong> can no longer sign in to the workspace.</p>}
                    onClose={() => setRemoving(null)}
                    onConfirm={async () => { await api.del(`/api/v1/users/${seg(removing!.id)}`); users.reload(); }} />
    </>
  );
}
