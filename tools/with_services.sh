#!/usr/bin/env bash
# Runs a command with a private PostgreSQL and Redis on loopback (free ports, a temporary
# directory), exporting LIVERY_TEST_PG_URL and LIVERY_TEST_REDIS_URL, and stops both when the
# command ends, whatever its outcome.  Usage: tools/with_services.sh <command> [args...]
set -euo pipefail

work=$(mktemp -d /tmp/livery-services.XXXXXX)
chmod 755 "$work"
pg_pid_file=""
redis_pid=""

free_port() {
  local p
  for _ in $(seq 1 50); do
    # Below Linux's default ephemeral range (32768-60999): an outgoing connection cannot be
    # holding the port between this check and the server's bind.
    p=$(( (RANDOM % 12000) + 20000 ))
    if ! (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "with_services: no free port found" >&2
  return 1
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local rc=$?
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$pg_pid_file" ] && [ -d "$work/pg" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT INT TERM

# PostgreSQL (Debian's packaged binaries, a throw-away cluster).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
pg_port=$(free_port)
mkdir -p "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$work/pg"; fi
as_pg "$pg_bin/initdb" -D "$work/pg" -U livery --auth=trust -E UTF8 >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log"; exit 1; }
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w -t 30 \
  -o "-h 127.0.0.1 -p $pg_port -k $work/pg -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$work/pg/server.log"; exit 1; }
pg_pid_file="$work/pg/postmaster.pid"
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U livery livery_test
export LIVERY_TEST_PG_URL="postgresql://livery@127.0.0.1:$pg_port/livery_test"

# Redis.
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 1 100); do
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then break; fi
  sleep 0.05
done
redis-cli -p "$redis_port" ping >/dev/null || { cat "$work/redis.log"; exit 1; }
export LIVERY_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"

echo "with_services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
"$@"
