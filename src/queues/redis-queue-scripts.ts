// Lua of the Redis queue: every decision (take, settle, add, pause, resume, remove, pacing, quota, stats) is one script.

/*
 * Keys (T = the hash tag `{<prefix>}`, so every key of one queue lives in one Redis Cluster slot):
 *
 *   T:state          hash   tat, pr, pa (pacing: next free slot, penalty rate, penalty time, ms of Redis TIME);
 *                           V (fair virtual time); quota (recipients left; absent = no limit); reclaimAt (last lease
 *                           scan); seq (job creation counter); n (delayed item counter)
 *   T:pick           zset   principal → vtime, for principals with ready work (the fair pick: lowest score)
 *   T:idle           zset   principal → vtime, principals without ready work whose vtime is still ahead of V
 *   T:weights        hash   principal → weight (the latest given), while it has jobs in the queue
 *   T:njobs          hash   principal → jobs it has in the queue
 *   T:jobs:<p>       zset   jobId → creation seq: p's jobs with ready work (served in creation order)
 *   T:job:<jobId>    hash   p (principal), seq, st (ready | paused | sched), nb (notBefore), rt (ready since),
 *                           rec (recipients in T:work), lz (calls of it handed out), added (tasks added)
 *   T:work:<jobId>   list   its ready items, front first
 *   T:held:<jobId>   zset   "<n>\29<item>" → due time: items handed back for later (retries, holds)
 *   T:due            zset   jobId → earliest due time in its T:held
 *   T:sched          zset   jobId → notBefore, for scheduled jobs (added or resumed with a later notBefore)
 *   T:leases         hash   lease → "<worker>\29<jobId>\29<item>": calls handed out and not settled
 *   T:hb:<worker>    string a live worker's heartbeat (PX = leaseMs, renewed every leaseMs / 7)
 *   T:takers         zset   worker → when it last took a call (0 = never; live workers only): when the pacing says
 *                           "not yet", the worker that took least recently is told to come back first, 40 ms ahead
 *                           of the next (at most 160 ms, within the 200 ms lookahead, so no slot is lost): every
 *                           running worker takes part instead of the fastest one taking every call
 *   T:wake           pub/sub channel: published when work becomes ready now (add, resume, hand-back, quota)
 *
 * An item is a task: "<chunk>\31<failures>\31<recipients>" then, per entry, "\30<recipients>\31<IndexedEntry JSON>"
 * (JSON never holds a raw control character, so the separators cannot occur inside it).
 *
 * A job's keys go when it is removed, or when it has nothing left (no ready or held item, no call out): nothing of a
 * job outlives it. T:state, T:pick, T:idle, T:weights and T:njobs hold one field per principal with work at most.
 *
 * Invariants: a job is in T:jobs:<p> iff st = ready and T:work is not empty; p is in T:pick iff T:jobs:<p> is not
 * empty. Every time is Redis TIME in ms, so the workers' clocks do not matter; callers pass delays, not dates.
 *
 * The pacing and the fair pick are the rules of src/sending/pacing.ts and src/sending/fair-share.ts, step for step
 * (their headers state the algorithms and the bound); ties between principals of equal vtime go to the lower id.
 */

const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local S = KEYS[1]
local base = string.sub(S, 1, -6)
local PICK, IDLE, WEIGHTS, NJOBS = base .. 'pick', base .. 'idle', base .. 'weights', base .. 'njobs'
local DUE, SCHED, LEASES, WAKE = base .. 'due', base .. 'sched', base .. 'leases', base .. 'wake'
local TAKERS = base .. 'takers'
local function jobKey(id) return base .. 'job:' .. id end
local function workKey(id) return base .. 'work:' .. id end
local function heldKey(id) return base .. 'held:' .. id end
local function jobsKey(p) return base .. 'jobs:' .. p end
local function hbKey(w) return base .. 'hb:' .. w end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local function f(x) return string.format('%.3f', x) end
local function num(v, d) return tonumber(v) or d end

local function itemRecipients(item)
  return tonumber(string.match(item, '^[^\\31]*\\31[^\\31]*\\31(%d+)'))
end

