// Runs the pure-logic unit tests (web/test/*.test.ts) with Node's test runner: esbuild bundles
// each file to a temporary .mjs first (Node 20 does not run TypeScript).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(path.join(os.tmpdir(), 'livery-web-test-'));
const files = readdirSync(here).filter((f) => f.endsWith('.test.ts'));
await esbuild.build({
  entryPoints: files.map((f) => path.join(here, f)), bundle: true, platform: 'node', format: 'esm', outdir: out,
  outExtension: { '.js': '.mjs' }, logLevel: 'warning', packages: 'external',
});
const r = spawnSync(process.execPath, ['--test', ...files.map((f) => path.join(out, f.replace(/\.ts$/, '.mjs')))], { stdio: 'inherit' });
rmSync(out, { recursive: true, force: true });
process.exit(r.status ?? 1);
