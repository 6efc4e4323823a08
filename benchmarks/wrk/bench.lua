-- wrk script for `make bench` (benchmarks/run.py sets everything through the environment).
--
--   BENCH_MODE      intake | baseline | get
--   BENCH_OUT       where done() writes the JSON summary
--   BENCH_TOKENS    bearer tokens, comma-separated: requests take them in turn (intake, get)
--   BENCH_TEMPLATE  file holding the intake body with @@IDENTIFIER@@ where the MRN goes (intake)
--   BENCH_PATIENTS  how many pre-registered patients BENCH-000000… to rotate over (intake)
--   BENCH_NONCE     unique per phase, so every Idempotency-Key is fresh (intake)
--   BENCH_BODY      JSON body (baseline)
--
-- Each POST /api/v1/intakes/ carries a new Idempotency-Key and the next patient's identifier.

local mode = os.getenv("BENCH_MODE") or "get"
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  table.insert(tokens, t)
end
local nonce = os.getenv("BENCH_NONCE") or "0"
local patients = tonumber(os.getenv("BENCH_PATIENTS") or "1")

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local prefix, suffix
local counter = 0

function init(args)
  if mode == "intake" then
    local f = assert(io.open(os.getenv("BENCH_TEMPLATE"), "r"))
    local template = f:read("*a")
    f:close()
    local at = assert(string.find(template, "@@IDENTIFIER@@", 1, true))
    prefix = string.sub(template, 1, at - 1)
    suffix = string.sub(template, at + string.len("@@IDENTIFIER@@"))
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "baseline" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = os.getenv("BENCH_BODY")
  end
end

function request()
  counter = counter + 1
  if mode == "baseline" then
    return wrk.request()
  end
  local token = tokens[1 + (thread_id + counter) % #tokens]
  if mode == "get" then
    return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. token}, nil)
  end
  -- Patients are spread over threads so two threads rarely submit for the same one at once.
  local n = (thread_id * 7919 + counter) % patients
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", nonce, thread_id, counter),
  }
  local body = prefix .. string.format("BENCH-%06d", n) .. suffix
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e = summary.errors
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, "p999": %d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9)))
  out:close()
end
