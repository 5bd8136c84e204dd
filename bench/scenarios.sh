# Sourced by bench/run_bench.sh: the gateway scenarios, each measured beside nginx as a plain
# reverse proxy to the same mock upstream in the same run.
#
# The mock upstream is our fake provider (tests/tools) unless BENCH_MOCK_CMD names another one
# (e.g. a faster C mock; it must listen on $MOCK_PORT and answer POST /v1/chat/completions with
# OpenAI JSON and SSE).

MOCK_PORT=${MOCK_PORT:-18000}
LIVERY_PORT=${LIVERY_PORT:-18091}
NGINX_PORT=${NGINX_PORT:-18092}
SEED=${SEED:-build/release/tests/livery-seed}

# The shared harness's C mock (../shared/bench/mock, not part of this repository) answers from
# prebuilt buffers, so it costs the client core little and sends a 20-event stream in one write:
# the numbers then measure the proxy, not the mock. Used when present unless BENCH_MOCK_CMD is set.
SHARED_MOCK_SRC=${SHARED_MOCK_SRC:-../shared/bench/mock/mock_upstream.c}
if [ -z "${BENCH_MOCK_CMD:-}" ] && [ -f "$SHARED_MOCK_SRC" ]; then
  cc -O2 -pthread -o "$work/mock_upstream" "$SHARED_MOCK_SRC"
  BENCH_MOCK_CMD="$work/mock_upstream -p $MOCK_PORT -t 1"
  MOCK_NAME="shared C mock (../shared/bench/mock/mock_upstream.c, 1 thread)"
fi
MOCK_NAME=${MOCK_NAME:-${BENCH_MOCK_CMD:+$BENCH_MOCK_CMD}}
MOCK_NAME=${MOCK_NAME:-livery-fake-upstream (tests/tools)}

start_mock() {
  if [ -n "${MOCK_PID:-}" ]; then return; fi
  if [ -n "${BENCH_MOCK_CMD:-}" ]; then
    taskset -c "$CLIENT_CPU" bash -c "exec $BENCH_MOCK_CMD" >"$work/mock.out" 2>&1 &
  else
    taskset -c "$CLIENT_CPU" "$FAKE" --port "$MOCK_PORT" >"$work/mock.out" 2>&1 &
  fi
  MOCK_PID=$!
  pids+=("$MOCK_PID")
  for _ in $(seq 1 100); do
    if (echo >"/dev/tcp/127.0.0.1/$MOCK_PORT") 2>/dev/null; then return; fi
    sleep 0.05
  done
  echo "mock upstream did not start" >&2; return 1
}

start_seeded_livery() {
  if [ -n "${SEEDED_PID:-}" ]; then return; fi
  "$SEED" --data-dir "$work/data-gw" --upstream "http://127.0.0.1:$MOCK_PORT" >"$work/seed.json"
  BENCH_KEY=$(sed -E 's/.*"keys":\["([^"]+)".*/\1/' "$work/seed.json")
  export BENCH_KEY
  start_livery "$work/data-gw" "$LIVERY_PORT" \
    --set upstream.allow_http_hosts=127.0.0.1 --set upstream.allow_private_hosts=127.0.0.1
  SEEDED_PID=$LIVERY_PID
}

start_nginx() {
  if [ -n "${NGINX_PID:-}" ]; then return; fi
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  keepalive_requests 1000000;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    client_max_body_size 16m;
    client_body_buffer_size 2m;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
  taskset -c "$PROXY_CPU" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx/stderr" &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  for _ in $(seq 1 100); do
    if (echo >"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then break; fi
    sleep 0.05
  done
  # Charge nginx's worker: the master only forks it.
  NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)
}

scenario_chat() {
  start_mock; start_seeded_livery; start_nginx
  run_wrk "$SEEDED_PID" "livery chat (non-streaming)" -s bench/wrk/chat.lua "http://127.0.0.1:$LIVERY_PORT/v1/chat/completions"
  run_wrk "$NGINX_WORKER" "nginx proxy chat (non-streaming)" -s bench/wrk/chat.lua "http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
}

scenario_stream() {
  start_mock; start_seeded_livery; start_nginx
  BENCH_STREAM=1 run_wrk "$SEEDED_PID" "livery chat (stream)" -s bench/wrk/chat.lua "http://127.0.0.1:$LIVERY_PORT/v1/chat/completions"
  BENCH_STREAM=1 run_wrk "$NGINX_WORKER" "nginx proxy chat (stream)" -s bench/wrk/chat.lua "http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
}

scenario_body1m() {
  start_mock; start_seeded_livery; start_nginx
  CONNS=8 run_wrk "$SEEDED_PID" "livery chat, 1 MiB body" -s bench/wrk/chat_big.lua "http://127.0.0.1:$LIVERY_PORT/v1/chat/completions"
  CONNS=8 run_wrk "$NGINX_WORKER" "nginx proxy, 1 MiB body" -s bench/wrk/chat_big.lua "http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
}
