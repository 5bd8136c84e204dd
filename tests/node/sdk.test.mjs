// Issue 5: the official `openai` npm package, unchanged, against a real livery binary.
import assert from 'node:assert/strict';
import { test, after, before } from 'node:test';
import OpenAI from 'openai';
import { startLivery } from './harness.mjs';

let env;
before(async () => {
  env = await startLivery({ tenants: 2, limitedRpm: 1 });
});
after(async () => {
  await env?.stop();
});

function client(key, extra = {}) {
  return new OpenAI({ baseURL: `${env.base}/v1`, apiKey: key, maxRetries: 0, ...extra });
}

test('chat completion', async () => {
  const c = client(env.seeded.tenants[0].keys[0]);
  const r = await c.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Say hello' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.choices[0].message.content, /fake upstream/);
  assert.ok(r.usage.prompt_tokens > 0);
});

test('streaming chat completion', async () => {
  const c = client(env.seeded.tenants[0].keys[0]);
  const stream = await c.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Stream please' }],
    stream: true,
  });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(chunks > 1, `expected several chunks, got ${chunks}`);
  assert.match(text, /fake upstream/);
});

test('streaming from Anthropic comes back as OpenAI chunks', async () => {
  const c = client(env.seeded.tenants[0].keys[0]);
  const stream = await c.chat.completions.create({
    model: 'claude-sonnet',
    messages: [{ role: 'user', content: 'Stream please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage && usage.completion_tokens > 0, 'usage chunk when asked for');
});

test('embeddings', async () => {
  const c = client(env.seeded.tenants[0].keys[0]);
  const r = await c.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  assert.equal(r.data.length, 2);
  assert.ok(r.data[0].embedding.length > 0);
});

test('model list', async () => {
  const c = client(env.seeded.tenants[0].keys[0]);
  const ids = [];
  for await (const m of c.models.list()) ids.push(m.id);
  assert.ok(ids.includes('gpt-4o'), ids.join(','));
  assert.ok(ids.includes('claude-sonnet'));
});

test('a bad key raises AuthenticationError', async () => {
  const c = client('lvr_live_00000000000000000000000000000000000000');
  await assert.rejects(
    c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof OpenAI.AuthenticationError && err.status === 401,
  );
});

test('a rate limit raises RateLimitError', async () => {
  // The second tenant is limited to 1 request per minute.
  const c = client(env.seeded.tenants[1].keys[0]);
  await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one' }] });
  await assert.rejects(
    c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'two' }] }),
    (err) => err instanceof OpenAI.RateLimitError && err.status === 429 && Boolean(err.headers.get('retry-after')),
  );
});
