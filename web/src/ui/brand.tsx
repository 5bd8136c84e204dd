// Tenant brand mark: the logo (same-origin asset URL only) or the initial on the brand colour.
import type { PublicBranding } from '../lib/types';
import { safeAssetUrl } from '../lib/branding';

export function BrandMark({ branding, size = 32 }: { branding: PublicBranding; size?: number }) {
  const name = branding.tenant?.display_name ?? 'Livery';
  const logo = safeAssetUrl(branding.logo_url);
  if (logo) {
    return <img class="brand-logo" src={logo} alt={name} height={size} />;
  }
  const initial = Array.from(name.trim())[0]?.toUpperCase() ?? 'L';
  return (
    <span class="brand-initial" style={{ width: `${size}px`, height: `${size}px` }} aria-hidden="true">
      {initial}
    </span>
  );
}

export function BrandName({ branding }: { branding: PublicBranding }) {
  return <span class="brand-name">{branding.tenant?.display_name ?? 'Livery'}</span>;
}
