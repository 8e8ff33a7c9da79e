-- wrk script for the GraphQL scenarios of bench/run.
--
-- Environment:
--   BENCH_BODY   file holding the JSON request body (one line). Placeholders, replaced per request:
--                @@N@@ a number unique across threads and requests (thread id * 10^7 + counter),
--                @@N12@@ the same number zero-padded to 12 digits (for UUIDs),
--                @@ROW1@@..@@ROW4@@ the fields of the next line of BENCH_ROWS (tab-separated).
--   BENCH_ROWS   optional file of tab-separated rows (e.g. families to update); each thread
--                walks its own slice, so no two requests touch the same row.
--   BENCH_TOKEN  JWT sent as `Authorization: Bearer`.
-- A response counts as a failure unless it is HTTP 200 with a body that has no `"errors"` key.
-- `done` prints one line `BENCH_JSON {...}` with the figures bench/run reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function read_file(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  failures = 0
  shown = 0
  body_template = read_file(os.getenv("BENCH_BODY")):gsub("%s+$", "")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  rows = {}
  local rows_file = os.getenv("BENCH_ROWS")
  if rows_file and rows_file ~= "" then
    local all = {}
    for line in io.lines(rows_file) do
      if line ~= "" then table.insert(all, line) end
    end
    -- this thread's slice: every n-th row, n = thread count
    local n = tonumber(os.getenv("BENCH_THREADS") or "1")
    for i = tid, #all, n do table.insert(rows, all[i]) end
  end
  next_row = 1
  dynamic = body_template:find("@@", 1, true) ~= nil
  if not dynamic then
    wrk.body = body_template
  end
end

local function split_tabs(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(out, field) end
  return out
end

function request()
  if not dynamic then
    return wrk.format()
  end
  counter = counter + 1
  local n = tid * 10000000 + counter
  local b = body_template:gsub("@@N@@", tostring(n)):gsub("@@N12@@", string.format("%012d", n))
  if #rows > 0 then
    local fields = split_tabs(rows[next_row])
    next_row = next_row % #rows + 1
    for i, v in ipairs(fields) do
      b = b:gsub("@@ROW" .. i .. "@@", (v:gsub("%%", "%%%%")))
    end
  end
  return wrk.format(nil, nil, nil, b)
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    failures = failures + 1
    if shown < 2 then
      shown = shown + 1
      io.stderr:write("bench: failed response (HTTP " .. status .. "): " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failures") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"failed_bodies":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, failed, e.status, e.connect + e.read + e.write + e.timeout))
end
