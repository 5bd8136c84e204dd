// The portal's component kit. Every string prop is rendered as text (Preact escapes it); the
// only HTML injection in the portal is sanitised markdown (ui/markdown-view.tsx).
import type {
  ButtonHTMLAttributes, ComponentChildren, HTMLAttributes, PartialInputHTMLAttributes,
  PartialSelectHTMLAttributes, TextareaHTMLAttributes,
} from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { describeError } from '../lib/api';
import { IconCheck, IconClose, IconCopy } from './icons';

type ButtonVariant = 'primary' | 'secondary' | 'ghost' | 'danger';

export function Button({ variant = 'secondary', busy = false, class: cls = '', children, disabled, type = 'button', ...rest }:
  ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; busy?: boolean; type?: 'button' | 'submit' }) {
  return (
    <button {...rest} type={type} class={`btn btn-${variant} ${cls}`} disabled={disabled || busy}
            aria-busy={busy ? 'true' : undefined}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label}…</span>
    </div>
  );
}

export function Field({ label, hint, error, children, id }: {
  label: string; hint?: ComponentChildren; error?: string | null; children: (id: string, describedBy?: string) => ComponentChildren; id?: string;
}) {
  const auto = useId();
  const fid = id ?? `f${auto}`;
  const hid = hint ? `${fid}-hint` : undefined;
  const eid = error ? `${fid}-err` : undefined;
  const describedBy = [hid, eid].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      <label for={fid}>{label}</label>
      {children(fid, describedBy)}
      {hint && <div class="hint" id={hid}>{hint}</div>}
      {error && <div class="field-error" id={eid} role="alert">{error}</div>}
    </div>
  );
}

export function TextField({ label, hint, error, value, onValue, type = 'text', ...rest }:
  Omit<PartialInputHTMLAttributes<HTMLInputElement>, 'value' | 'type' | 'role'> & {
    label: string; hint?: ComponentChildren; error?: string | null; value: string; onValue: (v: string) => void; type?: 'text' | 'email' | 'password' | 'url' | 'number' | 'search' | 'datetime-local';
  }) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(id, describedBy) => (
        <input {...(rest as object)} id={id} type={type as 'text'} value={value}
               aria-describedby={describedBy} aria-invalid={error ? 'true' : undefined}
               onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)} />
      )}
    </Field>
  );
}

export function SelectField({ label, hint, value, onValue, options, ...rest }:
  Omit<PartialSelectHTMLAttributes<HTMLSelectElement>, 'value' | 'role' | 'size'> & {
    label: string; hint?: ComponentChildren; value: string; onValue: (v: string) => void;
    options: Array<{ value: string; label: string }>;
  }) {
  return (
    <Field label={label} hint={hint}>
      {(id, describedBy) => (
        <select {...rest} id={id} value={value} aria-describedby={describedBy}
                onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)}>
          {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      )}
    </Field>
  );
}

export function TextArea({ label, hint, value, onValue, rows = 6, ...rest }:
  Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value'> & {
    label: string; hint?: ComponentChildren; value: string; onValue: (v: string) => void; rows?: number;
  }) {
  return (
    <Field label={label} hint={hint}>
      {(id, describedBy) => (
        <textarea {...rest} id={id} rows={rows} value={value} aria-describedby={describedBy}
                  onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)} />
      )}
    </Field>
  );
}

