// Builds the portal into dist/: content-hashed bundles under dist/static/ and dist/manifest.json
// mapping logical names ("console.js", "app.css") to their hashed URLs. The livery build embeds
// dist/ into the binary (src/portal/embed_assets.cmake). esbuild only; no other tooling.
//
//   node build.mjs            production build (minified)
//   node build.mjs --dev      unminified with inline source maps
//   node build.mjs --watch    rebuild on change (dev; used with dev/mock-api.mjs)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const staticDir = path.join(dist, 'static');
const args = new Set(process.argv.slice(2));
const dev = args.has('--dev') || args.has('--watch');

export const kEntries = {
  console: 'src/console/main.tsx',
  workspace: 'src/workspace/main.tsx',
  operator: 'src/operator/main.tsx',
};

async function buildOnce() {
  const started = Date.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(staticDir, { recursive: true });

  // 1. The stylesheet first: its hashed URL is compiled into the bundles (ui/boot.tsx).
  const css = await esbuild.build({
    absWorkingDir: here,
    entryPoints: { app: 'src/styles/app.css' },
    bundle: true,
    minify: !dev,
    outdir: staticDir,
    entryNames: '[name].[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const cssOut = Object.keys(css.metafile.outputs).find((f) => f.endsWith('.css'));
  const styleUrl = '/static/' + path.basename(cssOut);

  // 2. The three entry bundles (ESM, code-split so uPlot and markdown load only where used).
  const js = await esbuild.build({
    absWorkingDir: here,
    entryPoints: kEntries,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome111', 'firefox113', 'safari16.4'],
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: staticDir,
    entryNames: '[name].[hash]',
    chunkNames: 'chunk.[hash]',
    define: { __LV_STYLE_URL__: JSON.stringify(styleUrl), 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });

  const entries = { 'app.css': styleUrl };
  for (const [out, meta] of Object.entries(js.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const name = Object.entries(kEntries).find(([, src]) => meta.entryPoint === src)?.[0];
    if (name) entries[`${name}.js`] = '/static/' + path.basename(out);
  }
  for (const name of Object.keys(kEntries)) {
    if (!entries[`${name}.js`]) throw new Error(`no output for entry ${name}`);
  }

  // 3. The manifest: entries plus every file with its size and SHA-256.
  const files = [];
  for (const f of (await readdir(staticDir)).sort()) {
    const bytes = await readFile(path.join(staticDir, f));
    files.push({
      path: '/static/' + f,
      bytes: bytes.length,
      gzip_bytes: gzipSync(bytes, { level: 9 }).length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  const manifest = { version: 1, entries, files };
  await writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

  const total = files.reduce((a, f) => a + f.bytes, 0);
  const gz = files.reduce((a, f) => a + f.gzip_bytes, 0);
  console.log(`web: built ${files.length} files, ${(total / 1024).toFixed(1)} KiB ` +
              `(${(gz / 1024).toFixed(1)} KiB gzip) in ${Date.now() - started} ms`);
  return manifest;
}

if (args.has('--watch')) {
  // Simple polling watch: rebuild when any source file changes.
  const snapshot = async () => {
    let latest = 0;
    const walk = async (dir) => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else latest = Math.max(latest, (await stat(p)).mtimeMs);
      }
    };
    await walk(path.join(here, 'src'));
    return latest;
  };
  let last = -1;
  for (;;) {
    const now = await snapshot();
    if (now !== last) {
      last = now;
      await buildOnce().catch((e) => console.error(e.message));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
} else {
  await buildOnce();
}
