// redisOutbox(): the durable webhook outbox in the Redis store — every key under the store's hash tag, Lua per method.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LeasedWebhookMessage, WebhookMessage, WebhookOutbox } from '../types.js';

// Keys (all under `<tag>:wh:`, one Redis Cluster slot): msg (hash id → the message's fixed part as JSON), meta
// (hash id → "attempts:nextAt:urlKey"), due (zset id → when it may be handed out: nextAt, or the lease's end while
// leased), lease (hash id → the current lease), disabled (set of URLs), u:<sha256 of url> (set of its message ids).
const ADD = `
if redis.call('SISMEMBER', KEYS[4], ARGV[4]) == 1 then return 'disabled' end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'duplicate' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], '0:' .. ARGV[3] .. ':' .. ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('SADD', ARGV[7] .. ARGV[5], ARGV[1])
return 'added'`;

const DUE = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  local fixed = redis.call('HGET', KEYS[1], id)
  if fixed then
    local lease = ARGV[4] .. ':' .. i
    redis.call('HSET', KEYS[4], id, lease)
    redis.call('ZADD', KEYS[3], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    out[#out + 1] = fixed
    out[#out + 1] = redis.call('HGET', KEYS[2], id) or '0:0:'
    out[#out + 1] = lease
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
return out`;

/** KEYS msg meta due lease; ARGV id lease urlPrefix. */
const REMOVE = `
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if meta then
  local urlKey = string.match(meta, '^[^:]*:[^:]*:(.*)$')
  if urlKey then redis.call('SREM', ARGV[3] .. urlKey, ARGV[1]) end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`;

/** KEYS msg meta due lease; ARGV id lease at. */
const RESCHEDULE = `
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if not meta then return 0 end
local attempts, urlKey = string.match(meta, '^([^:]*):[^:]*:(.*)$')
redis.call('HSET', KEYS[2], ARGV[1], (tonumber(attempts) + 1) .. ':' .. ARGV[3] .. ':' .. urlKey)
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1`;

/** KEYS msg meta due lease disabled urlSet; ARGV url. */
const DISABLE = `
redis.call('SADD', KEYS[5], ARGV[1])
local ids = redis.call('SMEMBERS', KEYS[6])
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[3], id)
end
redis.call('DEL', KEYS[6])
return #ids`;

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  ebeWhAdd: Script;
  ebeWhDue: Script;
  ebeWhRemove: Script;
  ebeWhReschedule: Script;
  ebeWhDisable: Script;
}

const urlKey = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 32);
const ms = (n: number) => Math.max(0, Math.ceil(n));

/**
 * The outbox over the store's own client: `tag` is the store's key root (`{prefix}:s`), so the outbox shares its
 * Cluster slot and its lifetime (close() is a no-op; closing the store closes the client).
 */
/** Messages kept at most; `add` answers 'full' beyond. */
const MAX_MESSAGES = 100_000;

export function redisOutbox(client: Redis, tag: string): WebhookOutbox {
  const maxMessages = MAX_MESSAGES;
  const root = `${tag}:wh:`;
  const keys = [`${root}msg`, `${root}meta`, `${root}due`, `${root}lease`];
  const disabledKey = `${root}disabled`;
  const urlPrefix = `${root}u:`;
  const define = (name: keyof Scripts, lua: string, n: number) => {
    if (!(name in client)) client.defineCommand(name, { lua, numberOfKeys: n });
  };
  define('ebeWhAdd', ADD, 4);
  define('ebeWhDue', DUE, 4);
  define('ebeWhRemove', REMOVE, 4);
  define('ebeWhReschedule', RESCHEDULE, 4);
  define('ebeWhDisable', DISABLE, 6);
  const scripts = client as unknown as Scripts;

  return {
    async add(message: WebhookMessage) {
      const { id, principalId, url, type, body, createdAt } = message;
      const fixed = JSON.stringify({ id, principalId, url, type, body, createdAt });
      const [msg, meta, due] = keys;
      return (await scripts.ebeWhAdd(
        msg,
        meta,
        due,
        disabledKey,
        id,
        fixed,
        ms(message.nextAt),
        url,
        urlKey(url),
        maxMessages,
        urlPrefix,
      )) as 'added' | 'duplicate' | 'disabled' | 'full';
    },
    async due(now, limit, leaseMs) {
      const n = Math.floor(limit);
      if (!(n > 0)) return [];
      const reply = (await scripts.ebeWhDue(...keys, Math.floor(now), n, ms(leaseMs), randomUUID())) as string[];
      const out: LeasedWebhookMessage[] = [];
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const fixed = JSON.parse(reply[i]) as Omit<WebhookMessage, 'attempts' | 'nextAt'>;
        const [attempts, nextAt] = reply[i + 1].split(':');
        out.push({ ...fixed, attempts: Number(attempts), nextAt: Number(nextAt), lease: reply[i + 2] });
      }
      return out;
    },
    async remove(id, lease) {
      await scripts.ebeWhRemove(...keys, id, lease, urlPrefix);
    },
    async reschedule(id, lease, at) {
      await scripts.ebeWhReschedule(...keys, id, lease, ms(at));
    },
    async disable(url) {
      await scripts.ebeWhDisable(...keys, disabledKey, `${urlPrefix}${urlKey(url)}`, url);
    },
    async enable(url) {
      await client.srem(disabledKey, url);
    },
    async close() {},
  };
}
