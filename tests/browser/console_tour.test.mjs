// Every page of the tenant console, the workspace and the operator console loads against the
// backend without an error notice, a failed API call or a script error: the portal's API client
// and the real handlers agree on paths, fields and statuses for what each page reads (docs/API.md
// is the contract). A page that reads a field the server does not send, or calls a path it does
// not serve, shows "That didn't work" or a 4xx/5xx here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kPassword, newContext, startWorld } from './lib/harness.mjs';
import { ok } from './lib/http.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

const kConsoleRoutes = ['/overview', '/playground', '/usage', '/credentials', '/routes', '/prompts', '/keys', '/branding',
                        '/domains', '/users', '/team', '/app-sign-in', '/alerts', '/audit'];
const kOperatorRoutes = ['/tenants', '/plans', '/usage', '/health', '/alerts'];

/** Watches a page: script errors and failed same-origin calls, minus the ones `expected` allows. */
function watch(page, expected) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (!u.hostname.endsWith('localhost') || r.status() < 400) return;
    if (expected.some((e) => e.status === r.status() && e.path.test(u.pathname))) return;
    problems.push(`${r.request().method()} ${u.pathname}${u.search}: ${r.status()}`);
  });
  return problems;
}

async function tour(page, base, routes, problems, heading) {
  for (const route of routes) {
    await page.goto(`${base}#${route}`);
    await heading(route);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(150);
    const notices = await page.locator('.notice-danger').allInnerTexts();
    for (const n of notices) problems.push(`${route}: error notice "${n.replace(/\s+/g, ' ')}"`);
  }
}

// Before sign-in the portal asks who is signed in (401) and the browser asks for /favicon.ico.
const kBeforeSignIn = [{ status: 401, path: /\/(auth|workspace)\/me$/ }, { status: 404, path: /^\/favicon\.ico$/ }];

test('every console, workspace and operator page loads without an error', async () => {
  const t = await world.readyTenant('tour', 'Tour Agency');
  await world.backend.fake.behaviour({ reply: 'Tour answer.', chunks: 2, chunk_delay_ms: 5 });
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  const problems = watch(page, kBeforeSignIn);
  try {
    // A little data on every page: a conversation (usage, audit), an API key.
    await world.signInWorkspace(page, 'tour', t.user);
    await page.getByLabel('Message', { exact: true }).fill('Hello tour');
    await page.keyboard.press('Enter');
    await page.getByTestId('chat-announce').filter({ hasText: 'Answer complete' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Hello tour', exact: true }).waitFor();
    await ok(t.admin.call('POST', '/api/v1/keys', { name: 'tour key' }), 'create an API key');

    await page.goto(world.url('tour', '/console'));
    await page.getByLabel('Email').fill('admin@tour.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').waitFor();
    await tour(page, world.url('tour', '/console'), kConsoleRoutes, problems, async () => {
      await page.locator('main h1, main h2').first().waitFor();
    });

    // The alerts page reads the webhook (GET /api/v1/webhook: none yet) and shows the server's
    // refusal of a URL that fails the outbound guard (plain http: 400) without saving it.
    await page.goto(world.url('tour', '/console#/alerts'));
    await page.getByTestId('webhook-status').filter({ hasText: 'No webhook' }).waitFor();
    await page.getByLabel('Webhook URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await page.locator('.notice-danger').waitFor();
    assert.equal((await ok(t.admin.call('GET', '/api/v1/webhook'), 'read the webhook')).url, null);
    assert.deepEqual(problems.splice(0), ['PUT /api/v1/webhook: 400'], 'only the refused save failed');
    await page.reload();
    await page.getByTestId('webhook-status').filter({ hasText: 'No webhook' }).waitFor();

    await page.goto(world.operatorUrl());
    await page.getByLabel('Operator token').fill(world.backend.operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await tour(page, world.operatorUrl(), kOperatorRoutes, problems, async () => {
      await page.locator('main h1, main h2').first().waitFor();
    });
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
  }
});
