// Inline SVG icons (decorative: aria-hidden; the control carries the accessible name).
import type { JSX } from 'preact';

type P = { size?: number };
const svg = (d: JSX.Element, { size = 18 }: P = {}) => (
  <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor"
       stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"
       focusable="false">
    {d}
  </svg>
);

export const IconLock = (p: P) => svg(<><rect x="4" y="11" width="16" height="10" rx="2" /><path d="M8 11V7a4 4 0 0 1 8 0v4" /></>, p);
export const IconEye = (p: P) => svg(<><path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z" /><circle cx="12" cy="12" r="3" /></>, p);
export const IconEyeOff = (p: P) => svg(<><path d="M3 3l18 18" /><path d="M10.6 5.1A10.4 10.4 0 0 1 12 5c6.5 0 10 7 10 7a17 17 0 0 1-3.2 4.1M6.6 6.6C3.8 8.3 2 12 2 12s3.5 7 10 7a9.7 9.7 0 0 0 5.4-1.6" /><path d="M9.9 9.9a3 3 0 0 0 4.2 4.2" /></>, p);
export const IconCopy = (p: P) => svg(<><rect x="9" y="9" width="12" height="12" rx="2" /><path d="M5 15V5a2 2 0 0 1 2-2h10" /></>, p);
export const IconCheck = (p: P) => svg(<path d="M4 12l5 5L20 6" />, p);
export const IconPlus = (p: P) => svg(<path d="M12 5v14M5 12h14" />, p);
export const IconStop = (p: P) => svg(<rect x="6" y="6" width="12" height="12" rx="2" />, p);
export const IconSend = (p: P) => svg(<path d="M4 12l16-8-6 16-2-7-8-1z" />, p);
export const IconRefresh = (p: P) => svg(<><path d="M20 11a8 8 0 1 0-2.3 5.7" /><path d="M20 4v7h-7" /></>, p);
export const IconMenu = (p: P) => svg(<path d="M4 6h16M4 12h16M4 18h16" />, p);
export const IconClose = (p: P) => svg(<path d="M6 6l12 12M18 6L6 18" />, p);
export const IconTrash = (p: P) => svg(<><path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" /></>, p);
export const IconShield = (p: P) => svg(<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6l8-3z" />, p);
export const IconSignOut = (p: P) => svg(<><path d="M15 4h4v16h-4" /><path d="M10 17l5-5-5-5M15 12H3" /></>, p);
export const IconChat = (p: P) => svg(<path d="M4 5h16v11H8l-4 4V5z" />, p);
export const IconAlert = (p: P) => svg(<><path d="M12 3l10 18H2L12 3z" /><path d="M12 10v5M12 18h.01" /></>, p);
