// Branding with a live preview: name, colours (#rrggbb only, contrast shown), logo, favicon,
// support e-mail, footer. Colours in the preview are applied through the CSSOM only.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../lib/api';
import { safeAssetUrl } from '../../lib/branding';
import { contrast, isHexColor, textOn } from '../../lib/color';
import type { Branding } from '../../lib/types';
import { Button, Card, ErrorNotice, Field, Notice, PageHeader, Spinner, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

const kMaxLogoBytes = 512 * 1024;
const kMaxFaviconBytes = 64 * 1024;
const kImageTypes = ['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml'];

function ColorField({ label, value, onValue }: { label: string; value: string; onValue: (v: string) => void }) {
  const ok = isHexColor(value);
  return (
    <Field label={label} error={ok ? null : 'Use the form #rrggbb.'}>
      {(id, describedBy) => (
        <div class="row" style={{ flexWrap: 'nowrap' }}>
          <input type="color" aria-label={`${label} picker`} value={ok ? value : '#000000'}
                 onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)} />
          <input id={id} value={value} maxLength={7} spellcheck={false} aria-describedby={describedBy}
                 class="mono" onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value.trim())} />
        </div>
      )}
    </Field>
  );
}

export function BrandPreview({ name, primary, accent, logoUrl }: { name: string; primary: string; accent: string; logoUrl: string | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const p = isHexColor(primary) ? primary : '#2563eb';
  const a = isHexColor(accent) ? accent : '#0f172a';
  const on = textOn(p);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.setProperty('--primary', p);
    el.style.setProperty('--on-primary', on);
    el.style.setProperty('--accent', a);
    el.style.setProperty('--primary-soft', `color-mix(in oklab, ${p}, white 88%)`);
  }, [p, a, on]);
  const initial = Array.from(name.trim())[0]?.toUpperCase() ?? '?';
  const ratio = contrast(p, on);
  return (
    <div class="stack">
      <div class="preview-frame" ref={ref} data-testid="brand-preview" aria-label="Workspace preview">
        <div class="preview-top" style={{ background: p }} />
        <div class="preview-body">
          <div class="preview-header">
            {logoUrl ? <img class="brand-logo" src={logoUrl} alt="" height={28} />
              : <span class="brand-initial" style={{ width: '28px', height: '28px' }} aria-hidden="true">{initial}</span>}
            <strong>{name || 'Your workspace'}</strong>
          </div>
          <div class="preview-bubble" style={{ background: `color-mix(in oklab, ${p}, white 88%)` }}>Summarise this contract for me.</div>
          <div>Here is a short summary of the key terms…</div>
          <div class="row">
            <span class="btn btn-primary" aria-hidden="true">New chat</span>
            <span class="badge" style={{ background: a, color: textOn(a) }}>Accent</span>
          </div>
        </div>
      </div>
      <p class={ratio >= 4.5 ? 'contrast-ok' : 'contrast-bad'}>
        Text on your primary colour: {on === '#ffffff' ? 'white' : 'black'}, contrast {ratio.toFixed(2)}:1
        {ratio >= 4.5 ? ' (meets WCAG AA)' : ' (below AA)'}
      </p>
    </div>
  );
}

