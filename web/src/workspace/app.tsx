// The branded end-user workspace (`/` on the tenant's host): sign-in or JWT hand-off, chat with
// streamed answers, conversation history (server-side), model picker, shortcuts, mobile drawer.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, describeError, seg } from '../lib/api';
import { kNeutralBranding, loadBranding } from '../lib/branding';
import type { Conversation, PublicBranding } from '../lib/types';
import { BrandMark, BrandName } from '../ui/brand';
import { ChatPane, type ChatPaneHandle, type UiMessage } from '../ui/chat';
import { Button, ErrorNotice, Modal, Notice, Spinner, useToast } from '../ui/components';
import { useMediaQuery } from '../ui/hooks';
import { IconClose, IconMenu, IconPlus, IconSignOut, IconTrash } from '../ui/icons';
import { SignInCard } from '../ui/sign-in';
import { jwtHandOff, resumeSession, signIn, signOut, takeJwtFromLocation, type SessionInfo } from './session';

type Phase = { kind: 'loading' } | { kind: 'signin'; error?: string } | { kind: 'ready'; session: SessionInfo }
  | { kind: 'fatal'; error: unknown };

export function WorkspaceApp() {
  const api = useMemo(() => new ApiClient(), []);
  const [branding, setBranding] = useState<PublicBranding>(kNeutralBranding);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const jwt = takeJwtFromLocation();
      const b = loadBranding();
      try {
        let session: SessionInfo | null = null;
        let handOffError: string | undefined;
        if (jwt) {
          try {
            session = await jwtHandOff(api, jwt);
          } catch (e) {
            handOffError = `The sign-in link could not be used: ${describeError(e)}`;
          }
        }
        if (!session && !handOffError) session = await resumeSession(api);
        const br = await b;
        if (cancelled) return;
        setBranding(br);
        setPhase(session ? { kind: 'ready', session } : { kind: 'signin', error: handOffError });
      } catch (e) {
        if (!cancelled) {
          setBranding(await b);
          setPhase({ kind: 'fatal', error: e });
        }
      }
    })();
    const off = api.onUnauthorized(() => setPhase({ kind: 'signin', error: 'Your session has ended. Please sign in again.' }));
    return () => { cancelled = true; off(); };
  }, [api]);

  if (phase.kind === 'loading') return <div class="center-page"><Spinner /></div>;
  if (phase.kind === 'fatal') {
    return <div class="center-page"><ErrorNotice error={phase.error} onRetry={() => window.location.reload()} /></div>;
  }
  if (phase.kind === 'signin') {
    const name = branding.tenant?.display_name ?? 'your workspace';
    return (
      <SignInCard branding={branding} heading={`Sign in to ${name}`}
                  subtitle={phase.error ? undefined : 'Use the account your administrator created for you.'}
                  onSubmit={async (email, password) => {
                    const s = await signIn(api, email, password);
                    setPhase({ kind: 'ready', session: s });
                  }}
                  footer={<>
                    {phase.error && <Notice tone="warn">{phase.error}</Notice>}
                    <BrandFooter branding={branding} />
                  </>} />
    );
  }
  return <Workspace api={api} branding={branding} session={phase.session}
                    onSignedOut={() => setPhase({ kind: 'signin' })} />;
}

function BrandFooter({ branding }: { branding: PublicBranding }) {
  if (!branding.footer_text && !branding.support_email) return null;
  return (
    <footer class="brand-footer">
      {branding.footer_text && <span>{branding.footer_text}</span>}
      {branding.support_email && (
        <a href={`mailto:${branding.support_email}`}>{branding.support_email}</a>
      )}
    </footer>
  );
}

interface ConversationSummary {
  id: string;
  title: string;
  model: string;
  updated_at?: number;
  created_at?: number;
}

function groupLabel(ms: number | undefined, now: number): string {
  if (!ms) return 'Earlier';
  const day = 86_400_000;
  const startToday = new Date(now).setHours(0, 0, 0, 0);
  if (ms >= startToday) return 'Today';
  if (ms >= startToday - day) return 'Yesterday';
  if (ms >= startToday - 7 * day) return 'Previous 7 days';
  return 'Earlier';
}

function titleFrom(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 60 ? `${t.slice(0, 57)}…` : t || 'New chat';
}

