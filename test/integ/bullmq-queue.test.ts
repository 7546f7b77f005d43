// The BullMQ queue against the shared Queue contract, and its Redis rate limiter shared by two workers.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bullmqQueue } from '../../src/redis.js';
import type { RateLimiter } from '../../src/types.js';
import { describeQueueContract } from '../contract/queue-contract.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix('bull');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!REDIS_URL)('bullmqQueue', () => {
  afterAll(() => deleteKeys(prefix));

  describeQueueContract('bullmq', (name) =>
    bullmqQueue({ connection: REDIS_URL as string, name, prefix, retryDelayMs: 100 }),
  );

  it('is distributed', async () => {
    const queue = bullmqQueue({ connection: REDIS_URL as string, name: `q-${randomUUID()}`, prefix });
    expect(queue.distributed).toBe(true);
    await queue.close();
  });

  it('accepts an ioredis instance and leaves it open', async () => {
    const instance = new Redis(REDIS_URL as string);
    const queue = bullmqQueue({ connection: instance, name: `q-${randomUUID()}`, prefix });
    try {
      const seen: number[] = [];
      await queue.start(async (task) => void seen.push(task.chunk), { concurrency: 1 });
      await queue.enqueue([{ jobId: 'j', chunk: 3, entries: [] }]);
      for (let i = 0; i < 200 && seen.length === 0; i++) await sleep(25);
      expect(seen).toEqual([3]);
    } finally {
      await queue.close();
    }
    expect(await instance.ping()).toBe('PONG');
    instance.disconnect();
  });

  describe('rate limiter', () => {
    const pair = (rate: number) => {
      const name = `q-${randomUUID()}`;
      const queues = [0, 1].map(() => bullmqQueue({ connection: REDIS_URL as string, name, prefix }));
      const limiters = queues.map((q) => q.createRateLimiter?.({ rate }) as RateLimiter);
      const close = async () => {
        await Promise.all(queues.map((q) => q.close()));
      };
      return { limiters, close };
    };

    it('keeps two workers sharing a key within the combined rate', async () => {
      const rate = 200;
      const { limiters, close } = pair(rate);
      try {
        expect(limiters[0].maxBurst()).toBe(10);
        const sends: { at: number; n: number }[] = [];
        const start = Date.now();
        const run = async (limiter: RateLimiter) => {
          while (Date.now() - start < 2000) {
            const n = limiter.maxBurst();
            await sleep(await limiter.reserve(n));
            sends.push({ at: Date.now(), n });
          }
        };
        await Promise.all(limiters.map(run));
        for (let from = start; from + 1000 <= Date.now(); from += 50) {
          const inWindow = sends.filter((s) => s.at >= from && s.at < from + 1000).reduce((t, s) => t + s.n, 0);
          expect(inWindow).toBeLessThanOrEqual(1.1 * rate);
        }
        const total = sends.reduce((t, s) => t + s.n, 0);
        expect(total).toBeGreaterThan(rate * 1.6);
      } finally {
        await close();
      }
    });

    it('slows every worker after one of them is penalized, and shrinks maxBurst', async () => {
      const rate = 400;
      const { limiters, close } = pair(rate);
      try {
        await limiters[0].reserve(1);
        await limiters[0].penalize();
        // the other worker's next reservations are spaced at about half the rate
        await sleep(await limiters[1].reserve(1));
        const first = await limiters[1].reserve(100);
        const second = await limiters[1].reserve(100);
        expect(second - first).toBeGreaterThan(400); // 100 recipients at ≤ 220/s (200/s recovering +40/s/s)
        expect(limiters[0].maxBurst()).toBeLessThan(20);
        expect(limiters[1].maxBurst()).toBeLessThan(20);
      } finally {
        await close();
      }
    });
  });
});

describe('bullmqQueue when Redis is unreachable', () => {
  it('fails enqueue and start fast with SERVICE_UNAVAILABLE, and closes', async () => {
    const queue = bullmqQueue({
      connection: { host: '127.0.0.1', port: 1 },
      name: 'unreachable',
      prefix: 'ebe-unreachable',
      timeoutMs: 2000,
    });
    try {
      let started = Date.now();
      await expect(queue.enqueue([{ jobId: 'j', chunk: 0, entries: [] }])).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(2500);
      started = Date.now();
      await expect(queue.start(async () => {}, { concurrency: 1 })).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await queue.close();
    }
  });
});
