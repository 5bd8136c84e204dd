// Issue 9, "Done when": a hostile tenant name renders as text (workspace, console, operator).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kPassword, newContext, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

const kHostile = 'Evil <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"\'&amp;';

test('a tenant named with HTML and script shows that name as text and runs nothing', async () => {
  await world.createTenant('hostile', kHostile);
  const a = await world.admin('hostile');
  await a.addEndUser('user@hostile.test');
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    // Workspace sign-in page: title and heading carry the literal name.
    await page.goto(world.url('hostile', '/'));
    await page.getByRole('heading', { name: /Sign in to/ }).waitFor();
    assert.equal(await page.title(), kHostile, 'the <title> holds the name as text');
    assert.equal(await page.getByRole('heading', { name: /Sign in to/ }).innerText(), `Sign in to ${kHostile}`);
    assert.equal(await page.locator('#app img[src="x"], #app script').count(), 0);

    await page.getByLabel('Email').fill('user@hostile.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'New chat' }).waitFor();
    assert.equal(await page.locator('.brand-name').first().innerText(), kHostile);
    assert.equal(await page.locator('#app img[src="x"], #app script').count(), 0);

    // Console and operator console.
    await page.goto(world.url('hostile', '/console'));
    await page.getByLabel('Email').fill('admin@hostile.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Welcome to/ }).waitFor();
    assert.equal(await page.getByRole('heading', { name: /Welcome to/ }).innerText(), `Welcome to ${kHostile}`);

    await page.goto(world.operatorUrl());
    await page.getByLabel('Operator token').fill(world.backend.operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByRole('cell', { name: kHostile, exact: true }).waitFor();

    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