-- The entries of item that fit in limit recipients: head item, tail item (or nil), head recipients; nil if none fit.
local function splitItem(item, limit)
  local chunk, fails, total = string.match(item, '^([^\\31]*)\\31([^\\31]*)\\31(%d+)')
  local pos = #chunk + #fails + #total + 3
  local sum, cut, i = 0, nil, pos
  while i <= #item do
    local rec = tonumber(string.match(item, '^(%d+)', i + 1))
    if sum + rec > limit then cut = i break end
    sum = sum + rec
    i = string.find(item, '\\30', i + 1, true) or (#item + 1)
  end
  if sum == 0 then return nil end
  if not cut then return item, nil, sum end
  local head = chunk .. '\\31' .. fails .. '\\31' .. sum .. string.sub(item, pos, cut - 1)
  local tail = chunk .. '\\31' .. fails .. '\\31' .. (tonumber(total) - sum) .. string.sub(item, cut)
  return head, tail, sum
end

local function virtualTime() return num(redis.call('HGET', S, 'V'), 0) end

-- Fair share (src/sending/fair-share.ts): a principal that becomes ready starts at max(its vtime, V).
local function activate(p)
  if redis.call('ZSCORE', PICK, p) then return end
  local vt = math.max(num(redis.call('ZSCORE', IDLE, p), 0), virtualTime())
  redis.call('ZREM', IDLE, p)
  redis.call('ZADD', PICK, vt, p)
end
-- One that is no longer ready is remembered only while its vtime is ahead of V.
local function deactivate(p)
  local vt = redis.call('ZSCORE', PICK, p)
  if not vt then return end
  redis.call('ZREM', PICK, p)
  if tonumber(vt) > virtualTime() then redis.call('ZADD', IDLE, vt, p) end
end

local function enterPlay(id, p)
  if redis.call('HGET', jobKey(id), 'st') ~= 'ready' or redis.call('LLEN', workKey(id)) == 0 then return end
  if redis.call('ZADD', jobsKey(p), 'NX', redis.call('HGET', jobKey(id), 'seq'), id) == 1 then activate(p) end
end
local function leavePlay(id, p)
  if redis.call('ZREM', jobsKey(p), id) == 1 and redis.call('ZCARD', jobsKey(p)) == 0 then deactivate(p) end
end

local function dropJob(id)
  local p = redis.call('HGET', jobKey(id), 'p')
  if not p then return end
  leavePlay(id, p)
  redis.call('DEL', jobKey(id), workKey(id), heldKey(id))
  redis.call('ZREM', DUE, id)
  redis.call('ZREM', SCHED, id)
  if redis.call('HINCRBY', NJOBS, p, -1) <= 0 then
    redis.call('HDEL', NJOBS, p)
    redis.call('HDEL', WEIGHTS, p)
  end
end
local function dropIfEmpty(id)
  local job = jobKey(id)
  if redis.call('EXISTS', job) == 0 then return end
  if redis.call('LLEN', workKey(id)) > 0 or redis.call('ZCARD', heldKey(id)) > 0 then return end
  local h = redis.call('HMGET', job, 'lz', 'added', 'total')
  if num(h[1], 0) > 0 or num(h[2], 0) < num(h[3], 0) then return end
  dropJob(id)
end

-- Work ready now goes to the front of its job's work.
local function pushFront(id, item)
  local job = jobKey(id)
  redis.call('LPUSH', workKey(id), item)
  redis.call('HINCRBY', job, 'rec', itemRecipients(item))
  enterPlay(id, redis.call('HGET', job, 'p'))
end
local function hold(id, item, due)
  local n = redis.call('HINCRBY', S, 'n', 1)
  redis.call('ZADD', heldKey(id), due, n .. '\\29' .. item)
  local cur = redis.call('ZSCORE', DUE, id)
  if not cur or due < tonumber(cur) then redis.call('ZADD', DUE, due, id) end
end

-- Due held items back to the front of their job's work (earliest first), due scheduled jobs ready.
local function promote()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', SCHED, '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', SCHED, id)
    local job = jobKey(id)
    if redis.call('HGET', job, 'st') == 'sched' then
      redis.call('HSET', job, 'st', 'ready', 'rt', f(num(redis.call('HGET', job, 'nb'), now)))
      enterPlay(id, redis.call('HGET', job, 'p'))
    end
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, 100)) do
    local held = heldKey(id)
    local items = redis.call('ZRANGEBYSCORE', held, '-inf', now, 'WITHSCORES')
    redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
    local job = jobKey(id)
    if #items > 0 then
      redis.call('HSET', job, 'rt', f(math.max(num(redis.call('HGET', job, 'rt'), 0), tonumber(items[2]))))
    end
    for i = #items - 1, 1, -2 do
      pushFront(id, string.sub(items[i], string.find(items[i], '\\29', 1, true) + 1))
    end
    local nextDue = redis.call('ZRANGE', held, 0, 0, 'WITHSCORES')
    if #nextDue > 0 then redis.call('ZADD', DUE, nextDue[2], id) else redis.call('ZREM', DUE, id) end
  end
