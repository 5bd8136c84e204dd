// Streams an OpenAI-compatible chat completion from POST /v1/chat/completions with the session
// cookie and CSRF token (fetch + ReadableStream, not EventSource, which cannot POST). Aborting
// `signal` aborts the fetch, which closes the connection; the gateway then cancels the upstream
// request (the tenant pays for tokens).
import { ApiClient, ApiError, errorFromResponse } from './api';
import { SseParser } from './sse';
import type { ChatMessage } from './types';

/** No bytes for this long while streaming: the answer is abandoned. */
export const kStreamIdleTimeoutMs = 120_000;
/** The response head must arrive within this time. */
export const kStreamFirstByteTimeoutMs = 120_000;

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  max_tokens?: number;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface StreamResult {
  text: string;
  finishReason: string | null;
  usage: ChatUsage | null;
  deployment: string | null;
  requestId: string | null;
}

interface ChunkChoice {
  delta?: { content?: string | null; role?: string };
  finish_reason?: string | null;
}
interface Chunk {
  choices?: ChunkChoice[];
  usage?: ChatUsage | null;
  error?: { message?: string; code?: string };
}

/** Applies one `data:` payload; returns the text delta (may be empty). Exported for tests. */
export function applyChunk(data: string, result: StreamResult): string {
  let chunk: Chunk;
  try {
    chunk = JSON.parse(data) as Chunk;
  } catch {
    throw new ApiError(502, 'The answer stream was malformed.', 'bad_stream');
  }
  if (chunk.error) {
    throw new ApiError(502, chunk.error.message || 'The model stopped with an error.',
                       chunk.error.code ?? 'stream_error');
  }
  if (chunk.usage) result.usage = chunk.usage;
  let delta = '';
  for (const choice of chunk.choices ?? []) {
    const piece = choice.delta?.content;
    if (typeof piece === 'string') delta += piece;
    if (choice.finish_reason) result.finishReason = choice.finish_reason;
  }
  result.text += delta;
  return delta;
}

export async function streamChat(
  api: ApiClient,
  request: ChatRequest,
  signal: AbortSignal,
  onDelta: (delta: string, soFar: string) => void,
): Promise<StreamResult> {
  const ctl = new AbortController();
  const abort = () => ctl.abort(signal.reason);
  if (signal.aborted) abort();
  signal.addEventListener('abort', abort, { once: true });
  let timer = window.setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')),
                                kStreamFirstByteTimeoutMs);
  const arm = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')),
                              kStreamIdleTimeoutMs);
  };
  const result: StreamResult = { text: '', finishReason: null, usage: null, deployment: null, requestId: null };
  try {
    const headers = api.headers('POST');
    headers.Accept = 'text/event-stream';
    const res = await fetch(api.url('/v1/chat/completions'), {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers,
      body: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
      signal: ctl.signal,
    });
    result.deployment = res.headers.get('x-livery-deployment');
    result.requestId = res.headers.get('x-request-id');
    if (!res.ok) throw await errorFromResponse(res);
    if (!res.body) throw new ApiError(502, 'The server sent no answer.', 'empty');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    arm();
    for (;;) {
      const { value, done } = await reader.read();
      // A read can resolve with already-buffered text after Stop: nothing may render after it.
      if (ctl.signal.aborted) throw ctl.signal.reason ?? new DOMException('aborted', 'AbortError');
      if (done) break;
      arm();
      for (const ev of parser.feed(value)) {
        if (ev.data === '[DONE]') {
          parser.end();
          return result;
        }
        const delta = applyChunk(ev.data, result);
        if (delta) onDelta(delta, result.text);
      }
    }
    parser.end();
    if (!result.finishReason) {
      throw new ApiError(502, 'The connection closed before the answer was complete.', 'truncated');
    }
    return result;
  } catch (e) {
    if (ctl.signal.aborted && ctl.signal.reason instanceof DOMException &&
        ctl.signal.reason.name === 'TimeoutError') {
      throw new ApiError(504, 'The model took too long to answer.', 'timeout');
    }
    throw e;
  } finally {
    window.clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
}
