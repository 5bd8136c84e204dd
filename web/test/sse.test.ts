import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChunk, type StreamResult } from '../src/lib/chat-stream';
import { kMaxEventBytes, SseParser } from '../src/lib/sse';

test('events split across chunks at every byte boundary parse the same', () => {
  const stream = 'data: {"a":1}\r\n\r\nevent: ping\ndata: x\n\n: comment\ndata: line1\ndata: line2\r\rdata: [DONE]\n\n';
  const whole = new SseParser().feed(stream);
  assert.deepEqual(whole.map((e) => [e.event, e.data]), [
    ['message', '{"a":1}'], ['ping', 'x'], ['message', 'line1\nline2'], ['message', '[DONE]'],
  ]);
  for (let cut = 1; cut < stream.length; cut++) {
    const p = new SseParser();
    const got = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
    assert.deepEqual(got, whole, `cut at ${cut}`);
  }
});

test('a CR at the end of one chunk and LF at the start of the next is one line break', () => {
  const p = new SseParser();
  assert.deepEqual(p.feed('data: a\r'), []);
  assert.deepEqual(p.feed('\n\r\n').map((e) => e.data), ['a']);
});

test('an unterminated final event is discarded and an oversized line is refused', () => {
  const p = new SseParser();
  assert.deepEqual(p.feed('data: partial'), []);
  p.end();
  assert.deepEqual(p.feed('\n\n'), []);
  assert.throws(() => new SseParser().feed('data: ' + 'x'.repeat(kMaxEventBytes + 1)));
});

test('chunks accumulate text, finish reason and usage; error chunks throw', () => {
  const r: StreamResult = { text: '', finishReason: null, usage: null, deployment: null, requestId: null };
  assert.equal(applyChunk('{"choices":[{"delta":{"role":"assistant","content":"Hel"}}]}', r), 'Hel');
  assert.equal(applyChunk('{"choices":[{"delta":{"content":"lo"},"finish_reason":null}]}', r), 'lo');
  assert.equal(applyChunk('{"choices":[{"delta":{},"finish_reason":"stop"}]}', r), '');
  applyChunk('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}', r);
  assert.equal(r.text, 'Hello');
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.usage, { prompt_tokens: 3, completion_tokens: 2 });
  assert.throws(() => applyChunk('{"error":{"message":"boom"}}', r), /boom/);
  assert.throws(() => applyChunk('not json', r), /malformed/);
});
