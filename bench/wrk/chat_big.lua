-- POSTs a chat completion whose user message makes the body about 1 MiB (BENCH_KEY auth).
local key = os.getenv("BENCH_KEY") or ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
local filler = string.rep("lorem ipsum dolor sit amet ", 38836)  -- 27 * 38836 ~ 1 MiB
wrk.body = '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"' ..
  filler .. '"}]}'
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
