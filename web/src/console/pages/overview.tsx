// Get started: the onboarding wizard (brand → provider key → first API key → playground), and
// once set up, a summary of the workspace.
import { useEffect, useState } from 'preact/hooks';
import { seg } from '../../lib/api';
import { providerName } from '../../lib/providers';
import type { ApiKey, Credential, ListResponse, Route } from '../../lib/types';
import { Button, Card, CopyButton, ErrorNotice, Notice, PageHeader, Spinner, TextField } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';
import { CreateKeyForm } from './api-keys';
import { BrandingForm } from './branding';
import { CredentialList } from './credentials';
import { Playground } from './playground';
import { QuotaCard } from './usage';
import { VaultForm } from '../vault';

const kSteps = ['Brand', 'Provider key', 'API key', 'Try it'];

const kDefaultModel: Record<string, string> = {
  openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest', azure: 'gpt-4o-mini', ollama: 'llama3.1', openai_compatible: 'default',
};

function ModelStep({ credential, onDone }: { credential: Credential; onDone: () => void }) {
  const { api } = useConsole();
  const [model, setModel] = useState(kDefaultModel[credential.provider] ?? 'default');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const m = model.trim();
      await api.put<Route>(`/api/v1/routes/${seg(m)}`, {
        deployments: [{ name: `${credential.provider}-${m}`, provider: credential.provider, model: m, credential_id: credential.id,
                        priority: 0, weight: 1, max_context_tokens: 0 }],
      });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={save} data-testid="model-step">
      <p>Which {providerName(credential.provider)} model should your workspace use? You can add more models and fallbacks later.</p>
      <TextField label="Model" value={model} onValue={setModel} required />
      <ErrorNotice error={error} />
      <div class="row"><Button type="submit" variant="primary" busy={busy} disabled={!model.trim()}>Use this model</Button></div>
    </form>
  );
}

function Wizard({ initialStep, onFinish }: { initialStep: number; onFinish: () => void }) {
  const { api, go } = useConsole();
  const [step, setStep] = useState(initialStep);
  const creds = useAsync(() => api.get<ListResponse<Credential>>('/api/v1/credentials'), [step]);
  const routes = useAsync(() => api.get<ListResponse<Route>>('/api/v1/routes'), [step]);
  const [newKey, setNewKey] = useState<(ApiKey & { key: string }) | null>(null);
  const [routeMade, setRouteMade] = useState(false);
  const credList = creds.data?.data ?? [];
  const hasRoute = routeMade || (routes.data?.data.some((r) => !r.inherited) ?? false);
  const base = `${location.origin}/v1`;
  return (
    <>
      <ol class="wizard-steps" aria-label="Setup steps">
        {kSteps.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} class={i < step ? 'done' : ''}>
            <button type="button" class="btn btn-ghost btn-small" style={{ minHeight: '24px', padding: '0 4px' }} onClick={() => setStep(i)}>
              {s}{i < step ? <span class="sr-only"> (done)</span> : null}
            </button>
          </li>
        ))}
      </ol>
      {step === 0 && (
        <Card title="1. Make it yours">
          <p class="muted" style={{ marginBottom: '14px' }}>Name your workspace and pick your colours. Your end users see this brand.</p>
          <BrandingForm compact onSaved={() => setStep(1)} />
          <div class="row" style={{ marginTop: '12px' }}><Button variant="ghost" onClick={() => setStep(1)}>Skip for now</Button></div>
        </Card>
      )}
      {step === 1 && (
        <Card title="2. Connect your provider key">
          {creds.loading && !creds.data ? <Spinner /> : (
            <div class="stack">
              {credList.length > 0 && <CredentialList items={credList} onChanged={creds.reload} />}
              {credList.length === 0 && <VaultForm onDone={() => creds.reload()} />}
              {credList.length > 0 && !hasRoute && <ModelStep credential={credList[0]} onDone={() => { setRouteMade(true); routes.reload(); }} />}
              {credList.length > 0 && hasRoute && (
                <Notice tone="ok" title="Your key is connected">Only its fingerprint is kept visible. Next, create an API key for your apps.</Notice>
              )}
              <div class="row">
                <Button variant="primary" disabled={credList.length === 0 || !hasRoute} onClick={() => setStep(2)}>Continue</Button>
              </div>
            </div>
          )}
        </Card>
      )}
      {step === 2 && (
        <Card title="3. Create your first API key">
          {!newKey ? (
            <div class="stack">
              <p class="muted">Apps and the official OpenAI SDKs call your workspace with this key.</p>
              <CreateKeyForm compact onCreated={setNewKey} />
              <div class="row"><Button variant="ghost" onClick={() => setStep(3)}>Skip for now</Button></div>
            </div>
          ) : (
            <div class="stack">
              <Notice tone="warn">This is the only time the key is shown. Copy it now.</Notice>
              <div class="once-key" data-testid="once-secret">{newKey.key}</div>
              <div class="row"><CopyButton text={newKey.key} label="Copy key" /></div>
              <p class="muted small">Use it with any OpenAI SDK:</p>
              <pre class="prompt-content">{`from openai import OpenAI\nclient = OpenAI(base_url="${base}", api_key="lvr_…${newKey.last4}")`}</pre>
              <div class="row"><Button variant="primary" onClick={() => { setNewKey(null); setStep(3); }}>I've stored it — continue</Button></div>
            </div>
          )}
        </Card>
      )}
      {step === 3 && (
        <Card title="4. Try it in the playground">
          <Playground height={420} />
          <div class="row" style={{ marginTop: '12px' }}>
            <Button variant="primary" onClick={onFinish}>Finish setup</Button>
            <Button variant="ghost" onClick={() => go('/usage')}>See usage</Button>
          </div>
        </Card>
      )}
    </>
  );
}

