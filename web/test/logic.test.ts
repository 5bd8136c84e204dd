import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contrast, isHexColor, textOn } from '../src/lib/color';
import { diffLines } from '../src/lib/diff';
import { splitBlocks, stableTail } from '../src/lib/markdown-blocks';
import { cleanKey, detectProvider } from '../src/lib/providers';

test('completed markdown blocks are split off; open fences stay in the tail', () => {
  assert.deepEqual(splitBlocks('para one\n\npara two\n\nstill typ'), { done: ['para one', 'para two'], tail: 'still typ' });
  const open = splitBlocks('intro\n```js\nconst a = 1;\n\nconst b = 2;\n');
  assert.deepEqual(open.done, ['intro']);
  assert.equal(open.tail, '```js\nconst a = 1;\n\nconst b = 2;\n');
  const closed = splitBlocks('```\ncode\n```\nafter');
  assert.deepEqual(closed.done, ['```\ncode\n```']);
  assert.equal(closed.tail, 'after');
  // Concatenating the pieces never loses text.
  const text = 'a\nb\n\n```py\nx\n```\n\nc\n\nd';
  for (let i = 0; i <= text.length; i++) {
    const s = splitBlocks(text.slice(0, i));
    assert.ok([...s.done, s.tail].join('\n').replace(/\n+/g, '\n').trim() === text.slice(0, i).replace(/\n+/g, '\n').trim(), `at ${i}`);
  }
});

test('a half-typed fence marker is held back', () => {
  assert.equal(stableTail('text\n``'), 'text\n');
  assert.equal(stableTail('text\n`code`'), 'text\n`code`');
  assert.equal(stableTail('```'), '```');
});

test('line diff marks added, removed and kept lines', () => {
  assert.deepEqual(diffLines('a\nb\nc', 'a\nB\nc\nd'), [
    { kind: 'same', text: 'a' }, { kind: 'del', text: 'b' }, { kind: 'add', text: 'B' }, { kind: 'same', text: 'c' }, { kind: 'add', text: 'd' },
  ]);
  assert.ok(diffLines('same', 'same').every((o) => o.kind === 'same'));
});

test('brand colours: only #rrggbb, and text on them always meets AA', () => {
  for (const bad of ['red', '#fff', '#12345g', '#000000;background:url(x)', ' #000000']) assert.equal(isHexColor(bad), false, bad);
  for (const c of ['#777777', '#ff0000', '#ffff00', '#0047ab', '#ffd400', '#22c55e', '#000000', '#ffffff']) {
    assert.ok(contrast(c, textOn(c)) >= 4.5, `${c} → ${textOn(c)}`);
  }
  assert.equal(textOn('#ffd400'), '#000000');
  assert.equal(textOn('#0047ab'), '#ffffff');
  assert.ok(Math.abs(contrast('#000000', '#ffffff') - 21) < 1e-9);
});

test('provider detection from key prefixes and pasted-key cleanup', () => {
  assert.equal(detectProvider('sk-ant-api03-abcdefgh'), 'anthropic');
  assert.equal(detectProvider('sk-proj-abcdefgh12345'), 'openai');
  assert.equal(detectProvider('sk-abcdefgh12345'), 'openai');
  assert.equal(detectProvider('AKIAEXAMPLE'), null);
  assert.equal(cleanKey('  "sk-abc"\n'), 'sk-abc');
});
