// Lua scripts of the Redis store's delivery feedback: linking sent messages, merging events, suppression lists, guard.
//
// Keys (all under the store's hash tag `{prefix}:s`): `…:m:<messageId>` hash (j job id, i index, p principal,
// r recipients JSON, d delivery state) with the events retention as TTL; `…:sup:<list>` hash (address → packed
// entry), `…:supa:<list>` zset (score 0, addresses in lex order for pages), `…:supt:<list>` zset (address by when it
// was added, for dropping the oldest); `…:g:<windowMs>:<principal>` hash (`<bucket start>:<field>` → count);
// `…:pause:<principal>`; `…:seen:<id>`. Every key a script touches is passed in KEYS (the guard's too: the caller
// reads the job's principal first), all under one hash tag, so each script runs on a Redis Cluster.

/** Deletes the guard fields of buckets that started at or before `before` (epoch ms). */
const PRUNE_GUARD = `
local function pruneGuard(g, before)
  for _, field in ipairs(redis.call('HKEYS', g)) do
    local start = tonumber(string.match(field, '^(%d+):'))
    if start and start <= before then redis.call('HDEL', g, field) end
  end
end
`;

/**
 * KEYS[1] job hash, KEYS[2] results hash, KEYS[3] the principal's guard hash (any key of the tag when ARGV[2] is ''),
 * KEYS[4…] one message key per SUCCESS result. ARGV: retentionMs, '1' to count in the guard ('' = no guard counts),
 * bucket start, guard TTL ms, prune before (ms), then the entry index of each message key. Links each message not
 * linked yet (the job's principal and the entry's recipients, from field `r<index>` of the results hash) and counts
 * its recipients as sent in the guard's bucket. Every key it touches is declared (Redis Cluster).
 * → how many recipients were newly linked.
 */
export const LINK_MESSAGES = `${PRUNE_GUARD}
local job, res = KEYS[1], KEYS[2]
local principal = redis.call('HGET', job, 'principalId')
if not principal then return 0 end
local jobId = redis.call('HGET', job, 'id')
local sent = 0
for k = 4, #KEYS do
  local idx = ARGV[5 + k - 3]
  if redis.call('EXISTS', KEYS[k]) == 0 then
    local r = redis.call('HGET', res, 'r' .. idx) or '[]'
    redis.call('HSET', KEYS[k], 'j', jobId, 'i', idx, 'p', principal, 'r', r)
    redis.call('PEXPIRE', KEYS[k], ARGV[1])
    local ok, list = pcall(cjson.decode, r)
    local n = (ok and type(list) == 'table') and #list or 0
    if n < 1 then n = 1 end
    sent = sent + n
  end
end
if sent > 0 and ARGV[2] ~= '' then
  local g = KEYS[3]
  if redis.call('HINCRBY', g, ARGV[3] .. ':sent', sent) == sent then pruneGuard(g, tonumber(ARGV[5])) end
  redis.call('PEXPIRE', g, ARGV[4])
end
return sent
`;

/**
 * KEYS[1] message hash, KEYS[2] job hash. ARGV: the delivery state read ('' = none), the new state, then
 * (count field, delta) pairs for the job. Writes only if the state is still the one read (compare and set).
 * → 1 written, 0 changed meanwhile (read again), -1 no such message.
 */
export const SET_DELIVERY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'd') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[2])
if #ARGV > 2 and redis.call('EXISTS', KEYS[2]) == 1 then
  for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return 1
`;

/**
 * KEYS[1] results hash, KEYS[2…] message keys. ARGV: first index, count.
 * → { recipients of each index (field r<index>, '' when none)…, delivery state of each message key ('' none)… }
 */
export const GET_FEEDBACK = `
local out = {}
local first, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local batch = {}
for idx = first, first + count - 1 do
  batch[#batch + 1] = 'r' .. idx
  if #batch == 500 or idx == first + count - 1 then
    for _, v in ipairs(redis.call('HMGET', KEYS[1], unpack(batch))) do out[#out + 1] = v or '' end
    batch = {}
  end
end
for k = 2, #KEYS do out[#out + 1] = redis.call('HGET', KEYS[k], 'd') or '' end
return out
`;

/**
 * KEYS[1] list hash, KEYS[2] lex zset, KEYS[3] age zset. ARGV: max addresses, now (ms), then (address, packed entry)
 * pairs. Adds addresses not listed yet, dropping the oldest past the maximum. → how many were added.
 */
export const ADD_SUPPRESSIONS = `
local max, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local added = 0
for i = 3, #ARGV, 2 do
  local address = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], address) == 0 then
    while redis.call('HLEN', KEYS[1]) >= max do
      local oldest = redis.call('ZPOPMIN', KEYS[3])
      if #oldest == 0 then break end
      redis.call('HDEL', KEYS[1], oldest[1])
      redis.call('ZREM', KEYS[2], oldest[1])
    end
    redis.call('HSET', KEYS[1], address, ARGV[i + 1])
    redis.call('ZADD', KEYS[2], 0, address)
    redis.call('ZADD', KEYS[3], now, address)
    added = added + 1
  end
end
return added
`;

/** KEYS[1] list hash, KEYS[2] lex zset, KEYS[3] age zset; ARGV[1] address → 1 removed, 0 not listed. */
export const REMOVE_SUPPRESSION = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return n
`;

/**
 * KEYS[1] guard hash. ARGV: bucket start ('' = add nothing), TTL ms, prune before (ms), then (field, count) pairs.
 * → the hash's fields and values.
 */
export const ADD_GUARD_COUNTS = `${PRUNE_GUARD}
local g = KEYS[1]
if ARGV[1] ~= '' and #ARGV > 3 then
  local fresh = false
  for i = 4, #ARGV, 2 do
    local n = tonumber(ARGV[i + 1])
    if n > 0 and redis.call('HINCRBY', g, ARGV[1] .. ':' .. ARGV[i], n) == n then fresh = true end
  end
  if fresh then pruneGuard(g, tonumber(ARGV[3])) end
  redis.call('PEXPIRE', g, ARGV[2])
end
return redis.call('HGETALL', g)
`;

/**
 * KEYS[1] job hash, KEYS[2] results hash; ARGV: (field, value) pairs. Run in the createJob transaction right after
 * CREATE_JOB: writes each entry's recipients (`r<index>`) only if the job exists (a refused job leaves nothing).
 */
export const SAVE_RECIPIENTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 400 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 399, #ARGV)))
end
return 1
`;
