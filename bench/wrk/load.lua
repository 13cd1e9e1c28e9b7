-- The load of one page measurement: GETs of a page, or POSTs of a form.
--
--   wrk ... -s load.lua URL -- get EXPECTED_STATUS LIMIT
--   wrk ... -s load.lua URL -- post EXPECTED_STATUS LIMIT TOKENS_FILE BODY_FILE RUN_TAG
--
-- LIMIT > 0 stops the run after that many answers (the smoke test's few requests);
-- 0 runs for wrk's whole --duration.
--
-- A POST's body is BODY_FILE's text with %TOKEN% replaced by a form token from
-- TOKENS_FILE (fetched with GETs before the run, used in turn) and %N% by a number
-- no other request of the run has, so that every POST is a new person.
-- done() prints one JSON line that bench/pages.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(lines, line) end
  end
  return lines
end

function init(args)
  mode = args[1]
  expected = tonumber(args[2])
  limit = tonumber(args[3])
  answers = 0
  unexpected = 0
  unexpected_statuses = ""
  if mode == "post" then
    tokens = read_lines(args[4])
    local file = assert(io.open(args[5], "r"))
    body = file:read("*a"):gsub("%s+$", "")
    file:close()
    tag = args[6] .. "t" .. id
  end
end

function request()
  if mode ~= "post" then
    return wrk.format("GET")
  end
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local filled = body:gsub("%%TOKEN%%", token):gsub("%%N%%", tag .. "n" .. counter)
  return wrk.format("POST", nil,
    {["Content-Type"] = "application/x-www-form-urlencoded"}, filled)
end

function response(status, headers, response_body)
  answers = answers + 1
  if limit > 0 and answers >= limit then
    wrk.thread:stop()
  end
  if status ~= expected then
    unexpected = unexpected + 1
    if #unexpected_statuses < 200 then
      unexpected_statuses = unexpected_statuses .. status .. " "
    end
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  local seen = ""
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
    seen = seen .. thread:get("unexpected_statuses")
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "unexpected": %d, ' ..
    '"unexpected_statuses": "%s", ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, unexpected_total, seen,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
