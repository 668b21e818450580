-- wrk script: POST the request body in a file (WRK_BODY) with its Content-Type (WRK_TYPE), and
-- print latency percentiles in microseconds in a line perf/side-by-side.ps1 parses.
--   WRK_BODY=body.msgpack WRK_TYPE=application/msgpack wrk -t1 -c16 -d5s -s perf/wrk/post.lua URL
-- A binary-tensor body (loadgen body --encoding binary, which prints the JSON's length) also needs
-- WRK_JSON_LENGTH=<that length>, sent as Inference-Header-Content-Length.
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_TYPE") or "application/msgpack"
if os.getenv("WRK_JSON_LENGTH") then
  wrk.headers["Inference-Header-Content-Length"] = os.getenv("WRK_JSON_LENGTH")
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("wrk\t%.0f req/s\tp50 %d us\tp90 %d us\tp99 %d us\terrors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(90), latency:percentile(99), errors))
end
