#!/usr/bin/env bash
# Builds the web portal (web/) with esbuild from the committed lockfile into web/dist, which the
# livery binary embeds (src/portal/embed_assets.cmake), and installs the browser-test harness
# (tests/browser: playwright-core, driving Debian's /usr/bin/chromium; no browser download).
# npm ci runs only when a lockfile changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

npm_ci_if_changed() {
  local dir="$1"
  local stamp="$dir/node_modules/.livery-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

if [ -f "$root/web/package.json" ]; then
  npm_ci_if_changed "$root/web"
  (cd "$root/web" && npm run --silent check && npm run --silent build)
fi
if [ -f "$root/tests/browser/package.json" ]; then
  npm_ci_if_changed "$root/tests/browser"
fi
# The Node SDK test (tests/node): the official openai package, pinned by its lockfile.
if [ -f "$root/tests/node/package.json" ]; then
  npm_ci_if_changed "$root/tests/node"
fi
