// Starts what a browser scenario runs against and returns one interface for both kinds:
//
//   real (default when LIVERY_BINARY is set): the `livery` binary and the `livery-fake-upstream`
//        binary, both on port 0 (paths passed by CMake: LIVERY_BINARY, LIVERY_FAKE_UPSTREAM);
//   mock (LIVERY_BROWSER_BACKEND=mock): web/dev/mock-api.mjs with web/dev/fake-upstream.mjs,
//        in process. Proves the portal against docs/API.md without the C++ backend.
//
// Interface: { kind, port, operatorToken, upstreamUrl, fake: {behaviour, requests, reset},
//              log(), close() }
//
// fake.behaviour(b) takes one format for both kinds (web/dev/fake-upstream.mjs's):
//   {reply, chunks, chunk_delay_ms, accepted_keys}: the answer of every chat request from now on,
//   and the provider keys accepted (absent or null: any key). For the real fake it becomes a
//   default behaviour (POST /__fake/behaviour) and its OpenAI key list (POST /__fake/keys).
// fake.requests() entries: {method, target, path, headers: {name: value}, body, completed,
//   cancelled}; `cancelled`: the gateway closed the connection before the answer was complete.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from './http.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
export const kSkipExitCode = 77;  // ctest SKIP_RETURN_CODE

export function backendKind() {
  if (process.env.LIVERY_BROWSER_BACKEND) return process.env.LIVERY_BROWSER_BACKEND;
  return process.env.LIVERY_BINARY ? 'real' : 'mock';
}

/** A missing prerequisite: skipped locally, a failure under make test (LIVERY_REQUIRE_SERVICES=1). */
export function missing(what) {
  const msg = `browser test prerequisite missing: ${what}`;
  if (process.env.LIVERY_REQUIRE_SERVICES === '1') throw new Error(msg);
  console.log(`# SKIP ${msg}`);
  process.exit(kSkipExitCode);
}

function waitForLine(child, re, timeoutMs, label) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${label}: no ${re} within ${timeoutMs} ms; output:\n${buf.slice(-2000)}`)), timeoutMs);
    const on = (d) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) { clearTimeout(timer); resolve(m); }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${label} exited with ${code}:\n${buf.slice(-2000)}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${label}: ${e.message}`)); });
  });
}

/** Headers as one object (lower-case names), from the real fake's [[name, value]] pairs too. */
function headerObject(h) {
  if (!Array.isArray(h)) return h ?? {};
  return Object.fromEntries(h.map(([k, v]) => [String(k).toLowerCase(), v]));
}

function fakeControl(url, kind) {
  const u = new URL(url);
  const call = async (method, p, body) => {
    const r = await request(Number(u.port), u.hostname, method, p, { body });
    if (r.status >= 300) throw new Error(`fake upstream ${p}: ${r.status} ${r.text}`);
    return r.json;
  };
  const kKnown = new Set(['reply', 'chunks', 'chunk_delay_ms', 'accepted_keys']);
  return {
    behaviour: async (b) => {
      if (kind === 'mock') return call('POST', '/__fake/behaviour', b);
      const unknown = Object.keys(b).filter((k) => !kKnown.has(k));
      if (unknown.length > 0) throw new Error(`fake.behaviour: unsupported fields ${unknown.join(', ')}`);
      const behaviour = {};
      if (b.reply !== undefined) behaviour.reply = b.reply;
      if (b.chunks !== undefined) behaviour.chunks = b.chunks;
      if (b.chunk_delay_ms !== undefined) behaviour.event_delay_ms = b.chunk_delay_ms;
      await call('POST', '/__fake/keys', { openai: b.accepted_keys ?? [] });
      return call('POST', '/__fake/behaviour', { path: '*', once: false, behaviour });
    },
    requests: async () => {
      const j = await call('GET', '/__fake/requests');
      const list = Array.isArray(j) ? j : j.requests ?? j.data ?? [];
      return list.map((r) => ({ ...r, headers: headerObject(r.headers) }));
    },
    reset: () => call('POST', '/__fake/reset', {}),
  };
}

/** The environment for a spawned livery: the parent's without any LIVERY_* variable (livery
 *  refuses unknown ones, and ctest sets LIVERY_BINARY and others for this harness). */
export function liveryEnv(env = process.env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('LIVERY_')));
}

