// Lua scripts of the Redis store: every job/result/idempotency change is one atomic script (see redis-store.ts for keys).
import { FAILED } from './entry-codes.js';

/*
 * Per-job keys: KEYS[1] job hash, KEYS[2] results hash (index → packed result), KEYS[3] set of indexes stored as
 * PENDING with history (put back after a retry), KEYS[4] active hash (field `principal` → unfinished jobs, field
 * `\0r:principal` → their recipients), KEYS[5] payload string (deleted when the job finishes),
 * KEYS[6] flight hash (index in flight → the token of the claim that took it). `<active>:<principal>` (a set of the
 * principal's unfinished job ids) is derived from KEYS[4], under the same hash tag.
 * A packed result is "code\31attempts\31messageId\31errorCode\31errorMessage" (codes from entry-codes.ts). An index
 * missing from the results hash has never been touched: its status is the job's `dflt` code (0 = PENDING until a
 * sweep turns every untouched entry final at once, O(1) instead of O(entries)) with packed error `dfltErr`.
 * Job hash fields besides the record: `started` (an entry was claimed once), `sendAtMs`, `lateErr` (the packed error
 * an entry gets when it comes back to a canceled or failed job), `inFlight`, `dflt`, `dfltErr`.
 */
const PRELUDE = `
local job, res, waitset, active, payload, flight = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local SEP = '\\31'
local FAILED = ${FAILED}
local function codeOf(v, dflt)
  if not v then return dflt end
  return tonumber(string.match(v, '^(%d+)'))
end
local function attemptsOf(v)
  return string.match(v or '', '^%d+' .. SEP .. '(%d+)') or '0'
end
local function isFinal(status)
  return status == 'completed' or status == 'failed' or status == 'canceled'
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
  -- delivery feedback: the set of the principal's unfinished job ids (the reputation guard pauses them)
  redis.call('SREM', active .. ':' .. principal, redis.call('HGET', job, 'id'))
  local field = RECIPIENTS .. principal
  local recipients = tonumber(redis.call('HGET', job, 'recipients')) or 0
  if redis.call('HINCRBY', active, field, -recipients) <= 0 then redis.call('HDEL', active, field) end
end
-- A finished job keeps its record and results for retentionMs; its payload (template, attachments) goes at once.
local function expireJob(ms)
  for _, key in ipairs({job, res, waitset, flight}) do redis.call('PEXPIRE', key, ms) end
  redis.call('DEL', payload)
end
-- What an entry coming back to wait becomes: PENDING, or CANCELED / FAILED (with lateErr) once the job is over.
local function waitingCode(status)
  if status == 'canceled' then return 3 elseif status == 'failed' then return FAILED end
  return 0
end
-- Entries in flight under token go back to waiting; returns how many.
local function release(token, status)
  local back = waitingCode(status)
  local err = back == 0 and '' or (redis.call('HGET', job, 'lateErr') or '')
  local n = 0
  local owners = redis.call('HGETALL', flight)
  for i = 1, #owners, 2 do
    if owners[i + 1] == token then
      local field = owners[i]
      local v = redis.call('HGET', res, field)
      if back == 0 then
        redis.call('HSET', res, field, '0' .. string.sub(v, 2))
        redis.call('SADD', waitset, field)
      else
        redis.call('HSET', res, field, back .. SEP .. attemptsOf(v) .. SEP .. SEP .. err)
      end
      redis.call('HDEL', flight, field)
      count(1, -1)
      count(back, 1)
      n = n + 1
    end
  end
  return n
end
-- Gives every waiting entry (PENDING, not in flight) code and packed error err.
local function sweepWaiting(code, err)
  local f = redis.call('HMGET', job, 'pending', 'inFlight', 'dflt')
  local waiting = tonumber(f[1]) - tonumber(f[2])
  if code <= 1 or waiting <= 0 then return end
  if tonumber(f[3]) == 0 then redis.call('HSET', job, 'dflt', code, 'dfltErr', err) end
  for _, field in ipairs(redis.call('SMEMBERS', waitset)) do
    redis.call('HSET', res, field, code .. SEP .. attemptsOf(redis.call('HGET', res, field)) .. SEP .. SEP .. err)
  end
  redis.call('DEL', waitset)
  count(0, -waiting)
  count(code, waiting)
  flushCounts()
end
-- Leaves scheduled/queued once work started; finishes the job when nothing is pending. Returns 1 when this call finished it.
local function settle(now, started, retentionMs)
  redis.call('HSET', job, 'updatedAt', now)
  local f = redis.call('HMGET', job, 'status', 'pending', 'completedAt', 'principalId')
  local status = f[1]
  if started then
    redis.call('HSET', job, 'started', 1)
    if status == 'queued' or status == 'scheduled' then
      status = 'sending'
      redis.call('HSET', job, 'status', status)
    end
  end
  if tonumber(f[2]) > 0 or f[3] then return 0 end
  if not isFinal(status) then
    leaveActive(f[4])
    redis.call('HSET', job, 'status', 'completed')
    redis.call('HDEL', job, 'pausedReason')
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
-- the job list (GET /): \`<tag>:jobs:<principal>\`, members the job's list key (all scores 0: ordered by key);
-- the two oldest members go when their job has expired, so that the list stays about as long as the jobs kept
local id = redis.call('HGET', job, 'id')
local list = string.sub(active, 1, #active - 6) .. 'jobs:' .. principal
redis.call('ZADD', list, 0, redis.call('HGET', job, 'lk'))
local jobPrefix = string.sub(job, 1, #job - #id)
for _, oldest in ipairs(redis.call('ZRANGE', list, 0, 1)) do
  if redis.call('EXISTS', jobPrefix .. string.sub(oldest, 17)) == 0 then redis.call('ZREM', list, oldest) end
end
if ARGV[3] == '1' then
  redis.call('HINCRBY', active, principal, 1)
  redis.call('SADD', active .. ':' .. principal, id)
  redis.call('HINCRBY', active, RECIPIENTS .. principal, recipients)
else
  expireJob(tonumber(ARGV[1]))
end
return 1
`;

