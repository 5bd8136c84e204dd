// The chat pane shared by the workspace and the console playground: message list with streamed
// markdown answers, Stop (aborts the fetch, which closes the connection so the gateway cancels
// the upstream request), Regenerate, Retry, and a composer (Enter sends, Shift+Enter newline,
// no send while an IME is composing, Esc stops).
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useImperativeHandle, useRef, useState } from 'preact/hooks';
import { forwardRef } from 'preact/compat';
import { ApiClient, describeError, ApiError } from '../lib/api';
import { streamChat } from '../lib/chat-stream';
import type { ChatMessage } from '../lib/types';
import { Button, CopyButton } from './components';
import { IconRefresh, IconSend, IconStop } from './icons';
import { MarkdownView } from './markdown-view';

export type MessageStatus = 'streaming' | 'done' | 'stopped' | 'error';

export interface UiMessage {
  role: 'user' | 'assistant';
  content: string;
  status?: MessageStatus;
  error?: string;
}

export interface ChatPaneHandle {
  stop: () => void;
  focus: () => void;
  streaming: () => boolean;
}

export function friendlyChatError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'upstream_credential_refused' || e.status === 502 && e.code === 'upstream_credential_refused') {
      return "This workspace isn't configured correctly. Please contact your administrator.";
    }
    if (e.code === 'insufficient_quota') return 'The monthly usage limit has been reached. Please contact your administrator.';
    if (e.code === 'account_suspended') return 'This workspace is temporarily unavailable.';
    if (e.status === 429) return `Too many requests right now.${e.retryAfterS ? ` Try again in ${e.retryAfterS} s.` : ' Try again shortly.'}`;
    if (e.status === 401) return 'Your session has ended. Please sign in again.';
    if (e.code === 'truncated') return 'The connection dropped before the answer was complete.';
    if (e.status >= 500 || e.status === 0) return 'The model could not be reached. Please try again.';
  }
  return describeError(e);
}

interface Props {
  api: ApiClient;
  model: string;
  messages: UiMessage[];
  setMessages: (m: UiMessage[] | ((prev: UiMessage[]) => UiMessage[])) => void;
  /** Called after every turn ends (done, stopped or failed) with the final messages. */
  onTurnEnd?: (messages: UiMessage[]) => void;
  /** Called when the first message of an empty chat is sent. */
  onStart?: () => void;
  empty?: ComponentChildren;
  placeholder?: string;
  disabled?: boolean;
  extraRequest?: Record<string, unknown>;
  composerLabel?: string;
}

