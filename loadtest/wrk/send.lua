-- Sends every pre-rendered message of a run exactly once, then stops (loadtest/wrk/driver.py).
--
-- The run's directory (SANDAN_WRK_DIR) holds messages.bin (the bodies, back to back) and
-- messages.idx (one line per message: offset, length, sender key, message number). Message n
-- belongs to thread n mod SANDAN_WRK_THREADS; its connections take the thread's messages in
-- order. A connection with nothing left waits (delay) instead of sending filler, and the
-- thread stops once every one of its messages is answered: wrk itself only stops at its
-- duration, so the driver interrupts it when every thread has left its done-N file.
--
-- Each answer is appended to answers-N.log as "<number> <sent> <answered> <status> <bytes>\n"
-- then the body: times are CLOCK_MONOTONIC seconds, the clock Python's time.monotonic reads.
-- The number travels as X-Request-ID, which Sandan and the physics app echo, so an answer is
-- matched to its message whichever connection carried it.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long sec; long nsec; } sandan_timespec;
int clock_gettime(int clock, sandan_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("sandan_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.sec) + tonumber(timespec.nsec) * 1e-9
end

local dir = os.getenv("SANDAN_WRK_DIR")
local threads = tonumber(os.getenv("SANDAN_WRK_THREADS") or "1")

-- setup: number the threads and spread them over the server processes (SANDAN_WRK_PORTS),
-- as a load balancer would; the setup environment sees no script arguments, hence env vars.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  local ports = {}
  for port in string.gmatch(os.getenv("SANDAN_WRK_PORTS") or "", "%d+") do
    ports[#ports + 1] = port
  end
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[counter % #ports + 1])[1]
  end
  counter = counter + 1
end

local requests, numbers, sent_at = {}, {}, {}
local next_request, answered = 1, 0
local answers
-- wrk (4.1) calls the first thread's request() once before it runs, only to count the
-- requests in the string it returns: that call must not use up a message.
local verifying = false

function init(args)
  local index = assert(io.open(dir .. "/messages.idx", "r"))
  local bodies = assert(io.open(dir .. "/messages.bin", "rb"))
  local n = 0
  for line in index:lines() do
    if n % threads == id then
      local offset, length, key, number = line:match("^(%d+) (%d+) (%S+) (%d+)$")
      bodies:seek("set", tonumber(offset))
      local body = bodies:read(tonumber(length))
      -- formatted once here, so request() is a table lookup (wrk's advice for fast servers)
      requests[#requests + 1] = wrk.format("POST", "/v1/messages", {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/xml",
        ["X-Request-ID"] = number,
      }, body)
      numbers[#numbers + 1] = number
    end
    n = n + 1
  end
  index:close()
  bodies:close()
  verifying = id == 0
  answers = assert(io.open(dir .. "/answers-" .. id .. ".log", "wb"))
  answers:setvbuf("full")
  if #requests == 0 then
    -- more threads than messages: nothing to answer, so done now (the driver avoids this)
    assert(io.open(dir .. "/done-" .. id, "w")):close()
  end
end

function delay()
  -- a connection whose thread has nothing left to send waits for the others to finish
  if next_request > #requests then
    return 3600000
  end
  return 0
end

function request()
  if verifying then
    verifying = false
    return requests[1] or wrk.format("GET", "/healthz")
  end
  local i = next_request
  if i > #requests then
    -- only if wrk asks before consulting delay(); its answer is not counted
    return wrk.format("GET", "/healthz", { ["X-Request-ID"] = "filler" })
  end
  next_request = i + 1
  sent_at[numbers[i]] = now()
  return requests[i]
end

local function finish()
  answers:close()
  local marker = assert(io.open(dir .. "/done-" .. id, "w"))
  marker:close()
  wrk.thread:stop()
end

function response(status, headers, body)
  local number = headers["X-Request-ID"] or headers["x-request-id"]
  local began = number and sent_at[number]
  if began == nil then
    return -- the filler's answer
  end
  sent_at[number] = nil
  body = body or ""
  answers:write(string.format("%s %.6f %.6f %d %d\n", number, began, now(), status, #body))
  answers:write(body, "\n")
  answered = answered + 1
  if answered == #requests then
    finish()
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(dir .. "/summary.json", "w"))
  local e = summary.errors
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "min": %d, "max": %d, "mean": %f}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.min, latency.max, latency.mean))
  out:close()
end
