#!/usr/bin/env bash
# Fails when a tracked C++ file is not clang-formatted (house style: .clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || true)
if [ -z "$files" ]; then exit 0; fi
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files 2>/tmp/livery-format.$$; then
  head -40 /tmp/livery-format.$$
  rm -f /tmp/livery-format.$$
  echo "check_format: run 'make format'" >&2
  exit 1
fi
rm -f /tmp/livery-format.$$
echo "check_format: ok"
