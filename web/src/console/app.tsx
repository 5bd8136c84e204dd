// The tenant console (`/console`): sign-in, then a sidebar app with hash routes.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, ApiError } from '../lib/api';
import { kNeutralBranding, loadBranding, reloadTheme } from '../lib/branding';
import type { PublicBranding, Tenant, User } from '../lib/types';
import { BrandMark, BrandName } from '../ui/brand';
import { Button, ErrorNotice, Notice, Spinner, TextField } from '../ui/components';
import { useHashRoute } from '../ui/hooks';
import { IconMenu, IconSignOut } from '../ui/icons';
import { SignInCard } from '../ui/sign-in';
import { ConsoleContext, type ConsoleCtx } from './context';
import { AlertsPage } from './pages/alerts';
import { ApiKeysPage } from './pages/api-keys';
import { AuditPage } from './pages/audit';
import { BrandingPage } from './pages/branding';
import { CredentialsPage } from './pages/credentials';
import { DomainsPage } from './pages/domains';
import { JwtKeysPage } from './pages/jwt-keys';
import { OverviewPage } from './pages/overview';
import { PlaygroundPage } from './pages/playground';
import { PromptsPage } from './pages/prompts';
import { RoutesPage } from './pages/routes';
import { TeamPage } from './pages/team';
import { UsagePage } from './pages/usage';
import { UsersPage } from './pages/users';

interface Me { user: User; tenant: Tenant; csrf_token: string }

type Phase = { kind: 'loading' } | { kind: 'signin'; note?: string } | { kind: 'ready'; me: Me } | { kind: 'fatal'; error: unknown };

export function ConsoleApp() {
  const api = useMemo(() => new ApiClient(), []);
  const [branding, setBranding] = useState<PublicBranding>(kNeutralBranding);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  const fetchMe = useCallback(async (): Promise<Me | null> => {
    try {
      const me = await api.get<Me>('/api/v1/auth/me');
      api.setCsrfToken(me.csrf_token);
      return me;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
      throw e;
    }
  }, [api]);

  useEffect(() => {
    const b = loadBranding();
    fetchMe().then(
      async (me) => {
        setBranding(await b);
        setPhase(me ? { kind: 'ready', me } : { kind: 'signin' });
      },
      async (e) => {
        setBranding(await b);
        setPhase({ kind: 'fatal', error: e });
      });
    return api.onUnauthorized(() => setPhase({ kind: 'signin', note: 'Your session has ended. Please sign in again.' }));
  }, [api, fetchMe]);

  if (phase.kind === 'loading') return <div class="center-page"><Spinner /></div>;
  if (phase.kind === 'fatal') return <div class="center-page"><ErrorNotice error={phase.error} onRetry={() => location.reload()} /></div>;
  const invite = /^#\/accept-invite\?(.*)$/.exec(location.hash);
  const inviteToken = invite ? new URLSearchParams(invite[1]).get('token') : null;
  if (phase.kind === 'signin' && inviteToken) {
    return (
      <AcceptInvite branding={branding} onAccept={async (password, displayName) => {
        const r = await api.post<{ csrf_token?: string }>('/api/v1/auth/accept-invite',
                                                         { token: inviteToken, password, display_name: displayName || undefined });
        if (r?.csrf_token) api.setCsrfToken(r.csrf_token);
        history.replaceState(null, '', location.pathname);
        const me = await fetchMe();
        setPhase(me ? { kind: 'ready', me } : { kind: 'signin' });
      }} />
    );
  }
  if (phase.kind === 'signin') {
    const name = branding.tenant?.display_name;
    return (
      <SignInCard branding={branding} heading={name ? `${name} console` : 'Console sign-in'}
                  subtitle="Sign in to manage your workspace, keys and usage."
                  onSubmit={async (email, password) => {
                    const r = await api.post<{ user: User; csrf_token: string }>('/api/v1/auth/login', { email, password });
                    api.setCsrfToken(r.csrf_token);
                    const me = await fetchMe();
                    if (!me) throw new ApiError(401, 'Signed in, but the session was not accepted. Are cookies enabled?');
                    setPhase({ kind: 'ready', me });
                  }}
                  footer={phase.note ? <Notice tone="warn">{phase.note}</Notice> : undefined} />
    );
  }
  return <ConsoleShell api={api} me={phase.me} branding={branding}
                       refreshBranding={() => { reloadTheme(); void loadBranding().then(setBranding); }}
                       onSignedOut={() => setPhase({ kind: 'signin' })} />;
}

