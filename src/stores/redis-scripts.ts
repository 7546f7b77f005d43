// Lua scripts of the Redis store: every job/result/idempotency change is one atomic script (see redis-store.ts for keys).

/*
 * Per-job keys: KEYS[1] job hash, KEYS[2] results hash (index → packed result), KEYS[3] set of indexes stored as
 * PENDING with history (put back after a retry), KEYS[4] active hash (field `principal` → unfinished jobs, field
 * `\0r:principal` → their recipients), KEYS[5] payload string (deleted when the job finishes).
 * A packed result is "code\31attempts\31messageId\31error" (codes from entry-codes.ts). An index missing from the
 * results hash has never been touched: its status is the job's `dflt` code (0 = PENDING until a finishPending turns
 * every untouched entry final at once, O(1) instead of O(entries)) with error `dfltErr`.
 */
const PRELUDE = `
local job, res, waitset, active, payload = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local SEP = '\\31'
local function codeOf(v, dflt)
  if not v then return dflt end
  return tonumber(string.match(v, '^(%d+)'))
end
local function bucket(code)
  if code <= 1 then return 'pending' elseif code == 2 then return 'sent' elseif code == 3 then return 'canceled' end
  return 'failed'
end
local deltas = {}
local function count(code, delta)
  local b = bucket(code)
  deltas[b] = (deltas[b] or 0) + delta
  if code == 4 then deltas.suppressed = (deltas.suppressed or 0) + delta
  elseif code == 5 then deltas.unknown = (deltas.unknown or 0) + delta
  elseif code == 1 then deltas.inFlight = (deltas.inFlight or 0) + delta end
end
local function flushCounts()
  for field, delta in pairs(deltas) do
    if delta ~= 0 then redis.call('HINCRBY', job, field, delta) end
  end
  deltas = {}
end
local RECIPIENTS = '\0r:'
local function leaveActive(principal)
  if redis.call('HINCRBY', active, principal, -1) <= 0 then redis.call('HDEL', active, principal) end
  local field = RECIPIENTS .. principal
  local recipients = tonumber(redis.call('HGET', job, 'recipients')) or 0
  if redis.call('HINCRBY', active, field, -recipients) <= 0 then redis.call('HDEL', active, field) end
end
-- A finished job keeps its record and results for retentionMs; its payload (template, attachments) goes at once.
local function expireJob(ms)
  for _, key in ipairs({job, res, waitset}) do redis.call('PEXPIRE', key, ms) end
  redis.call('DEL', payload)
end
-- Leaves 'queued' once work started; finishes the job when nothing is pending. Returns 1 when this call finished it.
local function settle(now, started, retentionMs)
  redis.call('HSET', job, 'updatedAt', now)
  local f = redis.call('HMGET', job, 'status', 'pending', 'completedAt', 'principalId')
  local status = f[1]
  if started and status == 'queued' then
    status = 'sending'
    redis.call('HSET', job, 'status', status)
  end
  if tonumber(f[2]) > 0 or f[3] then return 0 end
  if status ~= 'canceled' then
    leaveActive(f[4])
    redis.call('HSET', job, 'status', 'completed')
  end
  redis.call('HSET', job, 'completedAt', now)
  expireJob(retentionMs)
  return 1
end
`;

/**
 * ARGV: retentionMs, payload, active (1/0), maxActiveJobs, maxQueuedRecipients (-1 = no limit), principal,
 * recipients, pairCount, field/value pairs…, then (index, code, packed) triples.
 * → 1 created, 0 already exists, or {'limit', jobs, recipients} (the principal's usage) when an unfinished job would
 * go over a limit: checked and counted in one step, so concurrent requests cannot both take the last place.
 */
export const CREATE_JOB = `${PRELUDE}
if redis.call('EXISTS', job) == 1 then return 0 end
local principal, recipients = ARGV[6], tonumber(ARGV[7])
if ARGV[3] == '1' then
  local jobs = tonumber(redis.call('HGET', active, principal)) or 0
  local queued = tonumber(redis.call('HGET', active, RECIPIENTS .. principal)) or 0
  local maxJobs, maxRecipients = tonumber(ARGV[4]), tonumber(ARGV[5])
  if (maxJobs >= 0 and jobs + 1 > maxJobs) or (maxRecipients >= 0 and queued + recipients > maxRecipients) then
    return {'limit', jobs, queued}
  end
end
local pairs_n = tonumber(ARGV[8])
local fields = {}
for i = 9, 8 + pairs_n * 2 do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', job, unpack(fields))
redis.call('SET', payload, ARGV[2])
for i = 9 + pairs_n * 2, #ARGV, 3 do
  redis.call('HSET', res, ARGV[i], ARGV[i + 2])
  if ARGV[i + 1] == '0' then redis.call('SADD', waitset, ARGV[i]) end
end
if ARGV[3] == '1' then
  redis.call('HINCRBY', active, principal, 1)
  redis.call('HINCRBY', active, RECIPIENTS .. principal, recipients)
else
  expireJob(tonumber(ARGV[1]))
end
return 1
`;

