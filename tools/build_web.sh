#!/usr/bin/env bash
# Builds the web portal (web/) with esbuild from the committed lockfile into web/dist, which the
# livery binary embeds. Skips npm when node_modules already matches the lockfile.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -f package.json ]; then
  exit 0
fi
stamp=node_modules/.livery-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm run --silent build
