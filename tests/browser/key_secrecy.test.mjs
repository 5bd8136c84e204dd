// Issue 9, "Done when": the provider key never comes back from the server after it is saved,
// checked in the DOM, browser storage and every network response body.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kPassword, newContext, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

test('a saved provider key appears only as its fingerprint, never in DOM, storage or responses', async () => {
  await world.createTenant('vault', 'Vault Co');
  const canary = `sk-canary-${Date.now()}-7f3a9c2e5b1d4e6fQRST`;
  await world.backend.fake.behaviour({ reply: 'ok', chunks: 1, chunk_delay_ms: 0, accepted_keys: [canary] });
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  const bodies = [];
  page.on('response', async (r) => {
    try { bodies.push({ url: r.url(), text: (await r.body()).toString('utf8') }); } catch { /* redirects, aborted */ }
  });
  try {
    await page.goto(world.url('vault', '/console#/credentials'));
    await page.getByLabel('Email').fill('admin@vault.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Add provider key' }).click();
    await page.getByLabel('Provider', { exact: true }).selectOption('openai_compatible');
    await page.getByLabel('Server URL').fill(`${world.backend.upstreamUrl}/v1`);
    await page.getByLabel(/^API key/).fill(canary);
    await page.getByRole('button', { name: 'Verify and save' }).click();
    await page.getByTestId('vault-outcome').getByText(/Stored encrypted as/).waitFor();
    await page.getByTestId('credential').getByText('…QRST').first().waitFor();

    // Reload: everything the console shows now comes from the server.
    await page.reload();
    await page.getByTestId('credential').getByText('…QRST').waitFor();
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByText(/accepted the key/).waitFor();
    await page.goto(world.url('vault', '/console#/routes'));
    await page.getByRole('heading', { name: 'Models & fallbacks' }).waitFor();
    await page.goto(world.url('vault', '/console#/audit'));
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.waitForLoadState('networkidle');

    assert.ok(!(await page.content()).includes(canary), 'not in the DOM');
    const storage = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
    assert.ok(!storage.includes(canary), 'not in browser storage');
    const values = await page.evaluate(() => Array.from(document.querySelectorAll('input, textarea')).map((e) => e.value));
    assert.ok(!values.some((v) => v.includes(canary)), 'not in any form field');
    assert.ok(bodies.length > 5, `responses were captured (${bodies.length})`);
    const leaks = bodies.filter((b) => b.text.includes(canary)).map((b) => b.url);
    assert.deepEqual(leaks, [], 'no response body carries the key');
    // A canary that is present somewhere proves the scan can fail: the fingerprint's last 4.
    assert.ok(bodies.some((b) => b.text.includes('QRST')), 'the fingerprint is served');
  } finally {
    await ctx.close();
  }
});
