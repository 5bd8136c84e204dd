// Starts the real binaries for Node-driven tests: the fake provider, a seeded data directory,
// and `livery serve` on a free port. Everything is torn down by stop().
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function waitForLine(child, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}\n${buffer}`)), timeoutMs);
    const onData = (chunk) => {
      buffer += chunk.toString();
      const m = buffer.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before ${pattern}\n${buffer}`));
    });
  });
}

// The children get the environment without the harness's own LIVERY_* variables: livery refuses
// unknown LIVERY_* variables (a typo in a configuration variable must not pass silently).
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIVERY_')));
}

export async function startLivery({ tenants = 1, limitedRpm = 0 } = {}) {
  const bin = process.env.LIVERY_BINARY;
  const fakeBin = process.env.LIVERY_FAKE_UPSTREAM;
  const seedBin = process.env.LIVERY_SEED;
  if (!bin || !fakeBin || !seedBin) {
    throw new Error('LIVERY_BINARY, LIVERY_FAKE_UPSTREAM and LIVERY_SEED must be set (ctest does)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'livery-node-'));
  const fake = spawn(fakeBin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let livery = null;
  const cleanup = () => {
    fake.kill('SIGKILL');
    livery?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
  const [, fakePort] = await waitForLine(fake, /"port":(\d+)/, 15000);
  const upstream = `http://127.0.0.1:${fakePort}`;
  const seeded = JSON.parse(execFileSync(seedBin, ['--data-dir', join(dir, 'data'), '--upstream', upstream,
    '--tenants', String(tenants), '--limited-rpm', String(limitedRpm)], { env: childEnv() }).toString());
  livery = spawn(bin, ['serve', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--threads', '2',
    '--set', 'upstream.allow_http_hosts=127.0.0.1', '--set', 'upstream.allow_private_hosts=127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  const [, port] = await waitForLine(livery, /"event":"listening".*?"port":(\d+)/, 30000);
  const base = `http://127.0.0.1:${port}`;
  return {
    base, upstream, seeded, dir,
    async stop() {
      livery.kill('SIGTERM');
      fake.kill('SIGTERM');
      await new Promise((r) => livery.on('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  } catch (err) {
    cleanup();
    throw err;
  }
}
