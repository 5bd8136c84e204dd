// Usage dashboard shared by the tenant console (/api/v1/usage) and the operator console
// (/admin/v1/usage): range presets, KPI tiles, a daily chart, breakdown tables, CSV export.
import { useMemo, useState } from 'preact/hooks';
import type { ApiClient } from '../lib/api';
import { fmtCompact, fmtInt, fmtUsd } from '../lib/format';
import type { ListResponse, UsageTotals } from '../lib/types';
import { TimeChart } from './chart';
import { Card, EmptyState, ErrorNotice, Spinner } from './components';
import { useAsync } from './hooks';

const kRanges = [
  { id: '7d', label: '7 days', days: 7 },
  { id: '30d', label: '30 days', days: 30 },
  { id: '90d', label: '90 days', days: 90 },
];

/** Parses a day bucket key ("2026-11-27", an ISO time or Unix ms). */
export function bucketTime(key: string): number {
  if (/^\d{10,}$/.test(key)) return Number(key);
  const t = Date.parse(key.length === 10 ? `${key}T00:00:00Z` : key);
  return Number.isNaN(t) ? 0 : t;
}

function Breakdown({ title, rows, keyLabel, names }: { title: string; rows: UsageTotals[]; keyLabel: string; names?: (k: string) => string }) {
  const sorted = [...rows].sort((a, b) => (b.prompt_tokens + b.completion_tokens) - (a.prompt_tokens + a.completion_tokens)).slice(0, 25);
  const max = Math.max(1, ...sorted.map((r) => r.prompt_tokens + r.completion_tokens));
  return (
    <Card title={title}>
      {sorted.length === 0 ? <EmptyState title="No usage in this period" /> : (
        <div class="table-wrap">
          <table class="data">
            <thead><tr><th>{keyLabel}</th><th class="num">Requests</th><th class="num">Input</th><th class="num">Output</th><th class="num">Est. cost</th><th><span class="sr-only">Share</span></th></tr></thead>
            <tbody>
              {sorted.map((r) => {
                const total = r.prompt_tokens + r.completion_tokens;
                return (
                  <tr key={r.key}>
                    <td class="mono small">{names ? names(r.key) : r.key || '—'}</td>
                    <td class="num">{fmtInt(r.requests)}</td>
                    <td class="num">{fmtInt(r.prompt_tokens)}</td>
                    <td class="num">{fmtInt(r.completion_tokens)}</td>
                    <td class="num">{fmtUsd(r.cost_usd)}</td>
                    <td><div class="bar-cell"><div class="bar" style={{ width: `${Math.round((total / max) * 120)}px` }} /></div></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

export function UsageView({ api, base, extraQuery = '', breakdowns, names }: {
  api: ApiClient; base: string; extraQuery?: string;
  breakdowns: Array<{ group: string; title: string; keyLabel: string }>;
  names?: Record<string, (k: string) => string>;
}) {
  const [range, setRange] = useState('30d');
  const days = kRanges.find((r) => r.id === range)!.days;
  const [to] = useState(() => Date.now());
  const from = to - days * 86_400_000;
  const q = (group: string) => `${base}?from=${from}&to=${to}&group_by=${group}${extraQuery}`;
  const daily = useAsync(() => api.get<ListResponse<UsageTotals>>(q('day')), [range, extraQuery]);
  const groups = useAsync(() => Promise.all(breakdowns.map((b) => api.get<ListResponse<UsageTotals>>(q(b.group)))), [range, extraQuery]);
  const chart = useMemo(() => {
    // One point per UTC day of the period, zero where nothing was recorded, so the axis always
    // spans the selected range.
    const byDay = new Map<number, UsageTotals>();
    for (const r of daily.data?.data ?? []) {
      const t = bucketTime(r.key);
      if (t > 0) byDay.set(Math.floor(t / 86_400_000), r);
    }
    if (byDay.size === 0) return { xs: [] as number[], series: [] };
    const first = Math.floor(from / 86_400_000);
    const last = Math.floor(to / 86_400_000);
    const days = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    return {
      xs: days.map((d) => d * 86_400_000),
      series: [
        { label: 'Tokens', values: days.map((d) => { const r = byDay.get(d); return r ? r.prompt_tokens + r.completion_tokens : 0; }), colorVar: '--primary' },
        { label: 'Requests', values: days.map((d) => byDay.get(d)?.requests ?? 0), colorVar: '--accent' },
      ],
    };
  }, [daily.data, from, to]);
  const totals = (daily.data?.data ?? []).reduce((a, r) => ({
    requests: a.requests + r.requests, input: a.input + r.prompt_tokens, output: a.output + r.completion_tokens, cost: a.cost + r.cost_usd,
  }), { requests: 0, input: 0, output: 0, cost: 0 });
  return (
    <div class="stack">
      <div class="row-between">
        <div class="tabs" role="tablist" aria-label="Period" style={{ marginBottom: 0, borderBottom: 0 }}>
          {kRanges.map((r) => (
            <button key={r.id} type="button" role="tab" aria-selected={range === r.id} onClick={() => setRange(r.id)}>{r.label}</button>
          ))}
        </div>
        <a class="btn btn-secondary btn-small" href={`${q('day')}&format=csv`} download={`usage-${range}.csv`}>Export CSV</a>
      </div>
      {daily.loading && !daily.data ? <Spinner /> : daily.error ? <ErrorNotice error={daily.error} onRetry={daily.reload} /> : (
        <>
          <div class="tiles">
            <div class="tile"><div class="tile-label">Requests</div><div class="tile-value">{fmtCompact(totals.requests)}</div></div>
            <div class="tile"><div class="tile-label">Input tokens</div><div class="tile-value">{fmtCompact(totals.input)}</div></div>
            <div class="tile"><div class="tile-label">Output tokens</div><div class="tile-value">{fmtCompact(totals.output)}</div></div>
            <div class="tile"><div class="tile-label">Est. provider cost</div><div class="tile-value">{fmtUsd(totals.cost)}</div>
              <div class="tile-sub">At list prices; billed by your provider</div></div>
          </div>
          <Card title="Daily usage">
            {chart.xs.length === 0 ? <EmptyState title="No usage in this period" /> :
              <TimeChart xs={chart.xs} series={chart.series} label={`Tokens and requests per day, last ${days} days`} />}
          </Card>
        </>
      )}
      {groups.error ? <ErrorNotice error={groups.error} onRetry={groups.reload} /> : groups.data && (
        <div class="grid-2">
          {breakdowns.map((b, i) => (
            <Breakdown key={b.group} title={b.title} keyLabel={b.keyLabel} rows={groups.data![i].data} names={names?.[b.group]} />
          ))}
        </div>
      )}
    </div>
  );
}
