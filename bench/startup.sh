#!/usr/bin/env bash
# Start-up with a large population (issue 4: "start-up with 100,000 tenants and 1,000,000 keys
# takes under 5 s"): seeds TENANTS tenants (each with a sealed credential and a gpt-4o route) and
# KEYS API keys with livery-seed, then times `livery serve` from exec until GET /readyz answers
# 200 (the gateway loads every tenant, credential, route and key into its in-memory indexes before
# it listens). One untimed start first (it creates the bootstrap operator token and warms the page
# cache), then RUNS timed starts; prints each run, the median, and the anonymous resident set (RssAnon: the heap, without the mapped database file) once ready.
#
#   bench/startup.sh                                   # SQLite, 100,000 tenants, 1,000,000 keys
#   TENANTS=1000 KEYS=10000 RUNS=3 bench/startup.sh    # a quick check
#   tools/with_services.sh bench/startup.sh postgres   # PostgreSQL (LIVERY_TEST_PG_URL)
#
# The SQLite data directory is kept in DATA (default /tmp/livery-startup-<T>-<K>) and reused by
# the next run with the same sizes (seeding takes minutes); KEEP=0 seeds into a private directory
# and removes it at the end. The bench-smoke ctest runs TENANTS=50 KEYS=500 RUNS=1 KEEP=0 against
# the build's own binaries (LIVERY, SEED).
# Needs a release build: cmake --build --preset release --target livery livery-seed
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=${1:-sqlite}
TENANTS=${TENANTS:-100000}
KEYS=${KEYS:-1000000}
RUNS=${RUNS:-3}
PORT=${PORT:-}
LIVERY=${LIVERY:-build/release/src/livery}
SEED=${SEED:-build/release/tests/livery-seed}
KEEP=${KEEP:-1}
THREADS=${THREADS:-2}

work=$(mktemp -d /tmp/livery-startup-run.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if [ "$KEEP" = 0 ] && [ "$BACKEND" = sqlite ]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT

extra=()
case "$BACKEND" in
  sqlite)
    if [ "$KEEP" = 0 ]; then
      DATA=${DATA:-$work/data}  # private to this run (the bench-smoke test)
    else
      DATA=${DATA:-/tmp/livery-startup-$TENANTS-$KEYS}
    fi
    ;;
  postgres)
    if [ -z "${LIVERY_TEST_PG_URL:-}" ]; then
      echo "postgres: run under tools/with_services.sh (LIVERY_TEST_PG_URL is not set)" >&2
      exit 2
    fi
    # A fresh cluster each time: the data directory holds only the key file.
    DATA=$work/data-pg
    extra=(--set storage.backend=postgres --set "storage.postgres_url=$LIVERY_TEST_PG_URL")
    ;;
  *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

# PORT unset: livery binds port 0 and the kernel picks a free one, which start_once reads from
# the "listening" log line. (A port guessed here and checked for a listener could still be taken
# before livery binds it, by a parallel test or an outgoing connection's ephemeral port.)

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

if [ ! -f "$DATA/.seeded" ]; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  echo "seeding $TENANTS tenants and $KEYS keys into $DATA ($BACKEND) ..." >&2
  t0=$(date +%s)
  # One tenant through the control plane, the rest in bulk; synchronous=normal while seeding
  # only (the timed starts use the default, full).
  "$SEED" --data-dir "$DATA" --upstream http://127.0.0.1:9 --tenants 1 \
    --bulk-tenants "$((TENANTS - 1))" --bulk-keys "$KEYS" \
    --set storage.sqlite_synchronous=normal "${extra[@]}" >"$work/seed.json"
  echo "seeded in $(($(date +%s) - t0)) s" >&2
  if [ "$BACKEND" = sqlite ]; then touch "$DATA/.seeded"; fi
fi
if [ "$BACKEND" = sqlite ]; then
  echo "database: $(du -sh "$DATA" | cut -f1)" >&2
fi

# start_once: prints "<ms from exec to /readyz 200> <VmRSS kB once ready> <CPU ms used by then>".
# The CPU time (user + system, every thread) is the figure to trust on a loaded machine: the
# loading is single-threaded, so on an idle core the wall time is about the CPU time.
start_once() {
  local t0 t1 code rss cpu port
  : >"$work/livery.log"  # this start's lines only
  port=$PORT
  t0=$(date +%s%N)
  "$LIVERY" serve --data-dir "$DATA" --listen "127.0.0.1:${PORT:-0}" --threads "$THREADS" \
    --set log.file="$work/livery.log" "${extra[@]}" >"$work/livery.out" 2>&1 &
  pid=$!
  code=""
  for _ in $(seq 1 6000); do
    if [ -z "$port" ]; then
      port=$(grep -m1 '"event":"listening"' "$work/livery.log" 2>/dev/null |
        sed -n 's/.*"port":\([0-9]*\).*/\1/p' || true)
    fi
    if [ -n "$port" ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/readyz" || true)
      if [ "$code" = 200 ]; then break; fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "livery exited before it was ready:" >&2
      cat "$work/livery.out" >&2
      exit 1
    fi
    sleep 0.01
  done
  t1=$(date +%s%N)
  if [ "$code" != 200 ]; then echo "not ready after 60 s" >&2; exit 1; fi
  rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000 / hz}' "/proc/$pid/stat")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  echo "$(((t1 - t0) / 1000000)) $rss $cpu"
}

start_once >/dev/null  # untimed: bootstrap token, page cache
: >"$work/ms"
: >"$work/rss"
: >"$work/cpu"
for i in $(seq 1 "$RUNS"); do
  read -r ms rss cpu < <(start_once)
  echo "$ms" >>"$work/ms"
  echo "$rss" >>"$work/rss"
  echo "$cpu" >>"$work/cpu"
  echo "run $i: ready in $ms ms (CPU $cpu ms), anonymous resident set $((rss / 1024)) MiB;" \
    "load average $(cut -d' ' -f1 /proc/loadavg)" >&2
done
listening=$(grep -m1 '"listening"' "$work/livery.log" 2>/dev/null || true)
echo "startup ($BACKEND, $TENANTS tenants, $KEYS keys, $RUNS runs): median $(median <"$work/ms") ms" \
  "from exec to /readyz 200 (CPU $(median <"$work/cpu") ms); median anonymous resident set $(( $(median <"$work/rss" | cut -d. -f1) / 1024 )) MiB"
if [ -n "$listening" ]; then echo "gateway: $listening"; fi