export function OverviewPage() {
  const { api, tenant, go } = useConsole();
  const state = useAsync(() => Promise.all([
    api.get<ListResponse<Credential>>('/api/v1/credentials'),
    api.get<ListResponse<Route>>('/api/v1/routes'),
    api.get<ListResponse<ApiKey>>('/api/v1/keys'),
  ]), []);
  const [wizard, setWizard] = useState<boolean | null>(null);
  useEffect(() => {
    if (!state.data || wizard !== null) return;
    const [c, r, k] = state.data;
    setWizard(!(c.data.length > 0 && r.data.some((x) => !x.inherited) && k.data.length > 0));
  }, [state.data, wizard]);
  if (state.loading && !state.data) return <Spinner />;
  if (state.error) return <ErrorNotice error={state.error} onRetry={state.reload} />;
  const [c, r, k] = state.data!;
  if (wizard) {
    return (
      <>
        <PageHeader title={`Welcome to ${tenant.display_name}`} description="Four short steps and your branded AI workspace is live." />
        <Wizard initialStep={0} onFinish={() => { setWizard(false); state.reload(); }} />
      </>
    );
  }
  return (
    <>
      <PageHeader title="Overview" description="Your workspace at a glance." actions={<Button onClick={() => setWizard(true)}>Run setup again</Button>} />
      <div class="tiles">
        <a class="tile" href="#/credentials"><div class="tile-label">Provider keys</div><div class="tile-value">{c.data.length}</div>
          <div class="tile-sub">{c.data.filter((x) => x.health === 'refused').length} refused</div></a>
        <a class="tile" href="#/routes"><div class="tile-label">Models</div><div class="tile-value">{r.data.length}</div></a>
        <a class="tile" href="#/keys"><div class="tile-label">Active API keys</div><div class="tile-value">{k.data.filter((x) => !x.revoked_at).length}</div></a>
      </div>
      <QuotaCard />
      <Card title="Next">
        <div class="row">
          <Button onClick={() => go('/playground')}>Open the playground</Button>
          <Button onClick={() => go('/branding')}>Adjust branding</Button>
          <Button onClick={() => go('/domains')}>Add a custom domain</Button>
        </div>
      </Card>
    </>
  );
}
