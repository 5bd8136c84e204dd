// Dev-only stand-in for the Livery backend, implementing docs/API.md in memory so the portal can
// be developed and browser-tested before (and independently of) the C++ server. Never shipped:
// the bundle does not import it. It follows the contract, not the real implementation: where the
// two differ, docs/API.md and the real server win.
//
//   node dev/mock-api.mjs [--port 8787] [--upstream http://127.0.0.1:PORT] [--seed]
//
// Hosts: <slug>.localhost → that tenant (workspace `/`, console `/console`); localhost and
// 127.0.0.1 → the operator host (`/operator`, `/admin/v1`). Operator token: printed at start.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeUpstream } from './fake-upstream.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const id = (p) => `${p}_${randomBytes(10).toString('hex')}`;
const now = () => Date.now();
const hex = /^#[0-9a-f]{6}$/;

function lum(h) {
  const c = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
const textOn = (bg) => (ratio(bg, '#000000') >= ratio(bg, '#ffffff') ? '#000000' : '#ffffff');
const fingerprint = (key) => (key.startsWith('sk-') ? `sk-…${key.slice(-4)}` : `…${key.slice(-4)}`);

export async function startMockApi({ port = 0, upstream = null, distDir = path.join(here, '..', 'dist'), seed = false,
                                     operatorToken = `lvr_op_${randomBytes(16).toString('hex')}` } = {}) {
  let ownUpstream = null;
  if (!upstream) {
    ownUpstream = await startFakeUpstream();
    upstream = `http://127.0.0.1:${ownUpstream.port}`;
  }
  const manifest = JSON.parse(await readFile(path.join(distDir, 'manifest.json'), 'utf8'));

  const db = {
    plans: [{ id: 'free', name: 'Free', monthly_token_quota: 1_000_000, rpm: 60, tpm: 100_000, max_api_keys: 5, features: [] }],
    tenants: [],
    sessions: new Map(),   // sid → {kind, tenant_id?, user_id?, csrf}
    t: new Map(),          // tenant id → per-tenant state
    alerts: [],
    audit: [],
  };
  const tstate = (tid) => db.t.get(tid);
  const audit = (tid, actor, action, details = {}) => db.audit.push({ seq: db.audit.length + 1, ts: now(), actor, tenant_id: tid, action, details });

  function createTenant({ slug, display_name, plan_id, admin_email, admin_password }) {
    const t = { id: id('tnt'), slug, display_name, status: 'active', suspended_reason: '', plan_id, overrides: {}, mock_response_enabled: true, created_at: now() };
    db.tenants.push(t);
    db.t.set(t.id, {
      admins: [], endusers: [], credentials: [], keys: [], routes: [], domains: [], jwtKeys: [], prompts: [], conversations: [], usage: [], assets: new Map(),
      branding: { display_name, primary_color: '#2563eb', accent_color: '#0f172a', logo: null, favicon: null, support_email: '', footer_text: '' },
      webhook: null,
    });
    if (admin_email) tstate(t.id).admins.push({ id: id('usr'), email: admin_email, password: admin_password ?? '', display_name: admin_email, role: 'owner', kind: 'admin', created_at: now(), last_login_at: null });
    return t;
  }

  const brandingOut = (t) => {
    const b = tstate(t.id).branding;
    return { display_name: b.display_name, primary_color: b.primary_color, accent_color: b.accent_color, text_on_primary: textOn(b.primary_color),
             logo_url: b.logo ? `/t/${t.id}/assets/${b.logo.hash}` : null, favicon_url: b.favicon ? `/t/${t.id}/assets/${b.favicon.hash}` : null,
             support_email: b.support_email, footer_text: b.footer_text };
  };
  const credOut = ({ secret, ...c }) => c;  // the key never leaves
  const keyOut = ({ hash, ...k }) => k;

  // ---- HTTP helpers --------------------------------------------------------------------------
  const send = (res, status, body, headers = {}) => {
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' || Buffer.isBuffer(body) ? 'text/plain' : 'application/json',
                            'x-request-id': id('req'), ...headers });
    res.end(payload);
  };
  const err = (res, status, message, code = null, extra = {}) =>
    send(res, status, { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code }, ...extra });
  const cookies = (req) => Object.fromEntries((req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).filter((x) => x[0]));
  const newSession = (res, data) => {
    const sid = randomBytes(24).toString('hex');
    const csrf = randomBytes(16).toString('hex');
    db.sessions.set(sid, { ...data, csrf });
    res.setHeader('set-cookie', `livery_session=${sid}; Path=/; HttpOnly; SameSite=Strict`);
    return csrf;
  };
  const session = (req) => db.sessions.get(cookies(req).livery_session);

  function resolveHost(req) {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    if (host === 'localhost' || host === '127.0.0.1') return { operator: true };
    const m = /^([a-z0-9-]+)\.localhost$/.exec(host);
    const tenant = m ? db.tenants.find((t) => t.slug === m[1]) : db.tenants.find((t) => tstate(t.id).domains.some((d) => d.host === host && d.status === 'active'));
    return { tenant };
  }

  function shell(res, surface, title, favicon) {
    const js = manifest.entries[`${surface}.js`];
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>${esc(title)}</title>${favicon ? `<link rel="icon" href="${esc(favicon)}">` : ''}` +
      `<link rel="stylesheet" href="${manifest.entries['app.css']}"><link rel="stylesheet" href="/theme.css"></head>` +
      `<body><div id="app" data-surface="${surface}"></div><script type="module" src="${js}"></script></body></html>`;
    send(res, 200, html, {
      'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', vary: 'Host',
      'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      'x-content-type-options': 'nosniff',
    });
  }

  // ---- usage ---------------------------------------------------------------------------------
  function usageQuery(records, q) {
    const from = Number(q.get('from') ?? 0);
    const to = Number(q.get('to') ?? Infinity);
    const g = q.get('group_by') ?? 'day';
    const map = new Map();
    for (const r of records) {
      if (r.ts < from || r.ts > to) continue;
      const key = g === 'day' ? new Date(r.ts).toISOString().slice(0, 10) : g === 'model' ? r.model : g === 'key' ? r.api_key_id : g === 'user' ? r.end_user : g === 'tenant' ? r.tenant_id : '';
      const t = map.get(key) ?? { key, requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, cost_usd: 0 };
      t.requests++; t.prompt_tokens += r.prompt_tokens; t.completion_tokens += r.completion_tokens; t.cost_usd += r.cost_usd;
      map.set(key, t);
    }
    return [...map.values()];
  }
  const csv = (rows) => ['key,requests,prompt_tokens,completion_tokens,cost_usd', ...rows.map((r) => `${JSON.stringify(r.key)},${r.requests},${r.prompt_tokens},${r.completion_tokens},${r.cost_usd}`)].join('\n') + '\n';

  // ---- chat ----------------------------------------------------------------------------------
  async function chat(req, res, tenant, principal, body) {
    const st = tstate(tenant.id);
    if (tenant.status === 'suspended') return err(res, 403, 'This account is suspended.', 'account_suspended');
    const route = st.routes.find((r) => r.model === body.model);
    if (!route) return err(res, 404, `The model ${body.model} does not exist.`, 'model_not_found');
    const dep = [...route.deployments].sort((a, b) => a.priority - b.priority)[0];
    const cred = st.credentials.find((c) => c.id === dep.credential_id);
    if (!cred) return err(res, 502, 'No credential for this model.', 'upstream_credential_refused');
    const active = st.prompts.find((p) => p.status === 'active');
    const messages = [...(active ? [{ role: 'system', content: active.content.replaceAll('{{tenant_name}}', tenant.display_name) }] : []), ...(body.messages ?? [])];
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    let up;
    try {
      up = await fetch(`${upstream}/v1/chat/completions`, {
        method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json', authorization: `Bearer ${cred.secret}` },
        body: JSON.stringify({ ...body, model: dep.model, messages }),
      });
    } catch {
      return res.writableEnded ? undefined : err(res, 502, 'The provider could not be reached.', 'upstream_unavailable');
    }
    if (up.status === 401 || up.status === 403) {
      cred.health = 'refused';
      return err(res, 502, `The provider refused the credential "${cred.label}".`, 'upstream_credential_refused');
    }
    if (!up.ok) return err(res, 502, 'The provider failed.', 'upstream_error');
    cred.last_used_at = now();
    cred.health = 'ok';
    const record = { tenant_id: tenant.id, api_key_id: principal.key_id ?? '', end_user: principal.user ?? '', model: body.model, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, ts: now() };
    if (!body.stream) {
      const j = await up.json();
      record.prompt_tokens = j.usage?.prompt_tokens ?? 0; record.completion_tokens = j.usage?.completion_tokens ?? 0;
      st.usage.push(record);
      return send(res, 200, j, { 'x-livery-deployment': dep.name });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-livery-deployment': dep.name, 'x-request-id': id('req') });
    try {
      for await (const chunk of up.body) {
        const text = Buffer.from(chunk).toString('utf8');
        const m = /"usage":\{"prompt_tokens":(\d+),"completion_tokens":(\d+)/.exec(text);
        if (m) { record.prompt_tokens = Number(m[1]); record.completion_tokens = Number(m[2]); }
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } catch {
      // Client went away (ac aborted the upstream fetch) or upstream failed mid-stream.
      res.destroy();
    }
    record.cost_usd = (record.prompt_tokens * 0.15 + record.completion_tokens * 0.6) / 1e6;
    st.usage.push(record);
  }

  // ---- tenant-console + workspace + operator API ------------------------------------------------
  async function api(req, res, url, body, ctx) {
    const p = url.pathname;
    const m = (re) => re.exec(p);
    const method = req.method;
    const s = session(req);
    const unsafe = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
    const needCsrf = (sess) => unsafe && req.headers['x-csrf-token'] !== sess.csrf;

    // Operator
    if (p.startsWith('/admin/v1/')) {
      if (!ctx.operator) return err(res, 404, 'Not found');
      if (p === '/admin/v1/auth/login' && method === 'POST') {
        if (body.token !== operatorToken) return err(res, 401, 'Invalid operator token.', 'invalid_api_key');
        return send(res, 200, { csrf_token: newSession(res, { kind: 'operator' }) });
      }
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      const op = bearer === operatorToken ? { kind: 'operator', csrf: null } : s?.kind === 'operator' ? s : null;
      if (!op) return err(res, 401, 'Sign in as the operator.', 'invalid_api_key');
      if (op.csrf && needCsrf(op)) return err(res, 403, 'Missing or wrong CSRF token.', 'csrf');
      if (p === '/admin/v1/auth/me') return send(res, 200, { kind: 'operator', csrf_token: op.csrf });
      if (p === '/admin/v1/auth/logout') { db.sessions.delete(cookies(req).livery_session); return send(res, 204, ''); }
      if (p === '/admin/v1/tenants' && method === 'GET') return send(res, 200, { data: db.tenants });
      if (p === '/admin/v1/tenants' && method === 'POST') {
        if (!/^[a-z0-9-]{2,40}$/.test(body.slug ?? '')) return err(res, 400, 'Invalid slug.', null);
        if (db.tenants.some((t) => t.slug === body.slug)) return err(res, 409, 'That slug is taken.', 'conflict');
        return send(res, 201, createTenant(body));
      }
      let mm;
      if ((mm = m(/^\/admin\/v1\/tenants\/([^/]+)(\/(suspend|resume))?$/))) {
        const t = db.tenants.find((x) => x.id === decodeURIComponent(mm[1]));
        if (!t) return err(res, 404, 'No such tenant.');
        if (mm[3] === 'suspend') { t.status = 'suspended'; t.suspended_reason = body.reason ?? ''; return send(res, 200, t); }
        if (mm[3] === 'resume') { t.status = 'active'; t.suspended_reason = ''; return send(res, 200, t); }
        if (method === 'GET') {
          const recs = tstate(t.id).usage;
          return send(res, 200, { ...t, usage_month: usageQuery(recs, new URLSearchParams('group_by=tenant'))[0] ?? null });
        }
        if (method === 'PATCH') { for (const k of ['display_name', 'plan_id', 'overrides', 'mock_response_enabled']) if (k in body) t[k] = body[k]; return send(res, 200, t); }
        if (method === 'DELETE') { db.tenants = db.tenants.filter((x) => x !== t); return send(res, 204, ''); }
      }
      if (p === '/admin/v1/plans' && method === 'GET') return send(res, 200, { data: db.plans });
      if (p === '/admin/v1/plans' && method === 'POST') { db.plans.push(body); return send(res, 201, body); }
      if ((mm = m(/^\/admin\/v1\/plans\/([^/]+)$/)) && method === 'PUT') {
        const i = db.plans.findIndex((x) => x.id === mm[1]);
        if (i < 0) return err(res, 404, 'No such plan.');
        db.plans[i] = { ...body, id: mm[1] };
        return send(res, 200, db.plans[i]);
      }
      if (p === '/admin/v1/usage') {
        const rows = usageQuery(db.tenants.flatMap((t) => tstate(t.id).usage), url.searchParams);
        return url.searchParams.get('format') === 'csv' ? send(res, 200, csv(rows), { 'content-type': 'text/csv' }) : send(res, 200, { data: rows });
      }
      if (p === '/admin/v1/alerts') return send(res, 200, { data: db.alerts });
      if ((mm = m(/^\/admin\/v1\/alerts\/([^/]+)\/ack$/))) { const a = db.alerts.find((x) => x.id === mm[1]); if (a) a.acknowledged_at = now(); return send(res, 200, a ?? {}); }
      if (p === '/admin/v1/health') {
        return send(res, 200, { data: db.tenants.flatMap((t) => tstate(t.id).credentials.map((c) => ({ tenant: t.slug, provider: c.provider, label: c.label, fingerprint: c.fingerprint, health: c.health, last_used_at: c.last_used_at }))) });
      }
      return err(res, 404, 'Not found');
    }

    const tenant = ctx.tenant;
    if (!tenant) return err(res, 404, 'Not found');
    const st = tstate(tenant.id);

    // Workspace (end users)
    if (p.startsWith('/api/v1/workspace/')) {
      if (p === '/api/v1/workspace/login' && method === 'POST') {
        const u = st.endusers.find((x) => x.email === body.email && x.password === body.password);
        if (!u) return err(res, 401, 'Wrong e-mail or password.', 'invalid_credentials');
        u.last_login_at = now();
        return send(res, 200, { user: { ...u, password: undefined }, csrf_token: newSession(res, { kind: 'enduser', tenant_id: tenant.id, user_id: u.id }) });
      }
      if (p === '/api/v1/workspace/jwt' && method === 'POST') return err(res, 401, 'The mock API does not verify JWTs.', 'invalid_token');
      if (!s || s.kind !== 'enduser' || s.tenant_id !== tenant.id) return err(res, 401, 'Sign in first.', 'unauthenticated');
      if (needCsrf(s)) return err(res, 403, 'Missing or wrong CSRF token.', 'csrf');
      const u = st.endusers.find((x) => x.id === s.user_id);
      if (p === '/api/v1/workspace/me') return send(res, 200, { user: { ...u, password: undefined }, csrf_token: s.csrf });
      if (p === '/api/v1/workspace/logout') { db.sessions.delete(cookies(req).livery_session); return send(res, 204, ''); }
      if (p === '/api/v1/workspace/models') return send(res, 200, { data: st.routes.map((r) => ({ id: r.model })) });
      const mine = st.conversations.filter((c) => c.user_id === u.id);
      if (p === '/api/v1/workspace/conversations' && method === 'GET') return send(res, 200, { data: mine.map(({ messages, user_id, ...c }) => c).sort((a, b) => b.updated_at - a.updated_at) });
      if (p === '/api/v1/workspace/conversations' && method === 'POST') {
        const c = { id: id('conv'), user_id: u.id, title: body.title ?? 'New chat', model: body.model ?? '', messages: body.messages ?? [], created_at: now(), updated_at: now() };
        st.conversations.push(c);
        const { user_id, ...out } = c;
        return send(res, 201, out);
      }
      const mm = m(/^\/api\/v1\/workspace\/conversations\/([^/]+)$/);
      if (mm) {
        const c = mine.find((x) => x.id === decodeURIComponent(mm[1]));
        if (!c) return err(res, 404, 'No such conversation.');
        if (method === 'DELETE') { st.conversations = st.conversations.filter((x) => x !== c); return send(res, 204, ''); }
        if (method === 'PUT') Object.assign(c, { title: body.title ?? c.title, model: body.model ?? c.model, messages: body.messages ?? c.messages, updated_at: now() });
        const { user_id, ...out } = c;
        return send(res, 200, out);
      }
      return err(res, 404, 'Not found');
    }

    // Tenant console
    if (p === '/api/v1/auth/login' && method === 'POST') {
      const u = st.admins.find((x) => x.email === body.email && x.password === body.password);
      if (!u) return err(res, 401, 'Wrong e-mail or password.', 'invalid_credentials');
      u.last_login_at = now();
      return send(res, 200, { user: { ...u, password: undefined }, csrf_token: newSession(res, { kind: 'admin', tenant_id: tenant.id, user_id: u.id }) });
    }
    if (!s || s.kind !== 'admin' || s.tenant_id !== tenant.id) return err(res, 401, 'Sign in first.', 'unauthenticated');
    if (needCsrf(s)) return err(res, 403, 'Missing or wrong CSRF token.', 'csrf');
    const admin = st.admins.find((x) => x.id === s.user_id);
    const actor = admin?.email ?? 'admin';
    let mm;
    if (p === '/api/v1/auth/me') return send(res, 200, { user: { ...admin, password: undefined }, tenant, csrf_token: s.csrf });
    if (p === '/api/v1/auth/logout') { db.sessions.delete(cookies(req).livery_session); return send(res, 204, ''); }

    if (p === '/api/v1/credentials' && method === 'GET') return send(res, 200, { data: st.credentials.map(credOut) });
    if (p === '/api/v1/credentials' && method === 'POST') {
      const key = String(body.key ?? '');
      let validation = null;
      if (!body.skip_validation) {
        try {
          const r = await fetch(`${upstream}/v1/models`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5000) });
          validation = r.ok ? { ok: true, message: 'The provider accepted the key.' } : r.status === 401 ? { ok: false, reason: 'bad_key', message: 'The provider rejected the key.' } : r.status === 403 ? { ok: false, reason: 'no_permission', message: 'No permission.' } : { ok: false, reason: 'unreachable', message: `Provider answered ${r.status}.` };
        } catch {
          validation = { ok: false, reason: 'unreachable', message: 'The provider could not be reached.' };
        }
        if (!validation.ok) return err(res, 422, validation.message, validation.reason, { validation });
      }
      const c = { id: id('cred'), provider: body.provider, label: body.label ?? '', fingerprint: fingerprint(key), base_url: body.base_url ?? null, options: body.options ?? {},
                  health: validation ? 'ok' : 'unknown', health_detail: null, created_at: now(), updated_at: now(), last_used_at: null, secret: key };
      st.credentials.push(c);
      audit(tenant.id, actor, 'credential.create', { id: c.id, fingerprint: c.fingerprint });
      return send(res, 201, { ...credOut(c), validation });
    }
    if ((mm = m(/^\/api\/v1\/credentials\/([^/]+)(\/validate)?$/))) {
      const c = st.credentials.find((x) => x.id === decodeURIComponent(mm[1]));
      if (!c) return err(res, 404, 'No such credential.');
      if (mm[2]) {
        const r = await fetch(`${upstream}/v1/models`, { headers: { authorization: `Bearer ${c.secret}` } }).catch(() => null);
        const v = r?.ok ? { ok: true, message: 'The provider accepted the key.' } : { ok: false, reason: r ? 'bad_key' : 'unreachable', message: 'Validation failed.' };
        c.health = v.ok ? 'ok' : r ? 'refused' : 'unreachable';
        return send(res, 200, v);
      }
      if (method === 'PUT') { c.secret = String(body.key ?? ''); c.fingerprint = fingerprint(c.secret); c.updated_at = now(); audit(tenant.id, actor, 'credential.replace', { id: c.id, fingerprint: c.fingerprint }); return send(res, 200, credOut(c)); }
      if (method === 'DELETE') { st.credentials = st.credentials.filter((x) => x !== c); audit(tenant.id, actor, 'credential.delete', { id: c.id }); return send(res, 204, ''); }
    }
    if (p === '/api/v1/keys' && method === 'GET') return send(res, 200, { data: st.keys.map(keyOut) });
    if (p === '/api/v1/keys' && method === 'POST') {
      const key = `lvr_${randomBytes(18).toString('hex')}`;
      const k = { id: id('key'), name: body.name ?? 'key', last4: key.slice(-4), environment: body.environment ?? 'live', scopes: body.scopes ?? [], expires_at: body.expires_at ?? null,
                  limits: body.limits ?? null, end_user: body.end_user ?? null, created_at: now(), revoked_at: null, last_used_at: null, hash: createHash('sha256').update(key).digest('hex') };
      st.keys.push(k);
      audit(tenant.id, actor, 'api_key.create', { id: k.id, last4: k.last4 });
      return send(res, 201, { ...keyOut(k), key });
    }
    if ((mm = m(/^\/api\/v1\/keys\/([^/]+)$/)) && method === 'DELETE') { const k = st.keys.find((x) => x.id === mm[1]); if (k) k.revoked_at = now(); return send(res, 204, ''); }
    if (p === '/api/v1/branding' && method === 'GET') return send(res, 200, brandingOut(tenant));
    if (p === '/api/v1/branding' && method === 'PUT') {
      for (const c of ['primary_color', 'accent_color']) if (body[c] !== undefined && !hex.test(body[c])) return err(res, 422, `${c} must be #rrggbb.`, null);
      Object.assign(st.branding, Object.fromEntries(['display_name', 'primary_color', 'accent_color', 'support_email', 'footer_text'].filter((k) => k in body).map((k) => [k, body[k]])));
      audit(tenant.id, actor, 'branding.update');
      return send(res, 200, brandingOut(tenant));
    }
    if ((mm = m(/^\/api\/v1\/branding\/(logo|favicon)$/)) && method === 'PUT') {
      const type = req.headers['content-type'];
      const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/svg+xml': 'svg' }[type];
      if (!ext) return err(res, 415, 'Unsupported image type.');
      const hash = createHash('sha256').update(ctx.raw).digest('hex');
      st.assets.set(hash, { type, bytes: ctx.raw });
      st.branding[mm[1]] = { hash, ext };
      return send(res, 200, brandingOut(tenant));
    }
    if (p === '/api/v1/domains' && method === 'GET') return send(res, 200, { data: st.domains });
    if (p === '/api/v1/domains' && method === 'POST') {
      const token = randomBytes(16).toString('hex');
      const d = { host: body.host, status: 'pending', created_at: now(), verified_at: null,
                  verification: { http_url: `http://${body.host}/.well-known/livery-challenge/${token}`, token, dns_txt_name: `_livery-challenge.${body.host}` } };
      st.domains.push(d);
      return send(res, 201, d);
    }
    if ((mm = m(/^\/api\/v1\/domains\/([^/]+)(\/verify)?$/))) {
      const d = st.domains.find((x) => x.host === decodeURIComponent(mm[1]));
      if (!d) return err(res, 404, 'No such domain.');
      if (mm[2]) return send(res, 200, d);
      if (method === 'DELETE') { st.domains = st.domains.filter((x) => x !== d); return send(res, 204, ''); }
    }
    if (p === '/api/v1/jwt-keys' && method === 'GET') {
      return send(res, 200, { data: st.jwtKeys.map((k) => ({ ...k, format: k.algorithm === 'HS256' ? 'secret' : k.jwks ? 'jwks' : 'pem' })).map(({ jwks, ...k }) => k) });
    }
    if (p === '/api/v1/jwt-keys' && method === 'POST') {
      const bad = (param, message) => send(res, 400, { error: { message, type: 'invalid_request_error', param, code: null } });
      if (!/^[A-Za-z0-9._:-]{1,128}$/.test(body.kid ?? '')) return bad('kid', 'kid may contain letters, digits and . _ : -');
      if (!['HS256', 'RS256', 'ES256'].includes(body.algorithm)) return bad('algorithm', 'algorithm must be HS256, RS256 or ES256');
      if (['secret', 'public_pem', 'jwks'].filter((f) => body[f] !== undefined).length !== 1) return bad('public_pem', "give exactly one of 'secret' (HS256), 'public_pem' or 'jwks'");
      if (body.algorithm === 'HS256' && Buffer.byteLength(body.secret ?? '') < 32) return bad('secret', 'an HS256 secret needs at least 32 bytes');
      if (body.algorithm !== 'HS256' && body.secret !== undefined) return bad('secret', "'secret' is only for HS256 keys");
      if (st.jwtKeys.some((k) => k.kid === body.kid)) return err(res, 409, 'A JWT key with this kid already exists.', 'conflict');
      const k = { id: id('jwk'), kid: body.kid, algorithm: body.algorithm, issuer: body.issuer ?? '', audience: body.audience ?? '',
                  has_public_key: body.algorithm !== 'HS256', created_at: now(), jwks: body.jwks !== undefined };
      st.jwtKeys.push(k);
      audit(tenant.id, actor, 'jwt_key.added', { kid: k.kid });
      const { jwks, ...out } = k;
      return send(res, 201, out);
    }
    if ((mm = m(/^\/api\/v1\/jwt-keys\/([^/]+)$/)) && method === 'DELETE') {
      const k = st.jwtKeys.find((x) => x.id === decodeURIComponent(mm[1]));
      if (!k) return err(res, 404, 'No such JWT key.');
      st.jwtKeys = st.jwtKeys.filter((x) => x !== k);
      audit(tenant.id, actor, 'jwt_key.deleted', { kid: k.kid });
      return send(res, 204, '');
    }
    if (p === '/api/v1/routes' && method === 'GET') return send(res, 200, { data: st.routes.map((r) => ({ ...r, inherited: false })) });
    if ((mm = m(/^\/api\/v1\/routes\/([^/]+)$/))) {
      const model = decodeURIComponent(mm[1]);
      if (method === 'PUT') {
        const foreign = (body.deployments ?? []).find((d) => !st.credentials.some((c) => c.id === d.credential_id));
        if (foreign) return err(res, 400, `unknown credential ${foreign.credential_id}`, null);  // own credentials only
        const r = { model, deployments: body.deployments ?? [], inherited: false };
        st.routes = [...st.routes.filter((x) => x.model !== model), r];
        audit(tenant.id, actor, 'route.put', { model });
        return send(res, 200, r);
      }
      if (method === 'DELETE') { st.routes = st.routes.filter((x) => x.model !== model); return send(res, 204, ''); }
    }
    if (p === '/api/v1/prompts' && method === 'GET') return send(res, 200, { active_id: st.prompts.find((x) => x.status === 'active')?.id ?? null, data: st.prompts });
    if (p === '/api/v1/prompts' && method === 'POST') {
      const v = { id: id('pv'), version: st.prompts.length + 1, content: body.content ?? '', author: actor, note: body.note ?? '', status: 'draft', created_at: now(), activated_at: null, commit_id: null, eval: null };
      st.prompts.push(v);
      return send(res, 201, v);
    }
    if ((mm = m(/^\/api\/v1\/prompts\/([^/]+)\/activate$/))) {
      const v = st.prompts.find((x) => x.id === mm[1]);
      if (!v) return err(res, 404, 'No such version.');
      for (const x of st.prompts) if (x.status === 'active') x.status = 'retired';
      v.status = 'active'; v.activated_at = now();
      return send(res, 200, v);
    }
    if (p === '/api/v1/prompts/rollback') {
      const cur = st.prompts.find((x) => x.status === 'active');
      const prev = st.prompts.filter((x) => x.activated_at && x !== cur).sort((a, b) => b.activated_at - a.activated_at)[0];
      if (!prev) return err(res, 409, 'Nothing to roll back to.');
      if (cur) cur.status = 'retired';
      prev.status = 'active'; prev.activated_at = now();
      return send(res, 200, prev);
    }
    if (p === '/api/v1/usage') {
      const rows = usageQuery(st.usage, url.searchParams);
      return url.searchParams.get('format') === 'csv' ? send(res, 200, csv(rows), { 'content-type': 'text/csv' }) : send(res, 200, { data: rows });
    }
    if (p === '/api/v1/quota') {
      const plan = db.plans.find((x) => x.id === tenant.plan_id) ?? db.plans[0];
      const used = st.usage.reduce((a, r) => a + r.prompt_tokens + r.completion_tokens, 0);
      return send(res, 200, { period: new Date().toISOString().slice(0, 7), limit: plan.monthly_token_quota, used, reserved: 0, rpm: plan.rpm, tpm: plan.tpm });
    }
    if (p === '/api/v1/alerts') return send(res, 200, { data: db.alerts.filter((a) => a.tenant_id === tenant.id) });
    if (p === '/api/v1/webhook' && method === 'GET') return send(res, 200, { url: st.webhook?.url ?? null });
    if (p === '/api/v1/webhook' && method === 'DELETE') { st.webhook = null; return send(res, 204, ''); }
    if ((mm = m(/^\/api\/v1\/alerts\/([^/]+)\/ack$/)) && method === 'POST') {
      const a = db.alerts.find((x) => x.id === mm[1] && x.tenant_id === tenant.id);
      if (!a) return err(res, 404, 'No such alert.');
      a.acknowledged_at ??= now();
      return send(res, 204, '');
    }
    if (p === '/api/v1/webhook' && method === 'PUT' && !/^https:\/\/[^/]+/.test(body.url ?? '')) return err(res, 400, 'webhook url must be https', null, {});
    if (p === '/api/v1/webhook' && method === 'PUT') { st.webhook = { url: body.url, secret: `whsec_${randomBytes(16).toString('hex')}` }; return send(res, 200, st.webhook); }
    if (p === '/api/v1/audit') return send(res, 200, { data: db.audit.filter((a) => a.tenant_id === tenant.id).reverse() });
    if (p === '/api/v1/admins' && method === 'GET') return send(res, 200, { data: st.admins.map((u) => ({ ...u, password: undefined })) });
    if (p === '/api/v1/admins' && method === 'POST') { const token = randomBytes(16).toString('hex'); return send(res, 201, { invite_url: `http://${req.headers.host}/console#/accept-invite?token=${token}`, token }); }
    if (p === '/api/v1/users' && method === 'GET') return send(res, 200, { data: st.endusers.map((u) => ({ ...u, password: undefined })) });
    if (p === '/api/v1/users' && method === 'POST') {
      const u = { id: id('usr'), email: body.email, password: body.password, display_name: body.display_name ?? '', role: 'member', kind: 'enduser', created_at: now(), last_login_at: null };
      st.endusers.push(u);
      return send(res, 201, { ...u, password: undefined });
    }
    if ((mm = m(/^\/api\/v1\/users\/([^/]+)$/)) && method === 'DELETE') { st.endusers = st.endusers.filter((x) => x.id !== mm[1]); return send(res, 204, ''); }
    return err(res, 404, 'Not found');
  }

  // ---- request dispatch ------------------------------------------------------------------------
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      const ctx = resolveHost(req);
      const chunks = [];
      for await (const c of req) chunks.push(c);
      ctx.raw = Buffer.concat(chunks);
      let body = {};
      if ((req.headers['content-type'] ?? '').includes('application/json') && ctx.raw.length) {
        try { body = JSON.parse(ctx.raw.toString('utf8')); } catch { return err(res, 400, 'Invalid JSON.'); }
      }
      const p = url.pathname;
      if (p.startsWith('/static/')) {
        const name = path.basename(p);
        try {
          const bytes = await readFile(path.join(distDir, 'static', name));
          const type = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/plain';
          return send(res, 200, bytes, { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' });
        } catch { return err(res, 404, 'Not found'); }
      }
      if (p === '/healthz') return send(res, 200, 'ok');
      if (ctx.operator) {
        if (p === '/operator') return shell(res, 'operator', 'Livery operator', null);
        if (p.startsWith('/admin/v1/')) return await api(req, res, url, body, ctx);
        // The operator host wears Livery's neutral theme (docs/API.md, Public).
        if (p === '/theme.css') {
          return send(res, 200, `:root{--lv-primary:#2563eb;--lv-accent:#0f172a;--lv-on-primary:${textOn('#2563eb')};--lv-on-accent:${textOn('#0f172a')}}\n`,
                      { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache', vary: 'Host' });
        }
        if (p === '/branding.json') {
          return send(res, 200, { tenant: null, display_name: 'Livery', colors: { primary: '#2563eb', accent: '#0f172a', text_on_primary: textOn('#2563eb') },
                                  logo_url: null, favicon_url: null, support_email: '', footer_text: '' }, { vary: 'Host', 'cache-control': 'no-cache' });
        }
        return err(res, 404, 'Not found');
      }
      const t = ctx.tenant;
      if (!t) return send(res, 404, 'Not found', { 'content-type': 'text/plain' });
      const b = brandingOut(t);
      if (p === '/theme.css') {
        return send(res, 200, `:root{--lv-primary:${b.primary_color};--lv-accent:${b.accent_color};--lv-on-primary:${b.text_on_primary};--lv-on-accent:${textOn(b.accent_color)}}\n`,
                    { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache', vary: 'Host' });
      }
      if (p === '/branding.json') {
        return send(res, 200, { tenant: { slug: t.slug, display_name: b.display_name }, colors: { primary: b.primary_color, accent: b.accent_color, text_on_primary: b.text_on_primary },
                                logo_url: b.logo_url, favicon_url: b.favicon_url, support_email: b.support_email, footer_text: b.footer_text }, { vary: 'Host', 'cache-control': 'no-cache' });
      }
      // Brand assets: the canonical /t/{tenant_id}/assets/{sha256} (whitelabel::assetPath), and
      // the /assets/{tenant_id}/{sha256}[.{ext}] alias, as docs/API.md says.
      if (p.startsWith(`/t/${t.id}/assets/`) || p.startsWith(`/assets/${t.id}/`)) {
        const a = tstate(t.id).assets.get(path.basename(p).split('.')[0]);
        if (!a) return err(res, 404, 'Not found');
        return send(res, 200, a.bytes, { 'content-type': a.type, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox", 'x-content-type-options': 'nosniff' });
      }
      if (p === '/') return shell(res, 'workspace', b.display_name, b.favicon_url);
      if (p === '/console') return shell(res, 'console', `${b.display_name} console`, b.favicon_url);
      if (p === '/v1/chat/completions' && req.method === 'POST') {
        const s = session(req);
        const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        const key = bearer ? tstate(t.id).keys.find((k) => !k.revoked_at && k.hash === createHash('sha256').update(bearer).digest('hex')) : null;
        let principal = null;
        if (key) principal = { key_id: key.id };
        else if (s && s.tenant_id === t.id && req.headers['x-csrf-token'] === s.csrf) principal = { user: s.user_id };
        if (!principal) return err(res, 401, 'Invalid API key or session.', 'invalid_api_key');
        return await chat(req, res, t, principal, body);
      }
      if (p.startsWith('/api/v1/')) return await api(req, res, url, body, ctx);
      return err(res, 404, 'Not found');
    } catch (e) {
      if (!res.headersSent) err(res, 500, 'Internal error.');
      console.error(e);
    }
  });

  if (seed) {
    const t = createTenant({ slug: 'acme', display_name: 'Acme AI', plan_id: 'free', admin_email: 'admin@acme.test', admin_password: 'password123' });
    tstate(t.id).endusers.push({ id: id('usr'), email: 'user@acme.test', password: 'password123', display_name: 'Ada', role: 'member', kind: 'enduser', created_at: now(), last_login_at: null });
  }

  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: server.address().port,
    operatorToken,
    upstream,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
      if (ownUpstream) await ownUpstream.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n) => { const i = process.argv.indexOf(n); return i > 0 ? process.argv[i + 1] : undefined; };
  const m = await startMockApi({ port: Number(arg('--port') ?? 8787), upstream: arg('--upstream') ?? null, seed: process.argv.includes('--seed'),
                                 operatorToken: process.env.LIVERY_MOCK_OPERATOR_TOKEN || undefined });
  console.log(JSON.stringify({ port: m.port, operator_token: m.operatorToken, upstream: m.upstream }));
  console.error(`mock API: http://acme.localhost:${m.port}/ (workspace), /console (tenant console), http://localhost:${m.port}/operator`);
}
