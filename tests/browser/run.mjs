// ctest entry point for one scenario: `node run.mjs <scenario>`. Checks the prerequisites that
// would otherwise fail as a module-not-found, then runs `node --test <scenario>.test.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const scenario = process.argv[2];
const skip = (why) => {
  if (process.env.LIVERY_REQUIRE_SERVICES === '1') {
    console.error(`browser test prerequisite missing: ${why}`);
    process.exit(1);
  }
  console.log(`# SKIP ${why}`);
  process.exit(77);
};
if (!scenario || !existsSync(path.join(here, `${scenario}.test.mjs`))) {
  console.error(`usage: node run.mjs <scenario>; no ${scenario}.test.mjs`);
  process.exit(2);
}
if (!existsSync(path.join(here, 'node_modules', 'playwright-core'))) skip('tests/browser/node_modules (run tools/build_web.sh)');
const dist = process.env.LIVERY_WEB_DIST ?? path.join(here, '..', '..', 'web', 'dist');
if (!existsSync(path.join(dist, 'manifest.json'))) skip(`${dist}/manifest.json (run tools/build_web.sh)`);
if ((process.env.LIVERY_BROWSER_BACKEND ?? 'real') === 'real') {
  for (const v of ['LIVERY_BINARY', 'LIVERY_FAKE_UPSTREAM']) {
    if (!process.env[v] || !existsSync(process.env[v])) skip(`${v} (${process.env[v] ?? 'unset'}): the real-backend run needs the livery and livery-fake-upstream binaries`);
  }
}
if (!existsSync(process.env.CHROMIUM ?? '/usr/bin/chromium')) skip('Chromium (apt-get install chromium)');
const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', path.join(here, `${scenario}.test.mjs`)],
                    { stdio: 'inherit', cwd: here });
process.exit(r.status ?? 1);
