// Shared harness of the browser scenarios: Debian's Chromium through playwright-core (never a
// downloaded browser), the backend (backend.mjs), and tenant setup through the public API.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { missing, startBackend } from './backend.mjs';
import { ok, request } from './http.mjs';

export const kPassword = 'correct horse battery staple';

export async function launchBrowser() {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) missing(`Chromium at ${exe} (apt-get install chromium)`);
  // playwright-core gives every launch a fresh temporary --user-data-dir of its own.
  return chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic', '--force-color-profile=srgb', '--hide-scrollbars',
           '--font-render-hinting=none'],
  });
}

// What the pages of this scenario said: console messages, script errors and every chat-completion
// stream as received (written next to the backend's log at close, for a failure's post-mortem).
const pageTrace = [];

export async function newContext(browser, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1, reducedMotion: 'reduce',
                                         colorScheme: 'light', ...opts });
  ctx.on('console', (m) => pageTrace.push(`[console.${m.type()}] ${m.text()}`));
  ctx.on('weberror', (e) => pageTrace.push(`[pageerror] ${e.error().message}`));
  ctx.on('response', async (r) => {
    if (!r.url().includes('/v1/chat/completions')) return;
    const head = `[chat ${r.status()} ${r.headers()['x-request-id'] ?? ''}]`;
    try {
      pageTrace.push(`${head}\n${(await r.body()).toString('utf8')}`);
    } catch (e) {
      pageTrace.push(`${head} body unavailable: ${e.message}`);
    }
  });
  return ctx;
}

export async function artifactsDir() {
  const dir = process.env.LIVERY_BROWSER_ARTIFACTS ?? path.join(os.tmpdir(), 'livery-browser-artifacts');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A solid-colour PNG (for logos). */
export function makePng(width, height, [r, g, b]) {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = r; png.data[i * 4 + 1] = g; png.data[i * 4 + 2] = b; png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

export function pixel(pngBuffer, x, y) {
  const png = PNG.sync.read(pngBuffer);
  const i = (png.width * y + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}

export const hexToRgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
export const near = (a, b, tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Everything a scenario needs: backend, browser, and setup helpers over the public API. */
export async function startWorld() {
  const backend = await startBackend();
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await backend.close();
    throw e;
  }
  const port = backend.port;
  const op = (method, p, body) => request(port, 'localhost', method, p, { body, headers: { authorization: `Bearer ${backend.operatorToken}` } });
  const world = {
    backend,
    browser,
    port,
    url: (slug, p = '/') => `http://${slug}.localhost:${port}${p}`,
    operatorUrl: (p = '/operator') => `http://localhost:${port}${p}`,
    op,
    async ensurePlan() {
      const plans = await ok(op('GET', '/admin/v1/plans'), 'list plans');
      if (plans.data.length > 0) return plans.data[0].id;
      const p = await ok(op('POST', '/admin/v1/plans', { id: 'browser', name: 'Browser tests', monthly_token_quota: 0, rpm: 0, tpm: 0, max_api_keys: 0, features: [] }), 'create plan');
      return p.id;
    },
    async createTenant(slug, displayName) {
      const plan = await world.ensurePlan();
      return ok(op('POST', '/admin/v1/tenants', { slug, display_name: displayName, plan_id: plan, admin_email: `admin@${slug}.test`, admin_password: kPassword }), `create tenant ${slug}`);
    },
    async admin(slug) {
      const jar = {};
      const r = await ok(request(port, `${slug}.localhost`, 'POST', '/api/v1/auth/login', { body: { email: `admin@${slug}.test`, password: kPassword }, jar }), `admin login ${slug}`);
      jar.csrf = r.csrf_token;
      const call = (method, p, body, headers) => request(port, `${slug}.localhost`, method, p, { body, jar, headers });
      return {
        call,
        addCredential: (key, label = 'Fake upstream') => ok(call('POST', '/api/v1/credentials', { provider: 'openai_compatible', label, key, base_url: `${backend.upstreamUrl}/v1` }), 'add credential'),
        addRoute: (model, credentialId) => ok(call('PUT', `/api/v1/routes/${encodeURIComponent(model)}`, {
          deployments: [{ name: `fake-${model}`, provider: 'openai_compatible', model, credential_id: credentialId, priority: 0, weight: 1, max_context_tokens: 0 }],
        }), 'put route'),
        addEndUser: (email) => ok(call('POST', '/api/v1/users', { email, password: kPassword, display_name: email.split('@')[0] }), 'add end user'),
        setBranding: (b) => ok(call('PUT', '/api/v1/branding', b), 'set branding'),
        uploadLogo: (png) => ok(call('PUT', '/api/v1/branding/logo', png, { 'content-type': 'image/png' }), 'upload logo'),
      };
    },
    /** A tenant with a provider key on the fake upstream, one model and one end user. */
    async readyTenant(slug, displayName, { key = `sk-test-${slug}-0123456789abcdef`, model = 'gpt-4o-mini' } = {}) {
      await world.createTenant(slug, displayName);
      const a = await world.admin(slug);
      const cred = await a.addCredential(key);
      await a.addRoute(model, cred.id);
      const email = `user@${slug}.test`;
      await a.addEndUser(email);
      return { admin: a, credential: cred, model, user: email };
    },
    async signInWorkspace(page, slug, email) {
      await page.goto(world.url(slug, '/'));
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(kPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Message', { exact: true }).waitFor();
    },
    async close() {
      await browser.close().catch(() => {});
      try {
        await backend.close();
      } finally {
        // The backend's output (to its shutdown) and the page trace, for a failed run's post-mortem.
        const log = `${backend.log()}\n---- pages ----\n${pageTrace.join('\n')}\n`;
        const name = path.basename(process.argv[1] ?? 'scenario', '.test.mjs');
        await writeFile(path.join(await artifactsDir(), `${name}-${backend.kind}.log`), log).catch(() => {});
      }
    },
  };
  return world;
}