/** ARGV: now, retentionMs, token, indexes…  → { claimed, stale, refused ('' = none) } */
export const CLAIM_ENTRIES = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'dflt', 'entries', 'completedAt')
if not f[1] then return {{}, {}, 'gone'} end
local status = f[1]
local refused = ''
if status == 'canceled' then refused = 'canceled'
elseif f[4] or isFinal(status) then refused = 'finished'
elseif status == 'paused' then refused = 'paused' end
local token = ARGV[3]
local dflt, entries = tonumber(f[2]), tonumber(f[3])
local claimed, stale, seen = {}, {}, {}
for i = 4, #ARGV do
  local idx = tonumber(ARGV[i])
  if idx and idx >= 0 and idx < entries and idx == math.floor(idx) and not seen[idx] then
    seen[idx] = true
    local field = tostring(idx)
    local v = redis.call('HGET', res, field)
    local code = codeOf(v, dflt)
    if code == 1 then
      if redis.call('HGET', flight, field) ~= token then
        stale[#stale + 1] = idx
      elseif refused == '' then
        claimed[#claimed + 1] = idx
      end
    elseif code == 0 and refused == '' then
      if v then
        redis.call('SREM', waitset, field)
        v = '1' .. string.sub(v, 2)
      else
        v = '1' .. SEP .. '0' .. SEP .. SEP .. SEP
      end
      redis.call('HSET', res, field, v)
      redis.call('HSET', flight, field, token)
      count(1, 1)
      count(0, -1)
      claimed[#claimed + 1] = idx
    end
  end
end
if refused ~= '' then
  -- A refused claim leaves nothing in flight under its token (an earlier, ambiguous try may have taken some).
  if release(token, status) > 0 then
    flushCounts()
    settle(ARGV[1], false, tonumber(ARGV[2]))
  end
elseif #claimed > 0 then
  flushCounts()
  settle(ARGV[1], true, tonumber(ARGV[2]))
end
return {claimed, stale, refused}
`;

/** ARGV: now, retentionMs, token → how many entries went back to waiting */
export const RELEASE_ENTRIES = `${PRELUDE}
local status = redis.call('HGET', job, 'status')
if not status then return 0 end
local n = release(ARGV[3], status)
if n > 0 then
  flushCounts()
  settle(ARGV[1], false, tonumber(ARGV[2]))
end
return n
`;

/** ARGV: now, retentionMs, then (index, code, attempts, messageId, packed error) groups ('' = none) → { finished, job } */
export const RECORD_RESULTS = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'dflt', 'entries', 'lateErr')
if not f[1] then return redis.error_reply('NOJOB no such job') end
local late = waitingCode(f[1])
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
      if code == 0 and late ~= 0 then code, err = late, (f[4] or '') end
      redis.call('HSET', res, field, code .. SEP .. ARGV[i + 2] .. SEP .. ARGV[i + 3] .. SEP .. err)
      if old == 0 and v then redis.call('SREM', waitset, field) end
      if old == 1 then redis.call('HDEL', flight, field) end
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

/** ARGV: now, retentionMs, code, packed error, cancel (1/0) → { finished, job } or nil */
export const FINISH_PENDING = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'completedAt', 'principalId')
if not f[1] then return nil end
if f[2] then return {0, redis.call('HGETALL', job)} end
sweepWaiting(tonumber(ARGV[3]), ARGV[4])
if ARGV[5] == '1' and not isFinal(f[1]) then
  leaveActive(f[3])
  redis.call('HSET', job, 'status', 'canceled', 'lateErr', ARGV[4])
  redis.call('HDEL', job, 'pausedReason')
end
local finished = settle(ARGV[1], false, tonumber(ARGV[2]))
return {finished, redis.call('HGETALL', job)}
`;

/** ARGV: now, retentionMs, error code, error message, packed error → { finished, job } or nil */
export const FAIL_JOB = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'completedAt', 'principalId')
if not f[1] then return nil end
if f[2] or isFinal(f[1]) then return {0, redis.call('HGETALL', job)} end
leaveActive(f[3])
redis.call('HSET', job, 'status', 'failed', 'errCode', ARGV[3], 'errMessage', ARGV[4], 'lateErr', ARGV[5])
redis.call('HDEL', job, 'pausedReason')
sweepWaiting(FAILED, ARGV[5])
local finished = settle(ARGV[1], false, tonumber(ARGV[2]))
return {finished, redis.call('HGETALL', job)}
`;

/** ARGV: now (ISO), now (ms), paused (1/0), reason → the job hash, or nil */
export const SET_PAUSED = `${PRELUDE}
local f = redis.call('HMGET', job, 'status', 'sendAtMs', 'started')
if not f[1] then return nil end
local status = f[1]
if ARGV[3] == '1' then
  if status == 'scheduled' or status == 'queued' or status == 'sending' then
    redis.call('HSET', job, 'status', 'paused', 'pausedReason', ARGV[4], 'updatedAt', ARGV[1])
  end
elseif status == 'paused' then
  local back = 'queued'
  if f[2] and tonumber(f[2]) > tonumber(ARGV[2]) then back = 'scheduled' elseif f[3] then back = 'sending' end
  redis.call('HSET', job, 'status', back, 'updatedAt', ARGV[1])
  redis.call('HDEL', job, 'pausedReason')
end
return redis.call('HGETALL', job)
`;

/**
 * KEYS[1] idempotency hash (f fingerprint, r answer, j job id); ARGV: fingerprint, ttlMs, job id ('' none)
 * → { state, response or job id? }
 */
export const CLAIM_IDEMPOTENCY = `
local f = redis.call('HMGET', KEYS[1], 'f', 'r', 'j')
if f[1] then
  if f[1] ~= ARGV[1] then return {'mismatch'} end
  if f[2] then return {'replay', f[2]} end
  return {'in_flight', f[3] or ''}
end
redis.call('HSET', KEYS[1], 'f', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'j', ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'new'}
`;

/** KEYS[1] idempotency hash; ARGV: fingerprint, ttlMs. Extends a claim still in flight (no answer) with that print. */
export const REFRESH_IDEMPOTENCY = `
local f = redis.call('HMGET', KEYS[1], 'f', 'r')
if f[1] == ARGV[1] and not f[2] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
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
