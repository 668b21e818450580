-- wrk script: perf/wrk/post.lua's request, and the Server-Timing header of every answer tallied by
-- its text; done() prints the medians of queue, compute and overhead in µs (one thread: wrk -t1).
--   WRK_BODY=body.msgpack wrk -t1 -c1 -d5s -s perf/experiments/lone-request/server-timing.lua URL
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/msgpack"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

tally = {}
function response(status, headers, body)
  local h = headers["Server-Timing"]
  if h then
    tally[h] = (tally[h] or 0) + 1
  end
end

local function median(values, n)
  local keys = {}
  for v in pairs(values) do table.insert(keys, v) end
  table.sort(keys)
  local seen = 0
  for _, v in ipairs(keys) do
    seen = seen + values[v]
    if seen * 2 >= n then return v end
  end
  return -1
end

function done(summary, latency, requests)
  local parts, n = { queue = {}, compute = {}, overhead = {} }, 0
  for _, thread in ipairs(threads) do
    for text, count in pairs(thread:get("tally")) do
      n = n + count
      for name, dur in string.gmatch(text, "(%a+);dur=([%d.]+)") do
        if parts[name] then
          local us = math.floor(tonumber(dur) * 1000 + 0.5)
          parts[name][us] = (parts[name][us] or 0) + count
        end
      end
    end
  end
  io.write(string.format("server-timing\tn %d\tqueue p50 %d us\tcompute p50 %d us\toverhead p50 %d us\twrk p50 %d us\n",
    n, median(parts.queue, n), median(parts.compute, n), median(parts.overhead, n), latency:percentile(50)))
end