function AssetUpload({ kind, current, onUploaded }: { kind: 'logo' | 'favicon'; current: string | null; onUploaded: (b: Branding) => void }) {
  const { api } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const max = kind === 'logo' ? kMaxLogoBytes : kMaxFaviconBytes;
  const onFile = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setError(null);
    if (!kImageTypes.includes(file.type)) { setError('Use a PNG, JPEG, WebP or SVG image.'); return; }
    if (file.size > max) { setError(`The file is larger than ${max / 1024} KiB.`); return; }
    setBusy(true);
    try {
      const b = await api.put<Branding>(`/api/v1/branding/${kind}`, undefined, { rawBody: file, contentType: file.type });
      onUploaded(b);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Upload failed.');
    } finally {
      setBusy(false);
    }
  };
  const id = `upload-${kind}`;
  const url = safeAssetUrl(current);
  return (
    <div class="field">
      <label for={id}>{kind === 'logo' ? 'Logo' : 'Favicon'}</label>
      <div class="row">
        {url && <img src={url} alt={`Current ${kind}`} height={kind === 'logo' ? 32 : 20} class="brand-logo" />}
        <input id={id} type="file" accept={kImageTypes.join(',')} onChange={onFile} disabled={busy} />
        {busy && <span class="spinner" aria-label="Uploading" />}
      </div>
      <div class="hint">PNG, JPEG, WebP or SVG, up to {max / 1024} KiB. SVGs are sanitised by the server.</div>
      {error && <div class="field-error" role="alert">{error}</div>}
    </div>
  );
}

export function BrandingForm({ onSaved, compact = false }: { onSaved?: () => void; compact?: boolean }) {
  const { api, refreshBranding } = useConsole();
  const toast = useToast();
  const current = useAsync(() => api.get<Branding>('/api/v1/branding'), []);
  const [b, setB] = useState<Branding | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (current.data) setB(current.data); }, [current.data]);
  if (current.loading && !b) return <Spinner />;
  if (current.error && !b) return <ErrorNotice error={current.error} onRetry={current.reload} />;
  if (!b) return null;
  const set = (patch: Partial<Branding>) => setB({ ...b, ...patch });
  const valid = isHexColor(b.primary_color) && isHexColor(b.accent_color) && b.display_name.trim() !== '';
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = await api.put<Branding>('/api/v1/branding', {
        display_name: b.display_name.trim(), primary_color: b.primary_color.toLowerCase(),
        accent_color: b.accent_color.toLowerCase(), support_email: b.support_email.trim(), footer_text: b.footer_text.trim(),
      });
      setB(saved);
      refreshBranding();
      toast('Branding saved');
      onSaved?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="grid-2">
      <form class="stack" onSubmit={save}>
        <TextField label="Workspace name" value={b.display_name} onValue={(v) => set({ display_name: v })} required maxLength={80}
                   hint="Shown as the page title and in the workspace." />
        <div class="swatch-row">
          <ColorField label="Primary colour" value={b.primary_color} onValue={(v) => set({ primary_color: v })} />
          <ColorField label="Accent colour" value={b.accent_color} onValue={(v) => set({ accent_color: v })} />
        </div>
        {!compact && (
          <>
            <AssetUpload kind="logo" current={b.logo_url} onUploaded={(nb) => { setB({ ...b, logo_url: nb.logo_url }); refreshBranding(); }} />
            <AssetUpload kind="favicon" current={b.favicon_url} onUploaded={(nb) => { setB({ ...b, favicon_url: nb.favicon_url }); refreshBranding(); }} />
            <TextField label="Support e-mail" type="email" value={b.support_email} onValue={(v) => set({ support_email: v })} />
            <TextField label="Footer text" value={b.footer_text} onValue={(v) => set({ footer_text: v })} maxLength={200} />
          </>
        )}
        <ErrorNotice error={error} />
        <div class="row"><Button type="submit" variant="primary" busy={busy} disabled={!valid}>{compact ? 'Save and continue' : 'Save branding'}</Button></div>
      </form>
      <BrandPreview name={b.display_name} primary={b.primary_color} accent={b.accent_color} logoUrl={safeAssetUrl(b.logo_url)} />
    </div>
  );
}

export function BrandingPage() {
  return (
    <>
      <PageHeader title="Branding" description="How your workspace looks to your end users: name, colours, logo and favicon. Changes apply on the next page load." />
      <Card><BrandingForm /></Card>
      <Card title="Where it shows">
        <Notice tone="info">Your end users see this brand at your workspace address and on every custom domain you verify.</Notice>
      </Card>
    </>
  );
}
