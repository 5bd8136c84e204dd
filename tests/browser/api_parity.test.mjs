// The portal is built and proven against web/dev/mock-api.mjs (docs/API.md); this drives the same
// calls through the mock and the real `livery`, in the same order, and requires the real answer to
// have the mock's status and every field the mock's has (the real may add fields). A field the
// portal reads that livery does not send, or a status it handles differently, fails here without a
// browser. Real-backend only (browser.api_parity; no browser_mock variant).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './lib/backend.mjs';
import { ok, request } from './lib/http.mjs';

const kPassword = 'correct horse battery staple';

/** Runs the script against one backend; returns [{call, status, body}] in order. */
async function script(kind) {
  const b = await startBackend(kind);
  const seen = [];
  try {
    const op = (m, p, body) => request(b.port, 'localhost', m, p, { body, headers: { authorization: `Bearer ${b.operatorToken}` } });
    const note = async (call, promise) => {
      const r = await promise;
      seen.push({ call, status: r.status, body: r.json });
      return r.json;
    };
    const plan = await note('POST /admin/v1/plans', op('POST', '/admin/v1/plans', { id: 'parity', name: 'Parity', monthly_token_quota: 1000000, rpm: 0, tpm: 0, max_api_keys: 0, features: [] }));
    const tenant = await note('POST /admin/v1/tenants', op('POST', '/admin/v1/tenants', { slug: 'parity', display_name: 'Parity Co', plan_id: plan.id, admin_email: 'admin@parity.test', admin_password: kPassword }));
    const jar = {};
    const login = await note('POST /api/v1/auth/login', request(b.port, 'parity.localhost', 'POST', '/api/v1/auth/login', { body: { email: 'admin@parity.test', password: kPassword }, jar }));
    jar.csrf = login.csrf_token;
    const call = (m, p, body) => note(`${m} ${p.replace(/\/[a-z]+_[A-Za-z0-9]+/g, '/{id}')}`, request(b.port, 'parity.localhost', m, p, { body, jar }));

    await b.fake.behaviour({ reply: 'ok', chunks: 1, chunk_delay_ms: 0, accepted_keys: ['sk-parity-0123456789abcdef'] });
    await call('POST', '/api/v1/credentials', { provider: 'openai_compatible', label: 'Refused', key: 'sk-parity-refused-0000', base_url: `${b.upstreamUrl}/v1` });
    const cred = await call('POST', '/api/v1/credentials', { provider: 'openai_compatible', label: 'Fake', key: 'sk-parity-0123456789abcdef', base_url: `${b.upstreamUrl}/v1` });
    await call('POST', `/api/v1/credentials/${cred.id}/validate`);
    await call('PUT', '/api/v1/routes/gpt-4o-mini', { deployments: [{ name: 'fake', provider: 'openai_compatible', model: 'gpt-4o-mini', credential_id: cred.id, priority: 0, weight: 1, max_context_tokens: 0 }] });
    await call('PUT', '/api/v1/routes/no-such-credential', { deployments: [{ name: 'x', provider: 'openai_compatible', model: 'x', credential_id: 'cred_none', priority: 0, weight: 1, max_context_tokens: 0 }] });
    const key = await call('POST', '/api/v1/keys', { name: 'parity key' });
    await call('POST', '/api/v1/users', { email: 'user@parity.test', password: kPassword, display_name: 'User' });
    await call('POST', '/api/v1/admins', { email: 'second@parity.test' });
    await call('POST', '/api/v1/domains', { host: 'chat.parity.test' });
    await call('POST', '/api/v1/prompts', { content: 'You are helpful.', note: 'first' });
    await call('PUT', '/api/v1/branding', { display_name: 'Parity Studio', primary_color: '#0f766e' });
    await call('PUT', '/api/v1/branding', { primary_color: 'teal' });
    await call('PUT', '/api/v1/webhook', { url: 'http://127.0.0.1:9/hook' });
    const jwk = await call('POST', '/api/v1/jwt-keys', { kid: 'app-1', algorithm: 'HS256', secret: 'p'.repeat(40), audience: 'parity' });
    await call('POST', '/api/v1/jwt-keys', { kid: 'app-1', algorithm: 'HS256', secret: 'q'.repeat(40) });
    await call('POST', '/api/v1/jwt-keys', { kid: 'app 2', algorithm: 'HS256', secret: 'q'.repeat(40) });
    await call('POST', '/api/v1/jwt-keys', { kid: 'app-3', algorithm: 'HS256', secret: 'short' });
    await call('POST', '/api/v1/jwt-keys', { kid: 'app-4', algorithm: 'RS256', secret: 'q'.repeat(40) });
    for (const p of ['/api/v1/auth/me', '/api/v1/credentials', '/api/v1/routes', '/api/v1/keys', '/api/v1/users', '/api/v1/admins',
                     '/api/v1/domains', '/api/v1/prompts', '/api/v1/webhook', '/api/v1/alerts', '/api/v1/quota', '/api/v1/branding',
                     '/api/v1/usage?group_by=day', '/api/v1/usage?group_by=model', '/branding.json', '/api/v1/jwt-keys']) {
      await call('GET', p);
    }
    await call('DELETE', `/api/v1/keys/${key.id}`);
    await call('DELETE', `/api/v1/jwt-keys/${jwk.id}`);
    await call('DELETE', `/api/v1/jwt-keys/${jwk.id}`);

    const ujar = {};
    const ulogin = await note('POST /api/v1/workspace/login', request(b.port, 'parity.localhost', 'POST', '/api/v1/workspace/login', { body: { email: 'user@parity.test', password: kPassword }, jar: ujar }));
    ujar.csrf = ulogin.csrf_token;
    const user = (m, p, body) => note(`${m} ${p.replace(/\/[a-z]+_[A-Za-z0-9]+/g, '/{id}')}`, request(b.port, 'parity.localhost', m, p, { body, jar: ujar }));
    await user('GET', '/api/v1/workspace/me');
    await user('GET', '/api/v1/workspace/models');
    const conv = await user('POST', '/api/v1/workspace/conversations', { title: 'Hi', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await user('PUT', `/api/v1/workspace/conversations/${conv.id}`, { title: 'Hi again', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] });
    await user('GET', `/api/v1/workspace/conversations/${conv.id}`);
    await user('GET', '/api/v1/workspace/conversations');
    await user('GET', '/api/v1/credentials');  // an end user is not an admin

    const opc = (m, p, body) => note(`operator ${m} ${p.replace(/\/[a-z]+_[A-Za-z0-9]+/g, '/{id}')}`, op(m, p, body));
    for (const p of ['/admin/v1/tenants', '/admin/v1/plans', '/admin/v1/health', '/admin/v1/alerts', '/admin/v1/usage?group_by=tenant', '/admin/v1/auth/me']) {
      await opc('GET', p);
    }
    await opc('POST', `/admin/v1/tenants/${tenant.id}/suspend`, { reason: 'parity' });
    await user('GET', '/api/v1/workspace/models');  // suspended
    await opc('POST', `/admin/v1/tenants/${tenant.id}/resume`, {});
    await opc('PATCH', `/admin/v1/tenants/${tenant.id}`, { plan_id: plan.id });
    await opc('POST', '/admin/v1/tenants', { slug: 'parity', display_name: 'Again', plan_id: plan.id });
  } finally {
    await b.close();
  }
  return seen;
}

/** Paths (a.b[].c) of every field in `v`; array elements merged. */
function fields(v, prefix = '', out = new Set()) {
  if (Array.isArray(v)) {
    for (const e of v) fields(e, `${prefix}[]`, out);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${prefix}.${k}`);
      // Free-form objects: their keys are data, not contract (audit/alert details, options).
      if (!['details', 'options', 'features'].includes(k)) fields(x, `${prefix}.${k}`, out);
    }
  }
  return out;
}

test('livery answers every call the portal makes with the mock status and at least the mock fields', async () => {
  const mock = await script('mock');
  const real = await script('real');
  assert.deepEqual(real.map((r) => r.call), mock.map((r) => r.call), 'the same calls ran');
  const problems = [];
  mock.forEach((m, i) => {
    const r = real[i];
    if (r.status !== m.status) problems.push(`${m.call}: status ${r.status}, the contract (mock) says ${m.status}`);
    if (r.status >= 300 || m.status >= 300) return;  // error bodies: {"error":{…}} on both, messages differ
    const have = fields(r.body);
    for (const f of fields(m.body)) if (!have.has(f)) problems.push(`${m.call}: no ${f}`);
  });
  assert.deepEqual(problems, []);
});