export const ChatPane = forwardRef<ChatPaneHandle, Props>(function ChatPane(
  { api, model, messages, setMessages, onTurnEnd, onStart, empty, placeholder = 'Message', disabled = false,
    extraRequest, composerLabel = 'Message' }, ref) {
  const [draft, setDraft] = useState('');
  const [streaming, setStreaming] = useState(false);
  const [announce, setAnnounce] = useState('');
  const abortRef = useRef<AbortController | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [showJump, setShowJump] = useState(false);

  const stop = useCallback(() => {
    abortRef.current?.abort(new DOMException('stopped by user', 'AbortError'));
  }, []);

  useImperativeHandle(ref, () => ({
    stop,
    focus: () => inputRef.current?.focus(),
    streaming: () => abortRef.current !== null,
  }), [stop]);

  // Abort on unmount (navigating away cancels the answer and its upstream call).
  useEffect(() => () => abortRef.current?.abort(), []);

  // Auto-scroll while streaming unless the reader scrolled up.
  useEffect(() => {
    const el = listRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [messages]);
  const onScroll = () => {
    const el = listRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    stick.current = atBottom;
    setShowJump(!atBottom);
  };
  const jump = () => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
    stick.current = true;
    setShowJump(false);
  };

  const run = useCallback(async (history: UiMessage[]) => {
    const ctl = new AbortController();
    abortRef.current = ctl;
    setStreaming(true);
    setAnnounce('');
    stick.current = true;
    const withAnswer: UiMessage[] = [...history, { role: 'assistant', content: '', status: 'streaming' }];
    setMessages(withAnswer);
    const setLast = (patch: Partial<UiMessage>) =>
      setMessages((prev) => {
        const copy = prev.slice();
        copy[copy.length - 1] = { ...copy[copy.length - 1], ...patch };
        return copy;
      });
    let final: UiMessage;
    let partial = '';
    try {
      const wire: ChatMessage[] = history
        .filter((m) => m.status !== 'error' && m.content !== '')
        .map((m) => ({ role: m.role, content: m.content }));
      const res = await streamChat(api, { model, messages: wire, ...(extraRequest ?? {}) }, ctl.signal,
                                   (_d, soFar) => {
                                     if (ctl.signal.aborted) return;  // frozen at Stop
                                     partial = soFar;
                                     setLast({ content: soFar });
                                   });
      final = { role: 'assistant', content: res.text, status: 'done' };
      setAnnounce(`Answer complete. ${res.text.slice(0, 500)}`);
    } catch (e) {
      if (ctl.signal.aborted && !(e instanceof ApiError && e.code === 'timeout')) {
        final = { role: 'assistant', content: partial, status: 'stopped' };
        setAnnounce('Stopped.');
      } else {
        const msg = friendlyChatError(e);
        final = { role: 'assistant', content: partial, status: 'error', error: msg };
        setAnnounce(msg);
      }
    } finally {
      abortRef.current = null;
      setStreaming(false);
    }
    const all = [...history, final];
    setMessages(all);
    onTurnEnd?.(all);
  }, [api, model, extraRequest, setMessages, onTurnEnd]);

  const send = useCallback(() => {
    const text = draft.trim();
    if (!text || streaming || disabled || !model) return;
    if (messages.length === 0) onStart?.();
    setDraft('');
    void run([...messages.filter((m) => m.status !== 'error' || m.content !== ''), { role: 'user', content: text }]);
  }, [draft, streaming, disabled, model, messages, run, onStart]);

  const regenerate = useCallback(() => {
    if (streaming) return;
    let end = messages.length;
    while (end > 0 && messages[end - 1].role === 'assistant') end--;
    if (end === 0) return;
    void run(messages.slice(0, end));
  }, [messages, streaming, run]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape' && streaming) {
      e.preventDefault();
      stop();
    }
  };

  // Grow the composer with its content (capped by CSS max-height).
  useEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [draft]);

  const lastAssistant = messages.length > 0 && messages[messages.length - 1].role === 'assistant'
    ? messages.length - 1 : -1;

  return (
    <div class="chat">
      <div class="chat-scroll" ref={listRef} onScroll={onScroll}>
        <div class="messages" role="log" aria-live="off" aria-label="Conversation">
          {messages.length === 0 && empty}
          {messages.map((m, i) => (
            <article key={i} class={`msg msg-${m.role} ${m.status ? `msg-${m.status}` : ''}`}
                     aria-label={m.role === 'user' ? 'You said' : 'Answer'} data-testid={`msg-${m.role}`}>
              {m.role === 'user'
                ? <div class="msg-text">{m.content}</div>
                : m.content === '' && m.status === 'streaming'
                  ? <div class="thinking" aria-hidden="true"><span /><span /><span /></div>
                  : <MarkdownView text={m.content} streaming={m.status === 'streaming'} />}
              {m.status === 'stopped' && <p class="msg-note">Stopped</p>}
              {m.status === 'error' && <p class="msg-error" role="alert">{m.error}</p>}
              {m.role === 'assistant' && m.status !== 'streaming' && (
                <div class="msg-actions">
                  {m.content && <CopyButton text={m.content} label="Copy answer" compact />}
                  {i === lastAssistant && (
                    <Button variant="ghost" class="btn-small" onClick={regenerate} aria-label={m.status === 'error' ? 'Retry' : 'Regenerate answer'}>
                      <IconRefresh size={16} /><span>{m.status === 'error' ? 'Retry' : 'Regenerate'}</span>
                    </Button>
                  )}
                </div>
              )}
            </article>
          ))}
        </div>
      </div>
      {showJump && <button type="button" class="btn btn-secondary jump" onClick={jump}>Jump to latest</button>}
      <div class="sr-only" aria-live="polite" role="status" data-testid="chat-announce">{announce}</div>
      <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <label class="sr-only" for="composer-input">{composerLabel}</label>
        <textarea id="composer-input" ref={inputRef} rows={1} value={draft} placeholder={placeholder}
                  disabled={disabled}
                  onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
                  onKeyDown={onKeyDown} />
        {streaming ? (
          <button type="button" class="btn btn-secondary composer-btn" onClick={stop} aria-label="Stop generating"
                  data-testid="stop">
            <IconStop /><span class="composer-btn-text">Stop</span>
          </button>
        ) : (
          <button type="submit" class="btn btn-primary composer-btn" aria-label="Send message"
                  disabled={!draft.trim() || disabled || !model} data-testid="send">
            <IconSend /><span class="composer-btn-text">Send</span>
          </button>
        )}
      </form>
    </div>
  );
});
