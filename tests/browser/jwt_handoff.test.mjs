// Issue 9, Required 3: the tenant's own app hands its signed-in user to the branded workspace with
// a JWT (`/#jwt=<token>`, POST /api/v1/workspace/jwt), verified with the tenant's registered key.
// Real backend only: the mock does not verify JWTs (browser.jwt_handoff, no browser_mock variant).
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ok } from './lib/http.mjs';
import { kPassword, newContext, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function hs256(secret, header, claims) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

test("a JWT from the tenant's app signs its user into the workspace; a forged one is refused", async () => {
  const t = await world.readyTenant('handoff', 'Handoff Inc');
  const secret = randomBytes(32).toString('hex');
  await ok(t.admin.call('POST', '/api/v1/jwt-keys', { kid: 'app-1', algorithm: 'HS256', secret, audience: 'handoff-workspace' }), 'register the JWT key');
  await world.backend.fake.behaviour({ reply: 'Hello, customer.', chunks: 3, chunk_delay_ms: 5 });
  const exp = Math.floor(Date.now() / 1000) + 300;
  const header = { alg: 'HS256', typ: 'JWT', kid: 'app-1' };
  const good = hs256(secret, header, { sub: 'customer-42', aud: 'handoff-workspace', exp });
  const forged = hs256(randomBytes(32).toString('hex'), header, { sub: 'customer-42', aud: 'handoff-workspace', exp });

  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  try {
    // A forged token: the sign-in page says the link could not be used, and no session exists.
    await page.goto(world.url('handoff', `/#jwt=${encodeURIComponent(forged)}`));
    await page.getByText(/The sign-in link could not be used/).waitFor();
    await page.getByRole('heading', { name: 'Sign in to Handoff Inc' }).waitFor();
    assert.ok(!page.url().includes('jwt='), 'the token is taken out of the address bar');

    // The real token: signed in as the app's user, and the chat works. (From another page, as a
    // link from the tenant's app is: a hash change alone is not a new page load.)
    await page.goto('about:blank');
    await page.goto(world.url('handoff', `/#jwt=${encodeURIComponent(good)}`));
    await page.getByLabel('Message', { exact: true }).waitFor();
    assert.ok(!page.url().includes('jwt='), 'the token is taken out of the address bar');
    assert.equal(await page.locator('.ws-user-name').innerText(), 'customer-42');
    await page.getByLabel('Message', { exact: true }).fill('Hi from the app');
    await page.keyboard.press('Enter');
    await page.getByTestId('chat-announce').filter({ hasText: 'Answer complete' }).waitFor();
    assert.match(await page.locator('[data-testid="msg-assistant"]').last().innerText(), /Hello, customer\./);

    // The session survives a reload without the token; the refused attempt is in the audit log.
    await page.reload();
    await page.getByLabel('Message', { exact: true }).waitFor();
    const audit = await ok(t.admin.call('GET', '/api/v1/audit'), 'read the audit log');
    const refused = audit.data.filter((e) => e.action === 'auth.login_failed' && JSON.stringify(e.details ?? {}).includes('workspace_jwt'));
    assert.equal(refused.length, 1, `one refused hand-off is audited: ${JSON.stringify(audit.data.map((e) => [e.action, e.details]))}`);
    assert.ok(!JSON.stringify(audit.data).includes(secret), 'the key secret is not in the audit log');
  } finally {
    await ctx.close();
  }
});

test('the console registers a signing key without ever showing its secret again, and deleting it ends the hand-off', async () => {
  const t = await world.readyTenant('keysui', 'Keys UI Inc');
  const secret = randomBytes(32).toString('hex');
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  try {
    await page.goto(world.url('keysui', '/console#/app-sign-in'));
    await page.getByLabel('Email').fill('admin@keysui.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'App sign-in' }).waitFor();
    await page.getByText('No signing key yet').waitFor();

    // A secret under 32 bytes cannot be submitted; the form says why.
    await page.getByLabel('Key ID (kid)').fill('app-ui');
    await page.getByLabel('Secret').fill('too-short');
    await page.getByText(/At least 32 bytes/).waitFor();
    assert.ok(await page.getByRole('button', { name: 'Add key' }).isDisabled());

    await page.getByLabel('Secret').fill(secret);
    await page.getByLabel('Audience (optional)').fill('keysui-workspace');
    await page.getByRole('button', { name: 'Add key' }).click();
    const row = page.getByTestId('jwt-keys').locator('tr', { hasText: 'app-ui' });
    await row.waitFor();
    assert.match(await row.innerText(), /HS256[\s\S]*Shared secret[\s\S]*keysui-workspace/);
    assert.equal(await page.getByLabel('Secret').inputValue(), '', 'the secret is cleared from the form');
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page');
    const listed = await ok(t.admin.call('GET', '/api/v1/jwt-keys'), 'list the keys');
    assert.equal(listed.data.length, 1);
    assert.ok(!JSON.stringify(listed).includes(secret), 'the secret is not in the API response');

    // The key the console registered signs a user in (in another browser: a workspace session
    // would replace the console's on the same host).
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = hs256(secret, { alg: 'HS256', typ: 'JWT', kid: 'app-ui' }, { sub: 'ui-user', aud: 'keysui-workspace', exp });
    const handOff = async (expectSignedIn) => {
      const other = await newContext(world.browser);
      try {
        const ws = await other.newPage();
        await ws.goto(world.url('keysui', `/#jwt=${encodeURIComponent(token)}`));
        if (expectSignedIn) await ws.getByLabel('Message', { exact: true }).waitFor();
        else await ws.getByText(/The sign-in link could not be used/).waitFor();
      } finally {
        await other.close();
      }
    };
    await handOff(true);

    // Deleted from the console: the same token no longer signs anyone in.
    await row.getByRole('button', { name: 'Delete key app-ui' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
    await page.getByText('No signing key yet').waitFor();
    await handOff(false);
  } finally {
    await ctx.close();
  }
});
