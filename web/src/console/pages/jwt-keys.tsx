// App sign-in keys: the keys the tenant's own app signs workspace hand-off JWTs with
// (`/#jwt=<token>`, verified by POST /api/v1/workspace/jwt). An HS256 secret is sealed in the vault
// and never shown again; RS256 and ES256 take a public key (PEM) or a JWKS document.
import { useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { fmtDate } from '../../lib/format';
import type { JwtAlgorithm, JwtKey, ListResponse } from '../../lib/types';
import { Badge, Button, Card, ConfirmModal, EmptyState, ErrorNotice, PageHeader, SelectField, Spinner, TextArea, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

const kKid = /^[A-Za-z0-9._:-]{1,128}$/;
const kMinSecretBytes = 32;
const kFormat: Record<string, string> = { secret: 'Shared secret', pem: 'Public key', jwks: 'JWKS' };

export function JwtKeysPage() {
  const { api } = useConsole();
  const toast = useToast();
  const keys = useAsync(() => api.get<ListResponse<JwtKey>>('/api/v1/jwt-keys'), []);
  const [kid, setKid] = useState('');
  const [algorithm, setAlgorithm] = useState<JwtAlgorithm>('HS256');
  const [secret, setSecret] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [issuer, setIssuer] = useState('');
  const [audience, setAudience] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<JwtKey | null>(null);
  const hs = algorithm === 'HS256';
  const material = hs ? secret : publicKey.trim();
  const secretBytes = new TextEncoder().encode(secret).length;
  const secretError = hs && secret && secretBytes < kMinSecretBytes ? `At least ${kMinSecretBytes} bytes (this one has ${secretBytes}).` : null;
  const kidError = kid && !kKid.test(kid) ? 'Letters, digits and . _ : - only.' : null;
  const canAdd = kKid.test(kid) && material.length > 0 && !secretError;

  const add = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, string> = { kid, algorithm };
    if (hs) body.secret = secret;
    else if (material.startsWith('{')) body.jwks = material;
    else body.public_pem = material;
    if (issuer.trim()) body.issuer = issuer.trim();
    if (audience.trim()) body.audience = audience.trim();
    try {
      await api.post<JwtKey>('/api/v1/jwt-keys', body);
      toast(`Key ${kid} added`);
      setKid('');
      setSecret('');
      setPublicKey('');
      setIssuer('');
      setAudience('');
      keys.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="App sign-in"
                  description={<>Let your own app sign its users straight into your workspace: it signs a short-lived JWT (its <span class="mono">sub</span> names the user) with a key registered here and links to <span class="mono">{window.location.origin}/#jwt=&lt;token&gt;</span>.</>} />
      <Card title="Add a signing key">
        <form class="stack" onSubmit={add} aria-label="Add a signing key">
          <div class="row" style={{ alignItems: 'flex-start' }}>
            <div class="grow">
              <TextField label="Key ID (kid)" value={kid} onValue={setKid} placeholder="app-2026" autoComplete="off" error={kidError}
                         hint="The kid header of your tokens." />
            </div>
            <SelectField label="Algorithm" value={algorithm} onValue={(v) => setAlgorithm(v as JwtAlgorithm)}
                         options={[{ value: 'HS256', label: 'HS256 (shared secret)' }, { value: 'RS256', label: 'RS256 (RSA public key)' }, { value: 'ES256', label: 'ES256 (P-256 public key)' }]} />
          </div>
          {hs
            ? <TextField label="Secret" type="password" value={secret} onValue={setSecret} autoComplete="new-password" error={secretError}
                         hint="Stored encrypted and never shown again." />
            : <TextArea label="Public key" value={publicKey} onValue={setPublicKey} rows={6} spellcheck={false} class="mono"
                        hint="A PEM public key (-----BEGIN PUBLIC KEY-----) or a JWKS document ({&quot;keys&quot;:[…]})." />}
          <div class="row" style={{ alignItems: 'flex-start' }}>
            <div class="grow"><TextField label="Issuer (optional)" value={issuer} onValue={setIssuer} hint="When set, tokens must carry this iss." /></div>
            <div class="grow"><TextField label="Audience (optional)" value={audience} onValue={setAudience} hint="When set, tokens must carry this aud." /></div>
          </div>
          <div class="row"><Button type="submit" variant="primary" busy={busy} disabled={!canAdd}>Add key</Button></div>
        </form>
        <ErrorNotice error={error} />
      </Card>
      <Card title="Registered keys">
        {keys.loading && !keys.data ? <Spinner /> : keys.error ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> :
          keys.data!.data.length === 0 ? <EmptyState title="No signing key yet">Until you add one, only your users' passwords sign them in.</EmptyState> :
            <div class="table-wrap">
              <table class="data" data-testid="jwt-keys">
                <thead><tr><th>Key ID</th><th>Algorithm</th><th>Key</th><th>Issuer</th><th>Audience</th><th>Added</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {keys.data!.data.map((k) => (
                    <tr key={k.id}>
                      <td class="mono">{k.kid}</td>
                      <td><Badge>{k.algorithm}</Badge></td>
                      <td>{kFormat[k.format ?? (k.has_public_key ? 'pem' : 'secret')]}</td>
                      <td>{k.issuer || <span class="muted">any</span>}</td>
                      <td>{k.audience || <span class="muted">any</span>}</td>
                      <td>{fmtDate(k.created_at)}</td>
                      <td class="cell-actions"><Button class="btn-small" variant="ghost" onClick={() => setDeleting(k)} aria-label={`Delete key ${k.kid}`}>Delete</Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>}
      </Card>
      <ConfirmModal open={deleting !== null} title="Delete signing key" confirmLabel="Delete key"
                    body={<p>Tokens signed with <strong class="mono">{deleting?.kid}</strong> stop signing anyone in.</p>}
                    onClose={() => setDeleting(null)}
                    onConfirm={async () => {
                      await api.del(`/api/v1/jwt-keys/${seg(deleting!.id)}`);
                      toast('Signing key deleted');
                      keys.reload();
                    }} />
    </>
  );
}
