-- POSTs a small chat completion; LIVERY_KEY and STREAM come from the environment.
local key = os.getenv("BENCH_KEY") or ""
local stream = os.getenv("BENCH_STREAM") == "1"
local host = os.getenv("BENCH_HOST")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
if host and host ~= "" then wrk.headers["Host"] = host end
local body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},' ..
  '{"role":"user","content":"Say hello to the benchmark in one short sentence, please."}]'
if stream then body = body .. ',"stream":true' end
wrk.body = body .. '}'
local non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write
             + summary.errors.timeout
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), non2xx + summary.errors.status, errs))
end
