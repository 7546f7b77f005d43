// bullmqQueue(): the old name of redisQueue(), kept so that existing apps keep working (BullMQ is no longer used).
import type { RedisConnection } from '../stores/redis-connection.js';
import type { Logger, Queue } from '../types.js';
import { redisQueue } from './redis-queue.js';

/** @deprecated Use `RedisQueueOptions` with `redisQueue()`. */
export interface BullmqQueueOptions {
  connection: RedisConnection;
  /** Joined to `prefix` as the key prefix (`<prefix>:<name>`), so that apps kept apart by name stay apart. */
  name?: string;
  /** Key prefix; with neither `prefix` nor `name`, the default of redisQueue() (`ebe`). */
  prefix?: string;
  /** Ignored: a call whose consumer throws is retried until the engine settles it (see RedisQueueOptions). */
  attempts?: number;
  retryDelayMs?: number;
  /** redisQueue's `leaseMs`: how long a crashed worker's calls stay with it. */
  lockDurationMs?: number;
  /** Ignored: the takes themselves put back a dead worker's calls (at most one scan a second). */
  stalledIntervalMs?: number;
  timeoutMs?: number;
  logger?: Logger;
}

/** @deprecated The old name of `redisQueue()`: the same queue, with the BullMQ-era option names mapped onto it. */
export function bullmqQueue(options: BullmqQueueOptions): Queue {
  const parts = [options.prefix, options.name].filter((p) => p !== undefined && p !== '');
  return redisQueue({
    connection: options.connection,
    prefix: parts.length > 0 ? parts.join(':') : undefined,
    retryDelayMs: options.retryDelayMs,
    leaseMs: options.lockDurationMs,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
}
