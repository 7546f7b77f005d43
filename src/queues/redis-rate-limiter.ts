// redisRateLimiter(): the GCRA reservation limiter of sending/rate-limiter.ts run in Lua, one schedule for every worker.
import type { Redis } from 'ioredis';
import {
  assertRate,
  burstFor,
  DEFAULT_GCRA_TUNING,
  effectiveRate,
  type GcraState,
  type GcraTuning,
  INITIAL_GCRA_STATE,
} from '../sending/rate-limiter.js';
import { closeClient, redisGuard } from '../stores/redis-connection.js';
import type { RateLimiter } from '../types.js';

/*
 * One hash per limiter key: tat, penaltyRate, penaltyAt (ms of Redis TIME, so workers' clocks do not matter).
 * Both scripts return { penaltyRate, penaltyAt, now, extra } as strings (Lua numbers would be truncated to integers).
 */
const LUA_PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'tat', 'penaltyRate', 'penaltyAt')
local tat, pr, pa = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0
local rate, recovery, minFraction, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function effective()
  if pr <= 0 then return rate end
  return math.min(rate, pr + recovery * rate * math.max(0, now - pa) / 1000)
end
local function f(x) return string.format('%.3f', x) end
`;

/** ARGV: rate, recovery, minFraction, windowMs, recipients → wait ms in the 4th slot */
const RESERVE = `${LUA_PRELUDE}
local start = math.max(now, tat)
tat = start + math.max(0, tonumber(ARGV[5])) * 1000 / effective()
redis.call('HSET', KEYS[1], 'tat', f(tat))
redis.call('PEXPIRE', KEYS[1], math.ceil(tat - now) + 3600000)
return {f(pr), f(pa), f(now), f(start - now)}
`;

/** ARGV: rate, recovery, minFraction, windowMs */
const PENALIZE = `${LUA_PRELUDE}
if not (pr > 0 and now - pa < windowMs) then
  pr = math.max(minFraction * rate, effective() / 2)
  pa = now
  redis.call('HSET', KEYS[1], 'penaltyRate', f(pr), 'penaltyAt', f(pa))
  redis.call('PEXPIRE', KEYS[1], math.max(math.ceil(tat - now), 0) + 3600000)
end
return {f(pr), f(pa), f(now), '0'}
`;

export interface RedisRateLimiterOptions {
  /** A client this limiter owns: `close()` closes it. */
  client: Redis;
  /** The hash every worker sharing this limit uses. */
  key: string;
  /** Recipients per second across every user of `key`. */
  rate: number;
  tuning?: Partial<GcraTuning>;
}

interface Limiter {
  ebeGcraReserve(key: string, ...args: (string | number)[]): Promise<string[]>;
  ebeGcraPenalize(key: string, ...args: (string | number)[]): Promise<string[]>;
}

/** The shared limiter: same algorithm, state and maxBurst() formula as memoryRateLimiter(), kept in one Redis hash. */
export function redisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  assertRate(options.rate, 'redisRateLimiter');
  const { client, key } = options;
  const tuning: GcraTuning = { ...DEFAULT_GCRA_TUNING, ...options.tuning };
  const guard = redisGuard(client);
  client.defineCommand('ebeGcraReserve', { lua: RESERVE, numberOfKeys: 1 });
  client.defineCommand('ebeGcraPenalize', { lua: PENALIZE, numberOfKeys: 1 });
  const scripts = client as unknown as Limiter;
  let rate = options.rate;
  // The penalty last seen in Redis, and Redis time − local time, so maxBurst() can follow the recovery locally.
  let seen: GcraState = { ...INITIAL_GCRA_STATE };
  let offset = 0;

  const args = () => [rate, tuning.recoveryPerSecond, tuning.minFraction, tuning.penaltyWindowMs];
  const remember = (reply: string[]) => {
    seen = { tat: 0, penaltyRate: Number(reply[0]), penaltyAt: Number(reply[1]) };
    offset = Number(reply[2]) - Date.now();
    return Number(reply[3]);
  };

  return {
    get rate() {
      return rate;
    },
    reserve: (recipients) => guard(async () => remember(await scripts.ebeGcraReserve(key, ...args(), recipients))),
    maxBurst: () => burstFor(effectiveRate(rate, seen, Date.now() + offset, tuning), tuning),
    penalize: () =>
      guard(async () => {
        remember(await scripts.ebeGcraPenalize(key, ...args()));
      }),
    setRate(next) {
      assertRate(next, 'setRate');
      rate = next;
    },
    close: () => closeClient(client),
  };
}
