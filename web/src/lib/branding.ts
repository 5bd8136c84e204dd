// Loads the Host's public branding document (/branding.json). Nothing tenant-specific is baked
// into the bundle: colours come from /theme.css (CSS custom properties the server renders) and
// names, logo and footer from here. Every string is rendered as text.
import type { PublicBranding } from './types';

export const kNeutralBranding: PublicBranding = {
  tenant: null,
  colors: { primary: '#2563eb', accent: '#0f172a', text_on_primary: '#ffffff' },
  logo_url: null,
  favicon_url: null,
  support_email: '',
  footer_text: '',
};

export async function loadBranding(): Promise<PublicBranding> {
  try {
    const res = await fetch('/branding.json', {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return kNeutralBranding;
    const b = (await res.json()) as Partial<PublicBranding>;
    return {
      ...kNeutralBranding,
      ...b,
      colors: { ...kNeutralBranding.colors, ...(b.colors ?? {}) },
    };
  } catch {
    return kNeutralBranding;
  }
}

/** Only same-origin, path-absolute asset URLs are used for logos (never a remote URL). */
export function safeAssetUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  return /^\/(?!\/)[A-Za-z0-9._~\-/%]*$/.test(url) ? url : null;
}

/** Re-fetches /theme.css (after a branding change) by swapping its link for a fresh one. */
export function reloadTheme(): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="stylesheet"][href^="/theme.css"]');
  if (!link) return;
  const fresh = link.cloneNode() as HTMLLinkElement;
  fresh.href = `/theme.css?v=${Date.now()}`;
  fresh.addEventListener('load', () => link.remove(), { once: true });
  link.after(fresh);
}