end

-- A lease whose worker's heartbeat is gone: its item goes back to the front of its job (the job may be gone).
local function putBack(lease, payload)
  redis.call('HDEL', LEASES, lease)
  local a = string.find(payload, '\\29', 1, true)
  local b = string.find(payload, '\\29', a + 1, true)
  local id = string.sub(payload, a + 1, b - 1)
  if redis.call('EXISTS', jobKey(id)) == 0 then return end
  redis.call('HINCRBY', jobKey(id), 'lz', -1)
  pushFront(id, string.sub(payload, b + 1))
end
local function reclaim()
  if now - num(redis.call('HGET', S, 'reclaimAt'), 0) < 1000 then return 0 end
  redis.call('HSET', S, 'reclaimAt', f(now))
  local all = redis.call('HGETALL', LEASES)
  local alive, n = {}, 0
  for i = 1, #all, 2 do
    local worker = string.sub(all[i + 1], 1, string.find(all[i + 1], '\\29', 1, true) - 1)
    if alive[worker] == nil then alive[worker] = redis.call('EXISTS', hbKey(worker)) == 1 end
    if not alive[worker] then
      putBack(all[i], all[i + 1])
      n = n + 1
    end
  end
  for _, worker in ipairs(redis.call('ZRANGE', TAKERS, 0, -1)) do
    if redis.call('EXISTS', hbKey(worker)) == 0 then redis.call('ZREM', TAKERS, worker) end
  end
  return n
end

-- Pacing (src/sending/pacing.ts).
local function effectiveRate(rate, recovery, pr, pa)
  if not (pr > 0) then return rate end
  return math.min(rate, pr + recovery * rate * math.max(0, now - pa) / 1000)
end
`;

/**
 * KEYS: state. ARGV: worker, lease (new for each take: a repeat of a take already applied returns its call again),
 * rate ('' = unpaced), lookaheadMs, recoveryPerSecond.
 * → {'call', lease, principal, jobId, startAt, recipients, item, now, reclaimed}
 *   | {'pace' | 'idle' | 'quota', retryAt ('' = only when woken), now, reclaimed}
 */
export const TAKE = `${PRELUDE}
local worker, lease, rate, lookahead = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
-- The same take again (ioredis resends a command whose reply a reconnect lost): the same call, not another one.
local held = redis.call('HGET', LEASES, lease)
if held then
  local a = string.find(held, '\\29', 1, true)
  local b = string.find(held, '\\29', a + 1, true)
  local id, item = string.sub(held, a + 1, b - 1), string.sub(held, b + 1)
  local p = redis.call('HGET', jobKey(id), 'p') or ''
  return {'call', lease, p, id, f(now), itemRecipients(item), item, f(now), 0}
end
promote()
local reclaimed = reclaim()
redis.call('ZREMRANGEBYSCORE', IDLE, '-inf', virtualTime())
local function nextDue()
  local a, b = redis.call('ZRANGE', SCHED, 0, 0, 'WITHSCORES'), redis.call('ZRANGE', DUE, 0, 0, 'WITHSCORES')
  local at = math.min(num(a[2], math.huge), num(b[2], math.huge))
  if at == math.huge then return '' end
  return f(at)
end

local top = redis.call('ZRANGE', PICK, 0, 0, 'WITHSCORES')
if #top == 0 then return {'idle', nextDue(), f(now), reclaimed} end
local p, vt = top[1], tonumber(top[2])
local id = redis.call('ZRANGE', jobsKey(p), 0, 0)[1]
if not id then
  redis.call('ZREM', PICK, p)
  return {'idle', f(now), f(now), reclaimed}
end
local job, work = jobKey(id), workKey(id)
local item = redis.call('LINDEX', work, 0)
if not item then
  leavePlay(id, p)
  return {'idle', f(now), f(now), reclaimed}
