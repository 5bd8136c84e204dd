// Issue 9, "Done when": onboarding end to end against the fake upstream (brand → provider key →
// first API key → playground), through to a streamed answer in the playground.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir, kPassword, newContext, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

test('a new tenant admin onboards and gets a streamed answer in the playground', async () => {
  await world.createTenant('onboard', 'Onboard Agency');
  const key = 'sk-onboard-valid-0123456789abcdefWXYZ';
  await world.backend.fake.behaviour({ reply: 'Welcome aboard! Your **workspace** works.', chunks: 10, chunk_delay_ms: 40, accepted_keys: [key] });
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  try {
    await page.goto(world.url('onboard', '/console'));
    await page.getByLabel('Email').fill('admin@onboard.test');
    await page.getByLabel('Password').fill(kPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Step 1: brand.
    await page.getByRole('heading', { name: '1. Make it yours' }).waitFor();
    await page.getByLabel('Workspace name').fill('Onboard Studio');
    await page.getByLabel('Primary colour', { exact: true }).fill('#0f766e');
    await page.getByRole('button', { name: 'Save and continue' }).click();

    // Step 2: provider key, first with a key the provider refuses, then a good one.
    await page.getByRole('heading', { name: '2. Connect your provider key' }).waitFor();
    await page.getByLabel('Provider', { exact: true }).selectOption('openai_compatible');
    await page.getByLabel('Server URL').fill(`${world.backend.upstreamUrl}/v1`);
    const keyInput = page.getByLabel(/^API key/);
    assert.equal(await keyInput.getAttribute('type'), 'password', 'the key is masked');
    await keyInput.fill('sk-onboard-wrong-0000000000000000');
    await page.getByRole('button', { name: 'Show API key' }).click();
    assert.equal(await keyInput.getAttribute('type'), 'text', 'reveal while typing');
    await page.getByRole('button', { name: 'Verify and save' }).click();
    await page.getByTestId('vault-outcome').getByText(/rejected this key/).waitFor();
    assert.equal(await keyInput.inputValue(), '', 'the key is cleared once sent');

    await keyInput.fill(key);
    await page.getByRole('button', { name: 'Verify and save' }).click();
    await page.getByTestId('credential').getByText('…WXYZ').waitFor();
    await page.getByTestId('model-step').getByLabel('Model').fill('gpt-4o-mini');
    await page.getByRole('button', { name: 'Use this model' }).click();
    await page.getByText('Your key is connected').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Step 3: the first API key, shown once.
    await page.getByRole('heading', { name: '3. Create your first API key' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = await page.getByTestId('once-secret').innerText();
    assert.match(shown, /^lvr_/);
    await page.getByRole('button', { name: /stored it/ }).click();

    // Step 4: the playground streams an answer.
    await page.getByRole('heading', { name: '4. Try it in the playground' }).waitFor();
    await page.getByLabel('Playground message').fill('Hello?');
    await page.keyboard.press('Enter');
    const answer = page.getByTestId('playground').locator('[data-testid="msg-assistant"]').last();
    await page.getByTestId('stop').waitFor();                 // it is streaming…
    await answer.locator('strong', { hasText: 'workspace' }).waitFor();
    await page.getByTestId('send').waitFor();                 // …and finished
    assert.match(await answer.innerText(), /Welcome aboard! Your workspace works\./);
    await page.screenshot({ path: path.join(await artifactsDir(), `onboarding-${world.backend.kind}.png`), fullPage: true });

    // The provider answered with the tenant's key: the upstream saw it on the chat request.
    const reqs = await world.backend.fake.requests();
    const chat = reqs.filter((r) => String(r.target ?? r.path ?? '').includes('/chat/completions')).pop();
    assert.ok(chat, 'the chat request reached the fake upstream');
    assert.match(JSON.stringify(chat.headers ?? {}), new RegExp(key));
  } finally {
    await ctx.close();
  }
});
