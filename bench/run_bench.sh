#!/usr/bin/env bash
# Load benchmarks for docs/BENCHMARKS.md. wrk (and the mock upstream) run on core 0, the proxy
# under test on core 1, so each row measures what one core of the proxy buys. Every scenario runs
# RUNS times; the table reports medians. nginx is measured in the same run as the floor of one
# proxy hop.
#
#   bench/run_bench.sh                    # all scenarios
#   SCENARIOS="healthz chat" RUNS=5 DURATION=10 bench/run_bench.sh
#
# Needs: a release build (make build), wrk and nginx-light (tools/install_deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
SCENARIOS=${SCENARIOS:-"healthz chat stream body1m"}
CLIENT_CPU=${CLIENT_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
LIVERY=${LIVERY:-build/release/src/livery}
FAKE=${FAKE:-build/release/tests/livery-fake-upstream}
OUT=${OUT:-bench/runs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
work=$(mktemp -d /tmp/livery-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() {  # utime+stime of a process (all its threads), in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# thread_ticks <pid>: "<thread name> <utime+stime ticks>" per thread. Livery names its threads
# (lv-io-N, lv-ledger, lv-log, ...), so a row can say where its CPU went.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "$(cat "$t/comm" 2>/dev/null) $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done | awk 'NF == 2 {s[$1] += $2} END {for (k in s) print k, s[k]}'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print 0} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

# run_wrk <pid-to-charge> <label> <wrk args...>: one warm-up and RUNS measured runs.
run_wrk() {
  local pid=$1 label=$2; shift 2
  local f; f=$(tr -c 'A-Za-z0-9' '_' <<<"$label")
  local hz; hz=$(getconf CLK_TCK)
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$@" >/dev/null 2>&1 || true
  : >"$work/$f.rps"; : >"$work/$f.cpu"; : >"$work/$f.split"; : >"$work/$f.p50"; : >"$work/$f.p99"
  for i in $(seq 1 "$RUNS"); do
    local t0; t0=$(cpu_ticks "$pid")
    thread_ticks "$pid" >"$work/threads0"
    local line
    line=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "$@" | tee -a "$OUT/$f.wrk" | grep '^BENCH')
    local t1; t1=$(cpu_ticks "$pid")
    thread_ticks "$pid" >"$work/threads1"
    local req rps p50 p99 bad
    req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
    rps=$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*non2xx=([0-9]+) errors=([0-9]+).*/\1+\2/' <<<"$line")
    echo "$rps" >>"$work/$f.rps"
    echo "$p50" >>"$work/$f.p50"
    echo "$p99" >>"$work/$f.p99"
    awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$req" 'BEGIN {printf "%.1f\n", (t / hz) * 1e6 / n}' >>"$work/$f.cpu"
    # Per-thread split of the same CPU, for Livery's I/O thread and ledger writer.
    awk -v hz="$hz" -v n="$req" 'NR == FNR {a[$1] = $2; next} {d[$1] = $2 - a[$1]}
      END {io = d["lv-io-0"]; led = d["lv-ledger"];
           if (io == "" && led == "") print "—"; else printf "%.1f · %.1f\n", io / hz * 1e6 / n, led / hz * 1e6 / n}' \
      "$work/threads0" "$work/threads1" >>"$work/$f.split"
    echo "  $label run $i: $line" >&2
    if [ "$bad" != "0+0" ]; then echo "  $label: non-2xx or socket errors: $bad" >&2; fi
  done
  # The split column comes from the run whose total CPU is nearest the median, so its parts add up.
  local mid; mid=$(median <"$work/$f.cpu")
  local split
  split=$(paste "$work/$f.cpu" "$work/$f.split" | awk -F '\t' -v m="$mid" \
    '{d = $1 - m; if (d < 0) d = -d; if (best == "" || d < best) {best = d; s = $2}} END {print s}')
  printf "| %s | %s | %s | %s | %s | %s |\n" "$label" "$(median <"$work/$f.rps")" \
    "$(median <"$work/$f.p50")" "$(median <"$work/$f.p99")" "$mid" "${split:-—}" \
    | tee -a "$OUT/results.md"
}

wait_http() {  # wait_http URL
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2; return 1
}

start_livery() {  # start_livery <data-dir> <port> [extra args...]
  local dir=$1 port=$2; shift 2
  taskset -c "$PROXY_CPU" "$LIVERY" serve --data-dir "$dir" --listen "127.0.0.1:$port" --threads 1 \
    --set log.file="$work/livery-$port.log" "$@" >"$work/livery-$port.out" 2>&1 &
  pids+=($!)
  LIVERY_PID=$!
  wait_http "http://127.0.0.1:$port/healthz"
}

# shellcheck source=bench/scenarios.sh
source bench/scenarios.sh

{
  echo "# Livery benchmark run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB;"
  echo "commit $(git rev-parse --short HEAD); wrk -t1 -c$CONNS, $RUNS runs of ${DURATION}s after ${WARMUP}s warm-up; medians."
  echo "Client on core $CLIENT_CPU, proxy on core $PROXY_CPU. Mock upstream: $MOCK_NAME."
  echo
  echo "| scenario | RPS | p50 µs | p99 µs | proxy CPU µs/req | of which I/O thread · ledger writer |"
  echo "|---|--:|--:|--:|--:|--:|"
} | tee "$OUT/results.md"

for scenario in $SCENARIOS; do
  case "$scenario" in
    healthz)
      start_livery "$work/data-healthz" 18090 --set http.access_log=true
      run_wrk "$LIVERY_PID" "livery GET /healthz (access log on)" -s bench/wrk/report.lua http://127.0.0.1:18090/healthz
      kill "$LIVERY_PID"; wait "$LIVERY_PID" 2>/dev/null || true
      ;;
    chat|stream|body1m)
      "scenario_$scenario"
      ;;
    *) echo "unknown scenario $scenario" >&2 ;;
  esac
done
echo "results: $OUT/results.md"
