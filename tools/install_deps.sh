#!/usr/bin/env bash
# Installs every build, test and run dependency from Debian 12 packages. Idempotent: packages
# already present are not touched, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format clang-tidy
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libsimdjson-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libpq-dev libhiredis-dev libsodium-dev libgit2-dev libp11-kit-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # white-label SVG sanitiser
  libxml2-dev
  # prompt evaluation gate: linear-time regexes for tenant-written patterns
  libre2-dev
  # allocator of the release binary (LIVERY_ALLOCATOR=mimalloc)
  libmimalloc-dev
  # services and tools the tests start on loopback
  postgresql redis-server softhsm2 opensc p11-kit sqlite3
  # web portal build and browser tests (Node.js 20 is used if already installed)
  chromium
  # load benchmark
  wrk nginx-light
)
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -q "${missing[@]}"; then
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q "${missing[@]}"
  fi
  # Debian starts packaged daemons where it can; the tests run their own instances.
  for svc in nginx redis-server postgresql; do
    if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "install_deps: all packages present"
fi