function AcceptInvite({ branding, onAccept }: { branding: PublicBranding; onAccept: (password: string, name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try { await onAccept(password, name.trim()); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <main class="signin-page">
      <div class="signin-brand-bar" />
      <form class="card signin-card" onSubmit={submit} aria-labelledby="invite-title">
        <div class="signin-head">
          <BrandMark branding={branding} size={40} />
          <h1 id="invite-title">Join {branding.tenant?.display_name ?? 'the console'}</h1>
          <p class="muted">Choose a password to accept your invitation.</p>
        </div>
        <TextField label="Your name" value={name} onValue={setName} autoComplete="name" />
        <TextField label="New password" type="password" value={password} onValue={setPassword} required minLength={10} autoComplete="new-password" />
        <ErrorNotice error={error} />
        <Button type="submit" variant="primary" busy={busy} class="btn-block">Accept invitation</Button>
      </form>
    </main>
  );
}

interface NavItem { route: string; label: string; section: string }
const kNav: NavItem[] = [
  { route: '/overview', label: 'Get started', section: 'Workspace' },
  { route: '/playground', label: 'Playground', section: 'Workspace' },
  { route: '/usage', label: 'Usage', section: 'Workspace' },
  { route: '/credentials', label: 'Provider keys', section: 'Configure' },
  { route: '/routes', label: 'Models & fallbacks', section: 'Configure' },
  { route: '/prompts', label: 'System prompt', section: 'Configure' },
  { route: '/keys', label: 'API keys', section: 'Configure' },
  { route: '/branding', label: 'Branding', section: 'Brand' },
  { route: '/domains', label: 'Domains', section: 'Brand' },
  { route: '/users', label: 'End users', section: 'People' },
  { route: '/team', label: 'Team', section: 'People' },
  { route: '/app-sign-in', label: 'App sign-in', section: 'People' },
  { route: '/alerts', label: 'Alerts & webhook', section: 'Monitor' },
  { route: '/audit', label: 'Audit log', section: 'Monitor' },
];

function pageFor(route: string): ComponentChildren {
  switch (route.split('?')[0]) {
    case '/playground': return <PlaygroundPage />;
    case '/usage': return <UsagePage />;
    case '/credentials': return <CredentialsPage />;
    case '/routes': return <RoutesPage />;
    case '/prompts': return <PromptsPage />;
    case '/keys': return <ApiKeysPage />;
    case '/branding': return <BrandingPage />;
    case '/domains': return <DomainsPage />;
    case '/users': return <UsersPage />;
    case '/team': return <TeamPage />;
    case '/app-sign-in': return <JwtKeysPage />;
    case '/alerts': return <AlertsPage />;
    case '/audit': return <AuditPage />;
    default: return <OverviewPage />;
  }
}

function ConsoleShell({ api, me, branding, refreshBranding, onSignedOut }: {
  api: ApiClient; me: Me; branding: PublicBranding; refreshBranding: () => void; onSignedOut: () => void;
}) {
  const [route, go] = useHashRoute('/overview');
  const [menu, setMenu] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const ctx: ConsoleCtx = useMemo(() => ({ api, user: me.user, tenant: me.tenant, branding, refreshBranding, go }),
                                  [api, me, branding, refreshBranding, go]);
  // Move focus to the new page's heading on navigation (screen readers hear the page change).
  const first = useRef(true);
  useEffect(() => {
    setMenu(false);
    if (first.current) { first.current = false; return; }
    mainRef.current?.querySelector<HTMLElement>('.page-title')?.focus();
  }, [route]);

  const logout = async () => {
    try { await api.post('/api/v1/auth/logout'); } catch { /* the session is gone either way */ }
    api.setCsrfToken(null);
    onSignedOut();
  };

  const sections = Array.from(new Set(kNav.map((n) => n.section)));
  const current = kNav.find((n) => route.startsWith(n.route))?.route ?? '/overview';
  return (
    <ConsoleContext.Provider value={ctx}>
      <div class="shell">
        <nav class={`side ${menu ? 'open' : ''}`} aria-label="Console" id="console-nav">
          <div class="side-brand" data-testid="brand-bar">
            <BrandMark branding={branding} size={28} />
            <BrandName branding={branding} />
          </div>
          <div class="side-sub">Console{me.tenant.status === 'suspended' ? ' · suspended' : ''}</div>
          {sections.map((s) => (
            <div key={s}>
              <div class="nav-section">{s}</div>
              <ul class="nav">
                {kNav.filter((n) => n.section === s).map((n) => (
                  <li key={n.route}>
                    <a href={`#${n.route}`} aria-current={current === n.route ? 'page' : undefined}>{n.label}</a>
                  </li>
                ))}
              </ul>
            </div>
          ))}
          <div class="side-foot">
            <span class="side-user" title={me.user.email}>{me.user.email}</span>
            <Button variant="ghost" class="btn-small" onClick={logout}><IconSignOut size={16} /> Sign out</Button>
          </div>
        </nav>
        {menu && <div class="scrim" onClick={() => setMenu(false)} aria-hidden="true" />}
        <div>
          <div class="top-bar">
            <button type="button" class="btn btn-ghost btn-icon" aria-label="Open menu" aria-expanded={menu}
                    aria-controls="console-nav" onClick={() => setMenu(true)}><IconMenu /></button>
            <BrandName branding={branding} />
          </div>
          <main class="content" ref={mainRef} id="main">
            {me.tenant.status === 'suspended' && (
              <div class="stack" style={{ marginBottom: '16px' }}>
                <Notice tone="danger" title="This workspace is suspended">
                  {me.tenant.suspended_reason || 'Requests are refused until the operator resumes it.'}
                </Notice>
              </div>
            )}
            {pageFor(route)}
          </main>
        </div>
      </div>
    </ConsoleContext.Provider>
  );
}