end
local k = itemRecipients(item)
local tail = nil
local quota = tonumber(redis.call('HGET', S, 'quota'))
if quota and k > quota then
  item, tail, k = splitItem(item, quota)
  if not item then return {'quota', '', f(now), reclaimed} end
end

local st = redis.call('HMGET', S, 'tat', 'pr', 'pa')
local startAt = now
if rate then
  startAt = math.max(now, num(st[1], 0))
  if startAt - now > lookahead then
    -- Every worker takes part: the one that took least recently (or never) comes back first, the others 40 ms apart.
    redis.call('ZADD', TAKERS, 'NX', 0, worker)
    local rank = redis.call('ZCOUNT', TAKERS, '-inf', '(' .. redis.call('ZSCORE', TAKERS, worker))
    return {'pace', f(startAt - lookahead + math.min(rank, 4) * 40), f(now), reclaimed}
  end
  local spacing = k * 1000 / effectiveRate(rate, tonumber(ARGV[5]), num(st[2], 0), num(st[3], 0))
  redis.call('HSET', S, 'tat', f(startAt + spacing))
end

if tail then redis.call('LSET', work, 0, tail) else redis.call('LPOP', work) end
redis.call('HINCRBY', job, 'rec', -k)
if quota then redis.call('HSET', S, 'quota', math.max(0, quota - k)) end
local V = math.max(virtualTime(), vt)
redis.call('HSET', S, 'V', V)
redis.call('ZADD', PICK, vt + k / num(redis.call('HGET', WEIGHTS, p), 1), p)
if redis.call('LLEN', work) == 0 then leavePlay(id, p) end
redis.call('HSET', LEASES, lease, worker .. '\\29' .. id .. '\\29' .. item)
redis.call('HINCRBY', job, 'lz', 1)
redis.call('ZADD', TAKERS, now, worker)
return {'call', lease, p, id, f(startAt), k, item, f(now), reclaimed}
`;

/**
 * KEYS: state. ARGV: lease, mode (done | again | release), delayMs, item (again).
 * done: the lease ends; again: `item` goes back (front now, or held for delayMs); release: the leased item itself goes
 * back now (a take whose reply was lost). A lease already gone (reclaimed or settled) changes nothing: retrying a
 * settle whose reply was lost is safe, and a reclaimed call's item is already back whole. → 1 if the lease was held.
 */
export const SETTLE = `${PRELUDE}
local lease, mode, delay, item = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local payload = redis.call('HGET', LEASES, lease)
if not payload then return 0 end
redis.call('HDEL', LEASES, lease)
local a = string.find(payload, '\\29', 1, true)
local b = string.find(payload, '\\29', a + 1, true)
local id = string.sub(payload, a + 1, b - 1)
if redis.call('EXISTS', jobKey(id)) == 0 then return 1 end
redis.call('HINCRBY', jobKey(id), 'lz', -1)
if mode == 'release' then item, delay = string.sub(payload, b + 1), 0 end
if mode ~= 'done' and itemRecipients(item) ~= nil and string.find(item, '\\30', 1, true) then
  if delay > 0 then
    hold(id, item, now + delay)
  else
    pushFront(id, item)
    redis.call('PUBLISH', WAKE, '1')
  end
end
dropIfEmpty(id)
return 1
`;

/**
 * KEYS: state. ARGV: jobId, principal, weight ('' = keep), delayMs (notBefore − now; ≤ 0 = ready), from, total,
 * items… Adds items from task number `from` on, out of `total`; a repeat of a batch already added (a reply lost)
 * changes nothing. → tasks added so far.
 */
export const ADD = `${PRELUDE}
local id, p, weight, delay, from = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local FIRST = 7
local job = jobKey(id)
local added = num(redis.call('HGET', job, 'added'), 0)
if from ~= added then return added end
if added == 0 then
  if redis.call('EXISTS', job) == 1 then return -1 end
  local seq = redis.call('HINCRBY', S, 'seq', 1)
  redis.call('HSET', job, 'p', p, 'seq', seq, 'rec', 0, 'lz', 0, 'added', 0, 'total', ARGV[6])
  if delay > 0 then
    redis.call('HSET', job, 'st', 'sched', 'nb', f(now + delay), 'rt', f(now + delay))
    redis.call('ZADD', SCHED, now + delay, id)
  else
    redis.call('HSET', job, 'st', 'ready', 'nb', 0, 'rt', f(now))
  end
  redis.call('HINCRBY', NJOBS, p, 1)
