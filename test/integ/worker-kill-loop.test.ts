// Issue 16 item 3: workers killed in a loop. Three worker processes; every 3–8 s one of them (at random) is SIGKILLed
// and a replacement started, for ~45 s, while a 20,000-recipient job runs at 300/s through the SES emulator (behind
// a recording proxy that holds each call 250 ms). Every entry must end final, SUCCESS entries emailed exactly once, UNKNOWN only for entries of
// calls that reached SES just before a kill, and the job complete within 30 s after the last kill.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { prng } from '../helpers/prng.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { allResults, checkOutcomes, completedJob, emailCounts } from './job-audit.js';
import { type PrivateRedis, startPrivateRedis } from './private-redis.js';
import { type Child, spawnChild, stopChild } from './queue-children.js';
import { sleep, until } from './queue-helpers.js';
import { REDIS_URL } from './redis-helpers.js';
import type { RedisWorkerConfig, RedisWorkerMessage } from './redis-worker-process.js';

const N = 20_000;
const RATE = 300;
const KILL_FOR_MS = 45_000;
/** A call "in flight at a kill": it reached SES at most this long before the kill (its answer not recorded yet). */
const IN_FLIGHT_WINDOW_MS = 5_000;
const SEED = Number(process.env.KILL_SEED ?? 16);
const SES_DELAY_MS = 250;

describe.skipIf(!REDIS_URL)('workers SIGKILLed in a loop under a 20,000-recipient job (issue 16)', () => {
  let redis: PrivateRedis;
  let ses: SesEmulator;
  let proxy: FaultProxy;
  const workers: Child<RedisWorkerMessage>[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis();
    ses = await startSesEmulator();
    // Every SES call takes SES_DELAY_MS (as a real SES call takes a while), so that kills land on calls in flight.
    proxy = await startFaultProxy(ses.url, () => ({ kind: 'delay', ms: SES_DELAY_MS }));
  });
  afterAll(async () => {
    await Promise.all(workers.map(stopChild));
    await proxy?.close();
    await ses?.close();
    await redis?.stop();
  });

  it('every entry final, SUCCESS emailed once, UNKNOWN only around kills, done within 30 s of the last kill', async () => {
    const prefix = 'kill-loop';
    const config: RedisWorkerConfig = {
      redisUrl: redis.url,
      sesUrl: proxy.url,
      prefix,
      sendRate: RATE,
      concurrency: 4,
    };
    const spawnWorker = () => {
      const w = spawnChild<RedisWorkerMessage>('./redis-worker-process.ts', config);
      w.ready.catch(() => undefined);
      workers.push(w);
      return w;
    };
    for (let i = 0; i < 3; i++) spawnWorker();
    await Promise.all(workers.map((w) => w.ready));
    const store = redisStore({ connection: redis.url, prefix });
    const queue = redisQueue({ connection: redis.url, prefix });
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: RATE,
      maxEntries: N,
      authenticate: () => ({ id: 'tenant-16' }),
      store,
      queue,
      worker: false,
    });
    const app = express().use('/bulk-email', router);
    const random = prng(SEED);
    const kills: number[] = [];
    try {
      const created = await request(app)
        .post('/bulk-email')
        .send(bulkBody(N, { domain: 'kill.test' }))
        .expect(202);
      const id: string = created.body.data.id;
      await until(
        async () => (await request(app).get(`/bulk-email/${id}`)).body.data?.counts?.sent > 0,
        20_000,
        'sending',
      );
      const started = Date.now();
      while (Date.now() - started < KILL_FOR_MS) {
        await sleep(3000 + random() * 5000);
        const live = workers.filter((w) => !w.exited());
        const victim = live[Math.floor(random() * live.length)];
        victim.kill('SIGKILL');
        kills.push(Date.now());
        spawnWorker();
      }
      const lastKill = kills[kills.length - 1];
      const done = await completedJob(app, id, 30_000);
      const recoveryMs = Date.now() - lastKill;

      const results = await allResults(app, id);
      const emails = await emailCounts(ses);
      const nearKill = new Set(
        proxy.calls.filter((c) => kills.some((k) => c.at <= k && c.at > k - IN_FLIGHT_WINDOW_MS)).flatMap((c) => c.to),
      );
      let duplicates = 0;
      for (const [, count] of emails) duplicates += Math.max(0, count - 1);
      const statuses = checkOutcomes(
        results,
        emails,
        (i) => `user${i}@kill.test`,
        (a) => nearKill.has(a),
        expect,
      );
      console.log(
        `issue 16 kill loop: ${N} entries at ${RATE}/s, SES calls ${SES_DELAY_MS} ms, ${kills.length} SIGKILLs over ${KILL_FOR_MS / 1000} s (seed ${SEED}); ` +
          `statuses ${JSON.stringify(statuses)}; duplicate emails ${duplicates}; ${proxy.calls.length} SES calls; ` +
          `completed ${recoveryMs} ms after the last kill`,
      );
      expect(results).toHaveLength(N);
      expect(done.counts.pending).toBe(0);
      expect(duplicates).toBe(0);
      // At most the calls a killed worker can hold: `concurrency` calls of at most 50 entries, per kill.
      expect(statuses.UNKNOWN ?? 0).toBeLessThanOrEqual(kills.length * (config.concurrency ?? 8) * 50);
      expect(kills.length).toBeGreaterThanOrEqual(5);
      await Promise.all(workers.filter((w) => !w.exited()).map((w) => w.ready));
      expect(workers.flatMap((w) => w.messages.filter((m) => m.type === 'crash'))).toEqual([]);
    } finally {
      await router.close();
      await Promise.all([store.close(), queue.close()]);
    }
  }, 180_000);
});
