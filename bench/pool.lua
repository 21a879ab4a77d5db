-- wrk script: cycle through pre-built raw HTTP requests (signed in Python just before the run).
--   BENCH_REQUESTS  file of raw requests, each followed by one NUL byte
--   BENCH_THREADS   wrk's -t (each thread takes every n-th request, so no request is sent twice per pass)
--   BENCH_LIMIT     optional: stop after this many responses in total (used for the memory run)
-- done() prints one line "BENCH_RESULT {...}" with wrk's summary as JSON for bench/run.py.

local path = os.getenv("BENCH_REQUESTS")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local n, start = 0, 1
  while true do
    local stop = string.find(data, "\0", start, true)
    if not stop then break end
    if n % nthreads == id then reqs[#reqs + 1] = string.sub(data, start, stop - 1) end
    n = n + 1
    start = stop + 1
  end
  data = nil
  i = 0
  wraps = 0
  responses = 0
  per_thread_limit = limit > 0 and math.ceil(limit / nthreads) or 0
end

function request()
  i = i + 1
  if i > #reqs then
    i = 1
    wraps = wraps + 1
  end
  return reqs[i]
end

if limit > 0 then
  function response(status, headers, body)
    responses = responses + 1
    if responses >= per_thread_limit then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
