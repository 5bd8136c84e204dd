// Issue 9, "Done when": a streaming chat in the workspace with Stop, and the upstream request
// cancelled (asserted through the fake upstream's request log).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { wasCancelled } from './lib/backend.mjs';
import { newContext, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

const lastAnswer = (page) => page.locator('[data-testid="msg-assistant"]').last();

test('streams an answer as markdown, then Stop aborts it and the upstream request is cancelled', async () => {
  const t = await world.readyTenant('stopco', 'Stop & Co');
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  try {
    await world.signInWorkspace(page, 'stopco', t.user);

    // 1. A complete streamed answer renders as markdown (code block with a copy button).
    await world.backend.fake.behaviour({ reply: 'Here is **bold** text.\n\n```js\nconsole.log(1)\n```\n', chunks: 8, chunk_delay_ms: 20 });
    await page.getByLabel('Message', { exact: true }).fill('Show me code');
    await page.keyboard.press('Enter');
    await lastAnswer(page).locator('strong', { hasText: 'bold' }).waitFor();
    await lastAnswer(page).getByRole('button', { name: /Copy js block/ }).waitFor();
    await page.getByTestId('chat-announce').filter({ hasText: 'Answer complete' }).waitFor();

    // 2. A long, slow answer: Stop after the first words.
    await world.backend.fake.reset();
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    await world.backend.fake.behaviour({ reply: words, chunks: 200, chunk_delay_ms: 100 });
    await page.getByLabel('Message', { exact: true }).fill('Tell me a long story');
    await page.keyboard.press('Enter');
    await lastAnswer(page).filter({ hasText: 'word3' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('stop').waitFor();
    await page.keyboard.press('Escape');
    await lastAnswer(page).getByText('Stopped').waitFor();
    const frozen = await lastAnswer(page).innerText();
    await page.waitForTimeout(600);
    assert.equal(await lastAnswer(page).innerText(), frozen, 'nothing arrives after Stop');
    assert.ok(!frozen.includes('word199'), 'the answer was cut short');
    await page.getByTestId('send').waitFor();  // the composer is ready again

    // 3. The fake upstream saw the gateway close the connection.
    let chat;
    for (let i = 0; i < 50; i++) {
      const reqs = await world.backend.fake.requests();
      chat = reqs.filter((r) => String(r.target ?? r.path ?? '').includes('/chat/completions')).pop();
      if (chat && wasCancelled(chat)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(chat, 'the upstream received the chat request');
    assert.ok(wasCancelled(chat), `the upstream request was cancelled: ${JSON.stringify({ ...chat, headers: undefined, body: undefined })}`);

    // 4. Regenerate re-asks; the new answer completes.
    await world.backend.fake.behaviour({ reply: 'Short answer.', chunks: 3, chunk_delay_ms: 10 });
    await page.getByRole('button', { name: 'Regenerate answer' }).click();
    await lastAnswer(page).getByText('Short answer.').waitFor();
  } finally {
    await ctx.close();
  }
});

test('hostile model output is sanitised: no script runs, no remote image loads, links are inert', async () => {
  const t = await world.readyTenant('xssout', 'Output Co');
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  const remote = [];
  page.on('request', (r) => { if (!r.url().includes('.localhost:') && !r.url().startsWith('data:')) remote.push(r.url()); });
  try {
    await world.signInWorkspace(page, 'xssout', t.user);
    await world.backend.fake.behaviour({
      reply: 'Hi <img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2) ![pic](http://203.0.113.9/leak.png) <script>window.__xss=3</script>',
      chunks: 4, chunk_delay_ms: 10,
    });
    await page.getByLabel('Message', { exact: true }).fill('hi');
    await page.keyboard.press('Enter');
    await page.getByTestId('chat-announce').filter({ hasText: 'Answer complete' }).waitFor();
    const answer = lastAnswer(page);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await answer.locator('img, script').count(), 0);
    const link = answer.getByText('click');
    assert.equal(await link.getAttribute('href'), null);
    await link.click();
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.deepEqual(remote, [], 'no request left the test hosts');
  } finally {
    await ctx.close();
  }
});
