-- The requests of `make bench` (bench/spec10.py), for wrk: one script for every HTTP row.
--
--   wrk -t2 -c64 -d8s -s bench/spec10.lua URL -- MODE BASE THREADS IDS TOKEN LINES NOON
--
-- MODE   post      POST /v1/completions, one posting a request
--        roster    POST /v1/completions/batch, LINES postings a request
--        status    GET /v1/managers/{id}/status, a manager of IDS drawn at random
--        insert    POST /bare, the body of a posting (the bare app's one INSERT)
--        select    GET /bare/{n}, n in 1..LINES (the bare app's one primary-key SELECT)
-- BASE   the first sequence number of this run; every posting has its own, g, so every
--        posting of a run of the bench is distinct and counts: its external_id is b-g, its
--        manager IDS[g % #IDS], and for the k-th posting to that manager (k = floor(g / #IDS))
--        the activity bench-(k % 200) on the day floor(k / 200) days before NOON (an
--        activity counts once a day).  done() prints how many numbers a thread used.
-- IDS    a file of manager ids, one a line
-- NOON   today's noon, UTC, in seconds since the epoch
--
-- done() prints one JSON line: requests, seconds, errors, non-2xx answers, latency
-- percentiles (microseconds) and the next BASE.

local ACTIVITIES = 200
local mode, base, threads, token, lines, noon
local ids = {}
counter = 0 -- a global: done() reads it with thread:get
local headers = {}
local days = {}
local all_threads = {}

function setup(thread)
  thread:set("tid", #all_threads)
  table.insert(all_threads, thread)
end

function init(args)
  mode, base, threads = args[1], tonumber(args[2]), tonumber(args[3])
  token, lines, noon = args[5], tonumber(args[6]), tonumber(args[7])
  for id in io.lines(args[4]) do ids[#ids + 1] = id end
  math.randomseed(base + tid)
  headers["Content-Type"] = "application/json"
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
end

local function next_g()
  local g = base + counter * threads + tid
  counter = counter + 1
  return g
end

local function day(back)
  local d = days[back]
  if d == nil then
    d = os.date("!%Y-%m-%d", noon - back * 86400)
    days[back] = d
  end
  return d
end

local function posting()
  local g = next_g()
  local k = math.floor(g / #ids)
  return '{"external_id":"b-' .. g .. '","manager_id":"' .. ids[g % #ids + 1]
    .. '","activity_id":"bench-' .. (k % ACTIVITIES) .. '","completed_on":"'
    .. day(math.floor(k / ACTIVITIES)) .. '","ceus":"1.25"}'
end

function request()
  if mode == "post" then
    return wrk.format("POST", "/v1/completions", headers, posting())
  elseif mode == "insert" then
    return wrk.format("POST", "/bare", headers, posting())
  elseif mode == "roster" then
    local items = {}
    for i = 1, lines do items[i] = posting() end
    return wrk.format("POST", "/v1/completions/batch", headers,
      '{"items":[' .. table.concat(items, ",") .. ']}')
  elseif mode == "status" then
    -- A manager drawn at random (reads need not be distinct): in a cycle over more
    -- managers than the API process keeps records of, every read would miss them all.
    return wrk.format("GET", "/v1/managers/" .. ids[math.random(#ids)] .. "/status", headers)
  else -- select
    local g = next_g()
    return wrk.format("GET", "/bare/" .. (1 + g % lines), headers)
  end
end

function done(summary, latency, requests)
  local used = 0
  for _, thread in ipairs(all_threads) do
    local c = thread:get("counter") or 0
    if c > used then used = c end
  end
  local threads_n = #all_threads
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"connect":%d,"read":%d,"write":%d,"timeout":%d,'
      .. '"non2xx":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"used":%d,"threads":%d}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, used, threads_n))
end
