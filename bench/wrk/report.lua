-- Prints one machine-readable line at the end of a wrk run:
-- BENCH requests=<n> duration_us=<n> rps=<n> p50_us=<n> p99_us=<n> non2xx=<n> errors=<n>
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