/** ARGV: now, indexes…  → { claimed, stale } */
export const CLAIM_ENTRIES = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'dflt', 'entries')
if not f[1] then return {{}, {}} end
local canceled = f[1] == 'canceled'
local dflt, entries = tonumber(f[2]), tonumber(f[3])
local claimed, stale, seen = {}, {}, {}
for i = 2, #ARGV do
  local idx = tonumber(ARGV[i])
  if idx and idx >= 0 and idx < entries and idx == math.floor(idx) and not seen[idx] then
    seen[idx] = true
    local field = tostring(idx)
    local v = redis.call('HGET', res, field)
    local code = codeOf(v, dflt)
    if code == 1 then
      stale[#stale + 1] = idx
    elseif code == 0 and not canceled then
      if v then
        redis.call('SREM', waitset, field)
        v = '1' .. string.sub(v, 2)
      else
        v = '1' .. SEP .. '0' .. SEP .. SEP
      end
      redis.call('HSET', res, field, v)
      count(1, 1)
      count(0, -1)
      claimed[#claimed + 1] = idx
    end
  end
end
if #claimed > 0 then
  flushCounts()
  settle(ARGV[1], true, 0)
end
return {claimed, stale}
`;

/** ARGV: now, retentionMs, then (index, code, attempts, messageId, error) groups ('' = none) → { finished, job } */
export const RECORD_RESULTS = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'dflt', 'entries')
if not f[1] then return redis.error_reply('NOJOB no such job') end
local canceled = f[1] == 'canceled'
local dflt, entries = tonumber(f[2]), tonumber(f[3])
local changed = false
for i = 3, #ARGV, 5 do
  local idx = tonumber(ARGV[i])
  if idx and idx >= 0 and idx < entries and idx == math.floor(idx) then
    local field = tostring(idx)
    local v = redis.call('HGET', res, field)
    local old = codeOf(v, dflt)
    if old <= 1 then
      local code, err = tonumber(ARGV[i + 1]), ARGV[i + 4]
      if code == 0 and canceled then code, err = 3, '' end
      redis.call('HSET', res, field, code .. SEP .. ARGV[i + 2] .. SEP .. ARGV[i + 3] .. SEP .. err)
      if old == 0 and v then redis.call('SREM', waitset, field) end
      if code == 0 then redis.call('SADD', waitset, field) end
      count(old, -1)
      count(code, 1)
      changed = true
    end
  end
end
local finished = 0
if changed then
  flushCounts()
  finished = settle(ARGV[1], true, tonumber(ARGV[2]))
end
return {finished, redis.call('HGETALL', job)}
`;

/** ARGV: now, retentionMs, code, error, cancel (1/0) → { finished, job } or nil */
export const FINISH_PENDING = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'pending', 'inFlight', 'completedAt', 'dflt', 'principalId')
if not f[1] then return nil end
if f[4] then return {0, redis.call('HGETALL', job)} end
local code, err = tonumber(ARGV[3]), ARGV[4]
local waiting = tonumber(f[2]) - tonumber(f[3])
if code > 1 and waiting > 0 then
  if tonumber(f[5]) == 0 then redis.call('HSET', job, 'dflt', code, 'dfltErr', err) end
  for _, field in ipairs(redis.call('SMEMBERS', waitset)) do
    local attempts = string.match(redis.call('HGET', res, field) or '', '^%d+' .. SEP .. '(%d+)') or '0'
    redis.call('HSET', res, field, code .. SEP .. attempts .. SEP .. SEP .. err)
  end
  redis.call('DEL', waitset)
  count(0, -waiting)
  count(code, waiting)
  flushCounts()
end
if ARGV[5] == '1' and f[1] ~= 'canceled' then
  if f[1] == 'queued' or f[1] == 'sending' then leaveActive(f[6]) end
  redis.call('HSET', job, 'status', 'canceled')
end
local finished = settle(ARGV[1], false, tonumber(ARGV[2]))
return {finished, redis.call('HGETALL', job)}
`;

/** KEYS[1] idempotency hash; ARGV: fingerprint, ttlMs → { state, response? } */
export const CLAIM_IDEMPOTENCY = `
local f = redis.call('HMGET', KEYS[1], 'f', 'r')
if f[1] then
  if f[1] ~= ARGV[1] then return {'mismatch'} end
  if f[2] then return {'replay', f[2]} end
  return {'in_flight'}
end
redis.call('HSET', KEYS[1], 'f', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'new'}
`;

/** KEYS[1] job hash, KEYS[2] results hash; ARGV: first index, limit → { entries, dflt, dfltErr, packed… } or nil */
export const GET_RESULTS = `
local f = redis.call('HMGET', KEYS[1], 'entries', 'dflt', 'dfltErr')
if not f[1] then return nil end
local first, last = tonumber(ARGV[1]), math.min(tonumber(f[1]), tonumber(ARGV[1]) + tonumber(ARGV[2])) - 1
local out = {f[1], f[2], f[3] or ''}
local batch = {}
for idx = first, last do
  batch[#batch + 1] = tostring(idx)
  if #batch == 500 or idx == last then
    for _, v in ipairs(redis.call('HMGET', KEYS[2], unpack(batch))) do out[#out + 1] = v or '' end
    batch = {}
  end
end
return out
`;
