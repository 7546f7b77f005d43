// redisQueue through Redis faults: its own redis-server paused 10 s, then restarted, while worker processes consume.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisQueue, redisStore } from '../../src/redis.js';
import { type PrivateRedis, startPrivateRedis } from './private-redis.js';
import { type QueueChild, spawnQueueWorker, stopQueueWorker } from './queue-children.js';
import { sleep, until, work } from './queue-helpers.js';
import { REDIS_URL } from './redis-helpers.js';

// Gated like every Redis suite; the server itself is the test's own (redis-server must be on PATH).
describe.skipIf(!REDIS_URL)('redisQueue through a Redis pause and restart', () => {
  let redis: PrivateRedis;
  let children: QueueChild[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis({ appendonly: true });
  });
  afterAll(async () => {
    await Promise.all(children.map(stopQueueWorker));
    await redis?.stop();
  });

  it('hands out no call twice and loses none; nothing crashes; the store answers 503 within 1.5 s meanwhile', async () => {
    const prefix = 'outage';
    const entries = 2400;
    children = [0, 1, 2].map(() => spawnQueueWorker({ url: redis.url, prefix, rate: 150, concurrency: 4, holdMs: 20 }));
    await Promise.all(children.map((c) => c.ready));
    const producer = redisQueue({ connection: redis.url, prefix });
    const store = redisStore({ connection: redis.url, prefix: 'outage-store' });
    const done = () => children.flatMap((c) => c.messages.filter((m) => m.type === 'done')).length;
    const calls = () => children.flatMap((c) => c.calls());
    try {
      await producer.add(work('big', 'A', entries / 50, 50));
      await until(() => done() >= 4, 10_000, 'sending under way');

      redis.pause();
      await sleep(1000);
      const asked = Date.now();
      await expect(store.getJob('any')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const answeredIn = Date.now() - asked;
      await sleep(9000);
      const handedOutWhilePaused = calls().length;
      redis.resume();
      await until(() => calls().length > handedOutWhilePaused, 20_000, 'sending again after the pause');

      await redis.restart();
      const restartedAt = Date.now();
      await until(() => calls().some((c) => c.at > restartedAt), 30_000, 'sending again after the restart');

      await until(() => calls().reduce((n, c) => n + c.indexes.length, 0) >= entries, 60_000, 'every entry');
      await until(() => done() === calls().length, 10_000, 'the last calls to finish');
      await sleep(1500); // a duplicate would show up now

      const indexes = calls()
        .flatMap((c) => c.indexes)
        .sort((a, b) => a - b);
      console.log(
        `Redis outage: ${calls().length} calls, store answered 503 in ${answeredIn} ms while paused, ` +
          `calls per worker ${children.map((c) => c.calls().length).join(', ')}`,
      );
      expect(indexes).toEqual(Array.from({ length: entries }, (_, i) => i));
      expect(answeredIn).toBeLessThan(1500);
      expect(children.flatMap((c) => c.messages.filter((m) => m.type === 'crash'))).toEqual([]);
      expect(children.map((c) => c.exited())).toEqual([false, false, false]);
    } finally {
      await Promise.all([producer.close(), store.close()]);
    }
  }, 180_000);
});