export function Card({ title, actions, children, class: cls = '', ...rest }:
  Omit<HTMLAttributes<HTMLElement>, 'title'> & { title?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section {...rest} class={`card ${cls}`}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2 class="card-title">{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-head">
      <div>
        <h1 tabIndex={-1} class="page-title">{title}</h1>
        {description && <p class="page-desc">{description}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

export type Tone = 'neutral' | 'ok' | 'warn' | 'danger' | 'info';

export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function Notice({ tone = 'info', title, children, live = false }: {
  tone?: Tone; title?: string; children?: ComponentChildren; live?: boolean;
}) {
  const role = tone === 'danger' ? 'alert' : live ? 'status' : undefined;
  return (
    <div class={`notice notice-${tone}`} role={role}>
      {title && <strong class="notice-title">{title}</strong>}
      {children && <div>{children}</div>}
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <Notice tone="danger" title="That didn't work">
      <span>{describeError(error)}</span>
      {onRetry && <> <Button variant="ghost" onClick={onRetry}>Try again</Button></>}
    </Notice>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/** Copies `text`; says "Copied" for two seconds (announced to screen readers). */
export function CopyButton({ text, label = 'Copy', class: cls = '', compact = false }: {
  text: string; label?: string; class?: string; compact?: boolean;
}) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<number>(0);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = useCallback(async () => {
    const ok = await copyText(text);
    if (!ok) return;
    setCopied(true);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setCopied(false), 2000);
  }, [text]);
  return (
    <button type="button" class={`btn btn-ghost btn-copy ${compact ? 'btn-icon' : ''} ${cls}`} onClick={copy}
            aria-label={compact ? (copied ? 'Copied' : label) : undefined}>
      {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
      {!compact && <span>{copied ? 'Copied' : label}</span>}
      <span class="sr-only" aria-live="polite">{copied ? 'Copied to clipboard' : ''}</span>
    </button>
  );
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (insecure context): fall back to a hidden textarea.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'sr-only';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/** A modal dialog on <dialog> (native focus trap, Esc closes, inert background). */
export function Modal({ open, title, onClose, children, footer, dismissable = true, wide = false }: {
  open: boolean; title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren;
  dismissable?: boolean; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const tid = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class={`modal ${wide ? 'modal-wide' : ''}`} aria-labelledby={`m${tid}`}
            onCancel={(e) => { e.preventDefault(); if (dismissable) onClose(); }}>
      {open && (
        <div class="modal-body">
          <header class="modal-head">
            <h2 id={`m${tid}`}>{title}</h2>
            {dismissable && (
              <button type="button" class="btn btn-ghost btn-icon" aria-label="Close" onClick={onClose}>
                <IconClose />
              </button>
            )}
          </header>
          <div class="modal-content">{children}</div>
          {footer && <footer class="modal-foot">{footer}</footer>}
        </div>
      )}
    </dialog>
  );
}

/** Asks for confirmation; with `typed`, the user must type that text to enable the action. */
export function ConfirmModal({ open, title, body, confirmLabel, typed, onConfirm, onClose, danger = true }: {
  open: boolean; title: string; body: ComponentChildren; confirmLabel: string; typed?: string;
  onConfirm: () => Promise<void> | void; onClose: () => void; danger?: boolean;
}) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (open) { setText(''); setError(null); } }, [open]);
  const ok = !typed || text.trim() === typed;
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open={open} title={title} onClose={onClose}
           footer={<>
             <Button onClick={onClose}>Cancel</Button>
             <Button variant={danger ? 'danger' : 'primary'} busy={busy} disabled={!ok} onClick={go}>{confirmLabel}</Button>
           </>}>
      <div class="stack">
        {body}
        {typed && (
          <TextField label={`Type “${typed}” to confirm`} value={text} onValue={setText} autoComplete="off" />
        )}
        <ErrorNotice error={error} />
      </div>
    </Modal>
  );
}

// ---- toasts ---------------------------------------------------------------------------------

interface Toast { id: number; tone: Tone; text: string }
const ToastContext = createContext<(text: string, tone?: Tone) => void>(() => undefined);

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const push = useCallback((text: string, tone: Tone = 'ok') => {
    const id = next.current++;
    setToasts((t) => [...t.slice(-3), { id, tone, text }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 5000);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div class="toasts" aria-live="polite" role="status">
        {toasts.map((t) => <div key={t.id} class={`toast toast-${t.tone}`}>{t.text}</div>)}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);

// ---- small display helpers -----------------------------------------------------------------

export function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  const tone = pct >= 100 ? 'danger' : pct >= 80 ? 'warn' : 'ok';
  return (
    <div class="meter-wrap">
      <div class={`meter meter-${tone}`} role="meter" aria-label={label} aria-valuemin={0}
           aria-valuemax={max} aria-valuenow={value} aria-valuetext={`${pct.toFixed(0)} percent`}>
        <div class="meter-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function KeyValue({ items }: { items: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="kv">
      {items.map(([k, v]) => (
        <div key={k} class="kv-row"><dt>{k}</dt><dd>{v}</dd></div>
      ))}
    </dl>
  );
}