end
if weight ~= '' then redis.call('HSET', WEIGHTS, p, weight) end
local rec = 0
for i = FIRST, #ARGV do rec = rec + itemRecipients(ARGV[i]) end
for i = FIRST, #ARGV, 500 do
  redis.call('RPUSH', workKey(id), unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('HINCRBY', job, 'rec', rec)
added = redis.call('HINCRBY', job, 'added', #ARGV - FIRST + 1)
if redis.call('HGET', job, 'st') == 'ready' then
  enterPlay(id, p)
  redis.call('PUBLISH', WAKE, '1')
end
dropIfEmpty(id)
return added
`;

/** KEYS: state. ARGV: jobId. Nothing more of it is handed out until resumed. */
export const PAUSE = `${PRELUDE}
local id = ARGV[1]
local job = jobKey(id)
local p = redis.call('HGET', job, 'p')
if not p then return 0 end
leavePlay(id, p)
redis.call('ZREM', SCHED, id)
redis.call('HSET', job, 'st', 'paused')
return 1
`;

/** KEYS: state. ARGV: jobId, delayMs ('' = keep its notBefore). Ready now, or scheduled at now + delayMs. */
export const RESUME = `${PRELUDE}
local id, delay = ARGV[1], tonumber(ARGV[2])
local job = jobKey(id)
local p = redis.call('HGET', job, 'p')
if not p then return 0 end
local nb = num(redis.call('HGET', job, 'nb'), 0)
if delay then nb = now + delay end
redis.call('HSET', job, 'nb', f(nb), 'rt', f(math.max(now, nb)))
if nb > now then
  leavePlay(id, p)
  redis.call('HSET', job, 'st', 'sched')
  redis.call('ZADD', SCHED, nb, id)
else
  redis.call('ZREM', SCHED, id)
  redis.call('HSET', job, 'st', 'ready')
  enterPlay(id, p)
  redis.call('PUBLISH', WAKE, '1')
end
return 1
`;

/** KEYS: state. ARGV: jobId. Forgets its unsent work; its calls out settle as no-ops. */
export const REMOVE = `${PRELUDE}
dropJob(ARGV[1])
return 1
`;

/** KEYS: state. ARGV: rate, recoveryPerSecond, minFraction, penaltyWindowMs (src/sending/pacing.ts penalize). → {applied, now} */
export const PENALIZE = `${PRELUDE}
local rate, recovery, minFraction, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local st = redis.call('HMGET', S, 'pr', 'pa')
local pr, pa = num(st[1], 0), num(st[2], 0)
if pr > 0 and now - pa < window then return {0, f(now)} end
redis.call('HSET', S, 'pr', f(math.max(minFraction * rate, effectiveRate(rate, recovery, pr, pa) / 2)), 'pa', f(now))
return {1, f(now)}
`;

/** KEYS: state. ARGV: remaining recipients ('' = no limit). */
export const SET_QUOTA = `${PRELUDE}
if ARGV[1] == '' then redis.call('HDEL', S, 'quota') else redis.call('HSET', S, 'quota', ARGV[1]) end
redis.call('PUBLISH', WAKE, '1')
return 1
`;

/**
 * KEYS: state. → {now, then per principal with jobs: principal, waitingRecipients, readyJobs, oldestSince ('' =
 * none), weight}. Due work is made ready first, as a take would.
 */
export const STATS = `${PRELUDE}
promote()
local out = {f(now)}
for _, p in ipairs(redis.call('HKEYS', NJOBS)) do
  local waiting, jobs, oldest = 0, 0, nil
  for _, id in ipairs(redis.call('ZRANGE', jobsKey(p), 0, -1)) do
    local h = redis.call('HMGET', jobKey(id), 'rec', 'rt')
    waiting = waiting + num(h[1], 0)
    jobs = jobs + 1
    oldest = math.min(oldest or math.huge, num(h[2], now))
  end
  table.insert(out, p)
  table.insert(out, waiting)
  table.insert(out, jobs)
  table.insert(out, oldest and f(oldest) or '')
  table.insert(out, redis.call('HGET', WEIGHTS, p) or '1')
end
return out
`;
