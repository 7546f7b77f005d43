// The distributed queue bench 5 runs on: express-bulk-email/redis's redisQueue() when that entry has one, else none.
import * as redis from '../../../src/redis.js';
import type { Queue } from '../../../src/types.js';

export type RedisQueueFactory = (options: { connection: string; name: string; prefix: string }) => Queue;

/** Looked up by name: this branch ships no Redis queue (BullMQ's no longer fits the Queue interface). */
export const redisQueue = (redis as Record<string, unknown>).redisQueue as RedisQueueFactory | undefined;

export const NO_REDIS_QUEUE =
  'skipped: express-bulk-email/redis has no redisQueue() in this build (the BullMQ queue was removed with the new Queue interface)';
