// Formatting helpers (numbers, money, dates). Pure apart from the user's locale.

const kNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const kCompact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const kUsd = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 4 });
const kDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const fmtInt = (n: number | null | undefined) => kNumber.format(n ?? 0);
export const fmtCompact = (n: number | null | undefined) => kCompact.format(n ?? 0);
export const fmtUsd = (n: number | null | undefined) => kUsd.format(n ?? 0);

export function fmtDate(ms: number | null | undefined): string {
  if (!ms) return '—';
  return kDateTime.format(new Date(ms));
}

export function fmtAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 60) return `${d} days ago`;
  return fmtDate(ms);
}

export function percent(part: number, whole: number): number {
  if (!whole || whole <= 0) return 0;
  return Math.max(0, Math.min(100, (part / whole) * 100));
}

/** Stringifies arbitrary JSON details for display as text. */
export function detailsText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