function Workspace({ api, branding, session, onSignedOut }: {
  api: ApiClient; branding: PublicBranding; session: SessionInfo; onSignedOut: () => void;
}) {
  const toast = useToast();
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [modelsError, setModelsError] = useState<unknown>(null);
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [historyError, setHistoryError] = useState<unknown>(null);
  const [currentId, setCurrentId] = useState<string | null>(null);
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [drawer, setDrawer] = useState(false);
  const [help, setHelp] = useState(false);
  const [loadingConv, setLoadingConv] = useState(false);
  const mobile = useMediaQuery('(max-width: 760px)');
  const chat = useRef<ChatPaneHandle>(null);
  const currentIdRef = useRef<string | null>(null);
  currentIdRef.current = currentId;

  useEffect(() => {
    api.get<{ data: Array<{ id: string }> }>('/api/v1/workspace/models').then(
      (r) => {
        const ids = r.data.map((m) => m.id);
        setModels(ids);
        setModel((m) => (m && ids.includes(m) ? m : ids[0] ?? ''));
      },
      (e) => setModelsError(e));
    api.get<{ data: ConversationSummary[] }>('/api/v1/workspace/conversations').then(
      (r) => setConversations(r.data),
      (e) => setHistoryError(e));
  }, [api]);

  const newChat = useCallback(() => {
    chat.current?.stop();
    setCurrentId(null);
    setMessages([]);
    setDrawer(false);
    window.setTimeout(() => chat.current?.focus(), 0);
  }, []);

  const open = useCallback(async (id: string) => {
    chat.current?.stop();
    setDrawer(false);
    setLoadingConv(true);
    try {
      const c = await api.get<Conversation>(`/api/v1/workspace/conversations/${seg(id)}`);
      setCurrentId(c.id);
      setMessages(c.messages.filter((m) => m.role !== 'system')
        .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content, status: 'done' as const })));
      if (c.model && models.includes(c.model)) setModel(c.model);
    } catch (e) {
      toast(`Could not open the conversation: ${describeError(e)}`, 'danger');
    } finally {
      setLoadingConv(false);
    }
  }, [api, models, toast]);

  const persist = useCallback(async (all: UiMessage[]) => {
    const wire = all.filter((m) => m.content !== '').map((m) => ({ role: m.role, content: m.content }));
    if (wire.length === 0) return;
    const firstUser = all.find((m) => m.role === 'user')?.content ?? '';
    const id = currentIdRef.current;
    try {
      if (id) {
        const c = await api.put<Conversation>(`/api/v1/workspace/conversations/${seg(id)}`,
                                              { title: titleFrom(firstUser), model, messages: wire });
        setConversations((list) => [{ id: c.id, title: c.title, model: c.model, updated_at: c.updated_at ?? Date.now() },
                                    ...list.filter((x) => x.id !== c.id)]);
      } else {
        const c = await api.post<Conversation>('/api/v1/workspace/conversations',
                                               { title: titleFrom(firstUser), model, messages: wire });
        setCurrentId(c.id);
        setConversations((list) => [{ id: c.id, title: c.title, model: c.model, updated_at: c.updated_at ?? Date.now() }, ...list]);
      }
    } catch (e) {
      toast(`This conversation could not be saved: ${describeError(e)}`, 'warn');
    }
  }, [api, model, toast]);

  const remove = useCallback(async (id: string) => {
    try {
      await api.del(`/api/v1/workspace/conversations/${seg(id)}`);
      setConversations((list) => list.filter((x) => x.id !== id));
      if (currentIdRef.current === id) newChat();
      toast('Conversation deleted');
    } catch (e) {
      toast(describeError(e), 'danger');
    }
  }, [api, newChat, toast]);

  // Global shortcuts: Esc stops, Ctrl/Cmd+K new chat, Ctrl/Cmd+/ shortcut help.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (e.key === 'Escape' && chat.current?.streaming()) {
        e.preventDefault();
        chat.current.stop();
      } else if (mod && (e.key === 'k' || e.key === 'K')) {
        e.preventDefault();
        newChat();
      } else if (mod && e.key === '/') {
        e.preventDefault();
        setHelp(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [newChat]);

  const logout = async () => {
    chat.current?.stop();
    try {
      await signOut(api);
    } finally {
      onSignedOut();
    }
  };

  const now = Date.now();
  const groups = new Map<string, ConversationSummary[]>();
  for (const c of conversations) {
    const g = groupLabel(c.updated_at ?? c.created_at, now);
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const name = branding.tenant?.display_name ?? 'Workspace';
  const userLabel = session.user?.display_name || session.user?.email || 'Signed in';

  const sidebar = (
    <nav class={`ws-sidebar ${drawer ? 'open' : ''}`} aria-label="Conversations" id="ws-sidebar">
      <div class="ws-brand" data-testid="brand-bar">
        <BrandMark branding={branding} size={28} />
        <BrandName branding={branding} />
        {mobile && (
          <button type="button" class="btn btn-ghost btn-icon ws-close" aria-label="Close menu" onClick={() => setDrawer(false)}>
            <IconClose />
          </button>
        )}
      </div>
      <Button variant="primary" class="btn-block" onClick={newChat} aria-keyshortcuts="Control+K Meta+K">
        <IconPlus size={16} /> New chat
      </Button>
      <div class="ws-history">
        {historyError ? <p class="muted small">History is unavailable right now.</p> : null}
        {conversations.length === 0 && !historyError && <p class="muted small">Your conversations will appear here.</p>}
        {Array.from(groups.entries()).map(([label, items]) => (
          <section key={label} class="ws-group">
            <h2 class="ws-group-title">{label}</h2>
            <ul>
              {items.map((c) => (
                <li key={c.id} class={`ws-conv ${c.id === currentId ? 'active' : ''}`}>
                  <button type="button" class="ws-conv-open" onClick={() => open(c.id)}
                          aria-current={c.id === currentId ? 'page' : undefined}>
                    {c.title || 'Untitled'}
                  </button>
                  <button type="button" class="btn btn-ghost btn-icon ws-conv-del" aria-label={`Delete “${c.title || 'Untitled'}”`}
                          onClick={() => remove(c.id)}>
                    <IconTrash size={16} />
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
      <div class="ws-user">
        <span class="ws-user-name" title={userLabel}>{userLabel}</span>
        <button type="button" class="btn btn-ghost btn-icon" aria-label="Sign out" onClick={logout}><IconSignOut /></button>
      </div>
      <BrandFooter branding={branding} />
    </nav>
  );

  return (
    <div class="ws">
      {sidebar}
      {mobile && drawer && <div class="scrim" onClick={() => setDrawer(false)} aria-hidden="true" />}
      <main class="ws-main" aria-label={`${name} chat`}>
        <header class="ws-top">
          {mobile && (
            <button type="button" class="btn btn-ghost btn-icon" aria-label="Open menu" aria-expanded={drawer}
                    aria-controls="ws-sidebar" onClick={() => setDrawer(true)}>
              <IconMenu />
            </button>
          )}
          {models.length > 1 ? (
            <label class="model-picker">
              <span class="sr-only">Model</span>
              <select value={model} onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)}
                      data-testid="model-picker">
                {models.map((m) => <option key={m} value={m}>{m}</option>)}
              </select>
            </label>
          ) : (
            <span class="model-single" data-testid="model-picker">{model}</span>
          )}
          <button type="button" class="btn btn-ghost btn-small ws-help" onClick={() => setHelp(true)}
                  aria-keyshortcuts="Control+/">Shortcuts</button>
        </header>
        {modelsError ? <div class="ws-banner"><ErrorNotice error={modelsError} /></div> : null}
        {!modelsError && models.length === 0 && (
          <div class="ws-banner"><Notice tone="warn">No models are available yet. Please contact your administrator.</Notice></div>
        )}
        {loadingConv ? <Spinner label="Opening conversation" /> : (
          <ChatPane ref={chat} api={api} model={model} messages={messages} setMessages={setMessages}
                    onTurnEnd={persist} placeholder={`Message ${name}`} disabled={!model}
                    empty={
                      <div class="ws-welcome">
                        <BrandMark branding={branding} size={48} />
                        <h1>How can {name} help?</h1>
                        <p class="muted">Enter sends, Shift+Enter adds a line, Esc stops an answer.</p>
                      </div>
                    } />
        )}
      </main>
      <Modal open={help} title="Keyboard shortcuts" onClose={() => setHelp(false)}>
        <table class="shortcuts">
          <tbody>
            <tr><th scope="row"><kbd>Enter</kbd></th><td>Send</td></tr>
            <tr><th scope="row"><kbd>Shift</kbd> + <kbd>Enter</kbd></th><td>New line</td></tr>
            <tr><th scope="row"><kbd>Esc</kbd></th><td>Stop the answer</td></tr>
            <tr><th scope="row"><kbd>Ctrl</kbd>/<kbd>⌘</kbd> + <kbd>K</kbd></th><td>New chat</td></tr>
            <tr><th scope="row"><kbd>Ctrl</kbd>/<kbd>⌘</kbd> + <kbd>/</kbd></th><td>This list</td></tr>
          </tbody>
        </table>
      </Modal>
    </div>
  );
}
