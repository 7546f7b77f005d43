// redisQueue with real worker processes: every worker takes part, and a SIGKILLed worker strands only its calls.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redisQueue } from '../../src/redis.js';
import { type QueueChild, spawnQueueWorker, stopQueueWorker } from './queue-children.js';
import { deleteQueueKeys, noJobKeys, recorder, until, work } from './queue-helpers.js';
import { REDIS_URL, uniquePrefix } from './redis-helpers.js';

const url = REDIS_URL as string;

describe.skipIf(!REDIS_URL)('redisQueue with worker processes', () => {
  const prefixes: string[] = [];
  let children: QueueChild[] = [];
  afterEach(async () => {
    await Promise.all(children.map(stopQueueWorker));
    children = [];
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteQueueKeys(url, p);
  });

  it('every worker takes part: three processes, a 300-recipient job at 150/s, each process sends some calls', async () => {
    const prefix = uniquePrefix('rq-all');
    prefixes.push(prefix);
    children = [0, 1, 2].map(() => spawnQueueWorker({ url, prefix, rate: 150, concurrency: 8 }));
    await Promise.all(children.map((c) => c.ready));
    const producer = redisQueue({ connection: url, prefix });
    try {
      await producer.add(work('all', 'A', 6, 50));
      await until(() => children.flatMap((c) => c.calls()).length === 6, 10_000, 'six calls');
      const perProcess = children.map((c) => c.calls().length);
      console.log(`every worker takes part: calls per process ${perProcess.join(', ')}`);
      for (const n of perProcess) expect(n).toBeGreaterThanOrEqual(1);
      const indexes = children.flatMap((c) => c.calls().flatMap((m) => m.indexes)).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: 300 }, (_, i) => i));
      await noJobKeys(url, prefix);
    } finally {
      await producer.close();
    }
  }, 60_000);

  it('a SIGKILLed worker strands only its call in flight, which another worker gets back within 20 s', async () => {
    const prefix = uniquePrefix('rq-kill');
    prefixes.push(prefix);
    const doomed = spawnQueueWorker({ url, prefix, concurrency: 1, holdMs: -1 });
    children = [doomed];
    await doomed.ready;
    const survivor = redisQueue({ connection: url, prefix });
    const { seen, consumer } = recorder();
    try {
      await survivor.add(work('k', 'A', 4, 10));
      const [held] = await until(
        () => (doomed.calls().length > 0 ? doomed.calls() : undefined),
        10_000,
        'the doomed worker to take a call',
      );
      await survivor.start(consumer('survivor'), { concurrency: 4 });
      await until(() => seen.length === 3, 10_000, 'the other calls');
      expect(seen.map((s) => s.chunk).sort()).toEqual([0, 1, 2, 3].filter((c) => c !== held.chunk));
      doomed.kill('SIGKILL');
      const killedAt = Date.now();
      await until(() => seen.length === 4, 25_000, 'the stranded call');
      const back = Date.now() - killedAt;
      console.log(`lease recovery: the SIGKILLed worker's call was back after ${back} ms`);
      expect(seen[3]).toMatchObject({ chunk: held.chunk, indexes: held.indexes });
      expect(back).toBeLessThan(20_000);
      await noJobKeys(url, prefix);
    } finally {
      await survivor.close();
    }
  }, 60_000);
});
