-- wrk script for bench/load.py: a realistic mix of portal API calls with token authentication.
-- BENCH_MIX=mix: 80% reads (list first page, filtered list, tag filter, model detail; as a Risk Officer),
-- 15% gate decisions and 5% artifact writes (as the CI service account). BENCH_MIX=list or gate: that call alone.
-- BENCH_TARGETS: "key,version,digest;..." the CI account may ask the gate about and report artifacts for.

local mix = os.getenv("BENCH_MIX") or "mix"
local token = os.getenv("BENCH_TOKEN")
local read_token = os.getenv("BENCH_READ_TOKEN") or token
local tag = os.getenv("BENCH_TAG") or "lgd"
local targets = {}
for entry in string.gmatch(os.getenv("BENCH_TARGETS") or "", "[^;]+") do
  local key, version, digest = string.match(entry, "([^,]+),([^,]+),([^,]+)")
  targets[#targets + 1] = {key = key, version = version, digest = digest}
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 100 + (seed or 0))
end

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local function get(path)
  return wrk.format("GET", path, {["Authorization"] = "Token " .. read_token})
end

local function post(path, body)
  return wrk.format("POST", path, {
    ["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"}, body)
end

local function target()
  return targets[math.random(1, #targets)]
end

local function gate()
  local t = target()
  return post("/api/v1/gate/check/", string.format(
    '{"model":"%s","version":"%s","environment":"production","digest":"%s"}', t.key, t.version, t.digest))
end

local function artifact()
  local t = target()
  return post("/api/v1/artifacts/", string.format(
    '{"model":"%s","version":"%s","kind":"git_commit","repository":"https://git.example.com/models/%s","sha":"%s"}',
    t.key, t.version, string.lower(t.key), hex(40)))
end

function request()
  if mix == "list" then return get("/api/v1/models/?tier=1&stage=production") end
  if mix == "gate" then return gate() end
  local roll = math.random(1, 100)
  if roll <= 25 then return get("/api/v1/models/") end
  if roll <= 45 then return get("/api/v1/models/?tier=1&stage=production") end
  if roll <= 55 then return get("/api/v1/models/?tag=" .. tag) end
  if roll <= 80 then return get("/api/v1/models/" .. target().key .. "/") end
  if roll <= 95 then return gate() end
  return artifact()
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"rps":%.2f,"p50":%d,"p95":%d,"p99":%d,"max":%d,"errors":%d,' ..
    '"error_detail":"connect %d, read %d, write %d, status %d, timeout %d"}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors, e.connect, e.read, e.write, e.status, e.timeout))
end
