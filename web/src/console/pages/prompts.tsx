// System prompt versions: write a draft, compare any two versions, activate, roll back; shows
// the evaluation result attached to a version.
import { useEffect, useState } from 'preact/hooks';
import { describeError, seg } from '../../lib/api';
import { diffLines } from '../../lib/diff';
import { fmtDate } from '../../lib/format';
import type { PromptVersion } from '../../lib/types';
import { Badge, Button, Card, EmptyState, ErrorNotice, Notice, PageHeader, SelectField, Spinner, TextArea, TextField, useToast } from '../../ui/components';
import { useAsync } from '../../ui/hooks';
import { useConsole } from '../context';

interface PromptList { active_id: string | null; data: PromptVersion[] }

function EvalResult({ v }: { v: PromptVersion }) {
  const e = v.eval;
  if (!e) return <span class="muted small">Not evaluated</span>;
  const passed = e.passed ?? (typeof e.pass_rate === 'number' ? e.pass_rate >= 1 : undefined);
  return (
    <div class="stack" style={{ gap: '6px' }}>
      <div class="row">
        {passed === true && <Badge tone="ok">Evaluation passed</Badge>}
        {passed === false && <Badge tone="danger">Evaluation failed</Badge>}
        {typeof e.pass_rate === 'number' && <span class="small">{(e.pass_rate * 100).toFixed(0)}% of {e.total ?? '?'} cases</span>}
      </div>
      {e.summary && <p class="small">{e.summary}</p>}
      {Array.isArray(e.cases) && e.cases.length > 0 && (
        <ul class="small" style={{ margin: 0, paddingLeft: '18px' }}>
          {e.cases.slice(0, 20).map((c, i) => (
            <li key={i}>{c.passed ? '✓' : '✗'} {c.name ?? `case ${i + 1}`}{c.detail ? ` — ${c.detail}` : ''}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Diff({ a, b }: { a: string; b: string }) {
  const ops = diffLines(a, b);
  const changed = ops.some((o) => o.kind !== 'same');
  if (!changed) return <p class="muted">The two versions are identical.</p>;
  return (
    <div class="diff" role="region" aria-label="Differences">
      {ops.map((o, i) => <div key={i} class={o.kind}><span class="sr-only">{o.kind === 'add' ? 'added: ' : o.kind === 'del' ? 'removed: ' : ''}</span>{o.text || ' '}</div>)}
    </div>
  );
}

export function PromptsPage() {
  const { api } = useConsole();
  const toast = useToast();
  const list = useAsync(() => api.get<PromptList>('/api/v1/prompts'), []);
  const [content, setContent] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const versions = [...(list.data?.data ?? [])].sort((x, y) => y.version - x.version);
  const active = versions.find((v) => v.id === list.data?.active_id) ?? versions.find((v) => v.status === 'active') ?? null;
  const [left, setLeft] = useState('');
  const [right, setRight] = useState('');
  useEffect(() => {
    if (!list.data) return;
    if (!content && active) setContent(active.content);
    if (versions.length >= 2 && !left) { setLeft(versions[1].id); setRight(versions[0].id); }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [list.data]);

  const act = async (label: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(label);
    setError(null);
    try {
      await fn();
      toast(done);
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const draft = (e: Event) => {
    e.preventDefault();
    void act('draft', () => api.post<PromptVersion>('/api/v1/prompts', { content, note: note.trim() || undefined }), 'Draft saved');
    setNote('');
  };
  const dirty = active ? content !== active.content : content.trim() !== '';
  const byId = (id: string) => versions.find((v) => v.id === id);
  return (
    <>
      <PageHeader title="System prompt"
                  description="The instructions every model call of your workspace carries. Each change is a new version; activate a draft when it is ready and roll back at any time." />
      <ErrorNotice error={error} />
      <div class="grid-2">
        <Card title="Edit">
          <form class="stack" onSubmit={draft}>
            <TextArea label="Prompt" value={content} onValue={setContent} rows={12}
                      hint={<>Variables: <code>{'{{tenant_name}}'}</code>, <code>{'{{user}}'}</code>, <code>{'{{date}}'}</code>, <code>{'{{model}}'}</code>. {content.length} characters.</>} />
            <TextField label="Change note" value={note} onValue={setNote} placeholder="What changed and why" maxLength={200} />
            <div class="row">
              <Button type="submit" variant="primary" busy={busy === 'draft'} disabled={!dirty}>Save as draft</Button>
              {dirty && <span class="muted small">Unsaved changes</span>}
            </div>
          </form>
        </Card>
        <Card title="Versions" actions={
          <Button class="btn-small" busy={busy === 'rollback'} disabled={!active || versions.length < 2}
                  onClick={() => act('rollback', () => api.post('/api/v1/prompts/rollback'), 'Rolled back to the previous version')}>
            Roll back
          </Button>}>
          {list.loading && !list.data ? <Spinner /> : list.error ? <ErrorNotice error={list.error} onRetry={list.reload} /> :
            versions.length === 0 ? <EmptyState title="No versions yet">Save a draft, then activate it.</EmptyState> : (
              <ul class="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
                {versions.map((v) => (
                  <li key={v.id} class="stack" style={{ gap: '6px', borderBottom: '1px solid var(--border)', paddingBottom: '10px' }}>
                    <div class="row-between">
                      <div class="row">
                        <strong>v{v.version}</strong>
                        {v.status === 'active' ? <Badge tone="ok">Live</Badge> : v.status === 'draft' ? <Badge tone="info">Draft</Badge> : <Badge>Retired</Badge>}
                        <span class="muted small">{v.author} · {fmtDate(v.created_at)}</span>
                      </div>
                      <div class="row">
                        <Button class="btn-small" onClick={() => setContent(v.content)}>Load</Button>
                        {v.status !== 'active' && (
                          <Button class="btn-small" variant="primary" busy={busy === v.id}
                                  onClick={() => act(v.id, () => api.post(`/api/v1/prompts/${seg(v.id)}/activate`), `v${v.version} is live`)}>
                            Activate
                          </Button>
                        )}
                      </div>
                    </div>
                    {v.note && <p class="small">{v.note}</p>}
                    {v.commit_id && <p class="muted small mono">commit {v.commit_id.slice(0, 12)}</p>}
                    <EvalResult v={v} />
                  </li>
                ))}
              </ul>
            )}
        </Card>
      </div>
      {versions.length >= 2 && (
        <Card title="Compare versions">
          <div class="row" style={{ marginBottom: '12px' }}>
            <SelectField label="From" value={left} onValue={setLeft} options={versions.map((v) => ({ value: v.id, label: `v${v.version} (${v.status})` }))} />
            <SelectField label="To" value={right} onValue={setRight} options={versions.map((v) => ({ value: v.id, label: `v${v.version} (${v.status})` }))} />
          </div>
          {byId(left) && byId(right) ? <Diff a={byId(left)!.content} b={byId(right)!.content} /> : <Notice>Pick two versions.</Notice>}
        </Card>
      )}
      {busy === null && error === null && null}
      <span class="sr-only" aria-live="polite">{busy ? 'Working…' : ''}</span>
      {list.error && <p class="sr-only">{describeError(list.error)}</p>}
    </>
  );
}
