// A time-series chart on uPlot (loaded on demand: only the usage pages pay for it), with a
// visually hidden data table as the accessible alternative.
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtCompact, fmtInt } from '../lib/format';

export interface Series {
  label: string;
  values: number[];
  /** CSS custom property to take the colour from ("--primary"). */
  colorVar: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function TimeChart({ xs, series, label }: { xs: number[]; series: Series[]; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || xs.length === 0) return;
    let plot: { destroy(): void; setSize(s: { width: number; height: number }): void } | null = null;
    let ro: ResizeObserver | null = null;
    let cancelled = false;
    import('uplot').then(({ default: UPlot }) => {
      if (cancelled) return;
      const width = Math.max(280, el.clientWidth);
      const opts = {
        width,
        height: 260,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: cssVar(s.colorVar, '#2563eb'),
            width: 2,
            fill: undefined,
            value: (_u: unknown, v: number | null) => (v === null ? '—' : fmtInt(v)),
          })),
        ],
        axes: [
          { stroke: cssVar('--muted', '#555') },
          { stroke: cssVar('--muted', '#555'), values: (_u: unknown, ticks: number[]) => ticks.map((t) => fmtCompact(t)) },
        ],
        scales: { x: { time: true } },
        cursor: { drag: { x: false, y: false } },
      };
      plot = new UPlot(opts as never, [xs.map((x) => x / 1000), ...series.map((s) => s.values)] as never, el);
      ro = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
      ro.observe(el);
    }, () => setFailed(true));
    return () => {
      cancelled = true;
      ro?.disconnect();
      plot?.destroy();
    };
  }, [xs, series]);
  return (
    <figure class="stack" style={{ margin: 0 }}>
      <div class="chart" ref={ref} role="img" aria-label={label} data-testid="usage-chart" />
      {failed && <p class="muted small">The chart could not be drawn; the numbers are in the table below.</p>}
      <table class="sr-only">
        <caption>{label}</caption>
        <thead><tr><th>Date</th>{series.map((s) => <th key={s.label}>{s.label}</th>)}</tr></thead>
        <tbody>
          {xs.map((x, i) => (
            <tr key={x}><td>{new Date(x).toLocaleDateString()}</td>{series.map((s) => <td key={s.label}>{fmtInt(s.values[i])}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
