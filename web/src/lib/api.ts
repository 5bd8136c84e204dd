// JSON client for the Livery HTTP API (docs/API.md). One instance per surface; it keeps the
// session's CSRF token in memory only (never in storage) and sends it as X-CSRF-Token on every
// state-changing request. The session itself is the HttpOnly cookie the server sets.
import type { ApiErrorBody } from './types';

/** Deadline for every API call (streaming chat has its own, see chat-stream.ts). */
export const kRequestTimeoutMs = 30_000;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly type: string | null;
  readonly retryAfterS: number | null;
  /** The parsed JSON error body, when there was one (e.g. a credential's "validation"). */
  body: unknown = null;
  constructor(status: number, message: string, code: string | null = null, type: string | null = null,
              retryAfterS: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.type = type;
    this.retryAfterS = retryAfterS;
  }
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Raw body (e.g. image bytes) sent with this content type instead of JSON. */
  rawBody?: Blob | ArrayBuffer;
  contentType?: string;
  timeoutMs?: number;
}

const kUnsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Builds an ApiError from a failed response; reads the OpenAI-shaped error body if present. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText || 'request failed'}`;
  let code: string | null = null;
  let type: string | null = null;
  let parsed: unknown = null;
  try {
    const text = await res.text();
    if (text) {
      const body = JSON.parse(text) as Partial<ApiErrorBody>;
      parsed = body;
      if (body && body.error && typeof body.error.message === 'string') {
        message = body.error.message;
        code = body.error.code ?? null;
        type = body.error.type ?? null;
      }
    }
  } catch {
    // Not JSON: keep the status line.
  }
  const ra = res.headers.get('retry-after');
  const retry = ra !== null && /^\d+$/.test(ra) ? Number(ra) : null;
  const err = new ApiError(res.status, message, code, type, retry);
  err.body = parsed;
  return err;
}

/** Combines a caller's signal with a deadline. */
export function withDeadline(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}

export class ApiClient {
  private csrf: string | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly base = '') {}

  setCsrfToken(token: string | null): void {
    this.csrf = token;
  }
  csrfToken(): string | null {
    return this.csrf;
  }
  /** Called when any request answers 401 (the session expired or was revoked). */
  onUnauthorized(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Headers for a request made outside request() (streaming chat). */
  headers(method: string, json = true): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json' };
    if (json) h['Content-Type'] = 'application/json';
    if (this.csrf && kUnsafeMethods.has(method)) h['X-CSRF-Token'] = this.csrf;
    return h;
  }

  url(path: string): string {
    return this.base + path;
  }

  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const raw = opts.rawBody !== undefined;
    const headers = this.headers(method, !raw && body !== undefined);
    if (raw) headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        body: raw ? opts.rawBody : body === undefined ? undefined : JSON.stringify(body),
        signal: withDeadline(opts.signal, opts.timeoutMs ?? kRequestTimeoutMs),
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'TimeoutError') {
        throw new ApiError(0, 'The server did not answer in time. Please try again.', 'timeout');
      }
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.', 'network');
    }
    if (!res.ok) {
      const err = await errorFromResponse(res);
      if (res.status === 401) this.listeners.forEach((fn) => fn());
      throw err;
    }
    if (res.status === 204) return undefined as T;
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('application/json')) return (await res.json()) as T;
    return (await res.text()) as unknown as T;
  }

  get<T>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, undefined, opts);
  }
  post<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('POST', path, body ?? {}, opts);
  }
  put<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('PUT', path, body ?? {}, opts);
  }
  patch<T>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>('PATCH', path, body ?? {}, opts);
  }
  del<T = void>(path: string, opts?: RequestOptions) {
    return this.request<T>('DELETE', path, undefined, opts);
  }
}

/** A short, human message for any error thrown by the client. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 429 && e.retryAfterS) return `${e.message} (try again in ${e.retryAfterS} s)`;
    return e.message;
  }
  if (e instanceof DOMException && e.name === 'AbortError') return 'Cancelled.';
  return 'Something went wrong. Please try again.';
}

/** Encodes a path segment taken from data (ids, hosts, model names). */
export const seg = (s: string) => encodeURIComponent(s);