/** Whether a fake-upstream request log entry records that the client (the gateway) went away. */
export function wasCancelled(entry) {
  return Boolean(entry.cancelled || entry.aborted || entry.client_closed || entry.disconnected ||
                 ['cancelled', 'aborted', 'client_closed', 'disconnected'].includes(entry.outcome ?? entry.state ?? ''));
}

async function startReal() {
  const bin = process.env.LIVERY_BINARY;
  const fakeBin = process.env.LIVERY_FAKE_UPSTREAM;
  if (!bin) missing('LIVERY_BINARY (path of the livery binary)');
  if (!fakeBin) missing('LIVERY_FAKE_UPSTREAM (path of livery-fake-upstream; built in tests/tools/)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'livery-browser-'));
  const logs = [];
  // Any key is accepted until a scenario narrows it (fake.behaviour's accepted_keys).
  const fake = spawn(fakeBin, ['--port', '0', '--no-auth'], { stdio: ['ignore', 'pipe', 'pipe'], env: liveryEnv() });
  fake.stdout.on('data', (d) => logs.push(`[fake] ${d}`));
  const fm = await waitForLine(fake, /"port"\s*:\s*(\d+)/, 15_000, 'livery-fake-upstream');
  const fakePort = Number(fm[1]);
  const upstreamUrl = `http://127.0.0.1:${fakePort}`;
  await writeFile(path.join(dir, 'livery.yaml'), [
    'listen: 127.0.0.1:0',
    `data_dir: ${JSON.stringify(path.join(dir, 'data'))}`,
    'threads: 2',
    'http:',
    '  base_domain: localhost',
    'upstream:',
    `  allow_http_hosts: ["127.0.0.1:${fakePort}"]`,
    `  allow_private_hosts: ["127.0.0.1:${fakePort}"]`,
    '',
  ].join('\n'));
  const configArgs = ['--config', path.join(dir, 'livery.yaml'), '--data-dir', path.join(dir, 'data')];
  // The operator token comes from the CLI before the server starts (the server then reads it from
  // the data dir). The command is the lead's to define; LIVERY_OPERATOR_TOKEN_CMD overrides it.
  const tokenCmd = (process.env.LIVERY_OPERATOR_TOKEN_CMD ?? 'operator token create --name browser-tests').split(' ');
  let operatorToken;
  try {
    const { stdout } = await promisify(execFile)(bin, [...tokenCmd, ...configArgs], { timeout: 30_000, env: liveryEnv() });
    operatorToken = /lvr_op_[A-Za-z0-9_-]+/.exec(stdout)?.[0];
  } catch (e) {
    throw new Error(`could not create an operator token with \`livery ${tokenCmd.join(' ')}\`: ${e.message}`);
  }
  if (!operatorToken) throw new Error('the operator-token command printed no lvr_op_ token');
  const livery = spawn(bin, ['serve', ...configArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: liveryEnv() });
  livery.stderr.on('data', (d) => logs.push(`[livery] ${d}`));
  livery.stdout.on('data', (d) => logs.push(`[livery] ${d}`));
  const lm = await waitForLine(livery, /"event"\s*:\s*"listening"[^\n]*?"port"\s*:\s*(\d+)/, 30_000, 'livery');
  return {
    kind: 'real',
    port: Number(lm[1]),
    operatorToken,
    upstreamUrl,
    fake: fakeControl(upstreamUrl, 'real'),
    log: () => logs.join(''),
    close: async () => {
      for (const p of [livery, fake]) {
        if (p.exitCode === null) {
          p.kill('SIGTERM');
          await new Promise((r) => { const t = setTimeout(() => { p.kill('SIGKILL'); r(); }, 5000); p.once('exit', () => { clearTimeout(t); r(); }); });
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startMock() {
  const { startFakeUpstream } = await import(path.join(repo, 'web/dev/fake-upstream.mjs'));
  const { startMockApi } = await import(path.join(repo, 'web/dev/mock-api.mjs'));
  const fake = await startFakeUpstream();
  const upstreamUrl = `http://127.0.0.1:${fake.port}`;
  const api = await startMockApi({ upstream: upstreamUrl, distDir: process.env.LIVERY_WEB_DIST ?? path.join(repo, 'web/dist') });
  return {
    kind: 'mock',
    port: api.port,
    operatorToken: api.operatorToken,
    upstreamUrl,
    fake: fakeControl(upstreamUrl, 'mock'),
    log: () => '',
    close: async () => { await api.close(); await fake.close(); },
  };
}

export async function startBackend(kind = backendKind()) {
  return kind === 'mock' ? startMock() : startReal();
}
