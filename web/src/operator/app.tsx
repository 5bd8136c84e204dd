// The operator console (`/operator` on the operator host): sign-in with an operator token
// (exchanged for a session; the token is not kept), tenants, plans, global usage, upstream
// health and alerts.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, ApiError } from '../lib/api';
import { kNeutralBranding } from '../lib/branding';
import { Button, ErrorNotice, Notice, Spinner } from '../ui/components';
import { useHashRoute } from '../ui/hooks';
import { IconMenu, IconSignOut } from '../ui/icons';
import { SignInCard } from '../ui/sign-in';
import { OpAlertsPage } from './pages/alerts';
import { HealthPage } from './pages/health';
import { PlansPage } from './pages/plans';
import { TenantsPage } from './pages/tenants';
import { OpUsagePage } from './pages/usage';

type Phase = { kind: 'loading' } | { kind: 'signin'; note?: string } | { kind: 'ready' } | { kind: 'fatal'; error: unknown };

const kOperatorBranding = { ...kNeutralBranding, tenant: { slug: 'operator', display_name: 'Livery operator' } };

export function OperatorApp() {
  const api = useMemo(() => new ApiClient(), []);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  useEffect(() => {
    api.get<{ kind: string; csrf_token: string }>('/admin/v1/auth/me').then(
      (me) => { api.setCsrfToken(me.csrf_token); setPhase({ kind: 'ready' }); },
      (e) => setPhase(e instanceof ApiError && (e.status === 401 || e.status === 403) ? { kind: 'signin' } : { kind: 'fatal', error: e }));
    return api.onUnauthorized(() => setPhase({ kind: 'signin', note: 'Your session has ended. Please sign in again.' }));
  }, [api]);
  if (phase.kind === 'loading') return <div class="center-page"><Spinner /></div>;
  if (phase.kind === 'fatal') return <div class="center-page"><ErrorNotice error={phase.error} onRetry={() => location.reload()} /></div>;
  if (phase.kind === 'signin') {
    return (
      <SignInCard branding={kOperatorBranding} heading="Operator console" mode="token"
                  subtitle="Tenants, plans, usage and health of this Livery deployment."
                  onSubmit={async (_e, token) => {
                    const r = await api.post<{ csrf_token: string }>('/admin/v1/auth/login', { token: token.trim() });
                    api.setCsrfToken(r.csrf_token);
                    setPhase({ kind: 'ready' });
                  }}
                  footer={phase.note ? <Notice tone="warn">{phase.note}</Notice> : undefined} />
    );
  }
  return <OperatorShell api={api} onSignedOut={() => setPhase({ kind: 'signin' })} />;
}

const kNav = [
  { route: '/tenants', label: 'Tenants' },
  { route: '/plans', label: 'Plans' },
  { route: '/usage', label: 'Global usage' },
  { route: '/health', label: 'Upstream health' },
  { route: '/alerts', label: 'Alerts' },
];

function OperatorShell({ api, onSignedOut }: { api: ApiClient; onSignedOut: () => void }) {
  const [route] = useHashRoute('/tenants');
  const [menu, setMenu] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    setMenu(false);
    if (first.current) { first.current = false; return; }
    mainRef.current?.querySelector<HTMLElement>('.page-title')?.focus();
  }, [route]);
  const logout = async () => {
    try { await api.post('/admin/v1/auth/logout'); } catch { /* gone either way */ }
    api.setCsrfToken(null);
    onSignedOut();
  };
  const current = kNav.find((n) => route.startsWith(n.route))?.route ?? '/tenants';
  let page;
  switch (current) {
    case '/plans': page = <PlansPage api={api} />; break;
    case '/usage': page = <OpUsagePage api={api} />; break;
    case '/health': page = <HealthPage api={api} />; break;
    case '/alerts': page = <OpAlertsPage api={api} />; break;
    default: page = <TenantsPage api={api} />;
  }
  return (
    <div class="shell operator">
      <nav class={`side ${menu ? 'open' : ''}`} aria-label="Operator" id="op-nav">
        <div class="side-brand"><span class="brand-initial" style={{ width: '28px', height: '28px' }} aria-hidden="true">L</span><span class="brand-name">Livery operator</span></div>
        <ul class="nav">
          {kNav.map((n) => <li key={n.route}><a href={`#${n.route}`} aria-current={current === n.route ? 'page' : undefined}>{n.label}</a></li>)}
        </ul>
        <div class="side-foot">
          <Button variant="ghost" class="btn-small" onClick={logout}><IconSignOut size={16} /> Sign out</Button>
        </div>
      </nav>
      {menu && <div class="scrim" onClick={() => setMenu(false)} aria-hidden="true" />}
      <div>
        <div class="top-bar">
          <button type="button" class="btn btn-ghost btn-icon" aria-label="Open menu" aria-expanded={menu} aria-controls="op-nav" onClick={() => setMenu(true)}><IconMenu /></button>
          <span class="brand-name">Livery operator</span>
        </div>
        <main class="content" ref={mainRef}>{page}</main>
      </div>
    </div>
  );
}
