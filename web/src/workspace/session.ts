// End-user session for the workspace: password sign-in, JWT hand-off from the tenant's own app
// (/#jwt=<token>, removed from the address bar before anything else happens), and sign-out.
import { ApiClient, ApiError } from '../lib/api';
import type { User } from '../lib/types';

export interface SessionInfo {
  user: User | null;
  csrf_token: string;
}

/** Takes a JWT from the URL fragment (and erases it from history); null when absent. */
export function takeJwtFromLocation(): string | null {
  const h = window.location.hash;
  if (!h.startsWith('#jwt=')) return null;
  const token = decodeURIComponent(h.slice(5));
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return token || null;
}

export async function resumeSession(api: ApiClient): Promise<SessionInfo | null> {
  try {
    const me = await api.get<SessionInfo>('/api/v1/workspace/me');
    api.setCsrfToken(me.csrf_token);
    return me;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
    throw e;
  }
}

export async function signIn(api: ApiClient, email: string, password: string): Promise<SessionInfo> {
  const s = await api.post<SessionInfo>('/api/v1/workspace/login', { email, password });
  api.setCsrfToken(s.csrf_token);
  return s;
}

export async function jwtHandOff(api: ApiClient, token: string): Promise<SessionInfo> {
  const s = await api.post<SessionInfo>('/api/v1/workspace/jwt', { token });
  api.setCsrfToken(s.csrf_token);
  if (!s.user) {
    // Some servers answer the hand-off with only the token; ask who we are.
    const me = await resumeSession(api);
    if (me) return me;
  }
  return s;
}

export async function signOut(api: ApiClient): Promise<void> {
  try {
    await api.post('/api/v1/workspace/logout');
  } finally {
    api.setCsrfToken(null);
  }
}
