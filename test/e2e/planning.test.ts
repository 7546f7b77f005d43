// Planning jobs end to end through the SES emulator: pause and resume mid-send (one process; a web process and a
// worker process on Redis), and a scheduled job surviving a restart of the router on Redis. Counts what SES stored.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BulkEmailOptions, type BulkEmailRouter, bulkEmail, type Principal } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { type Child, spawnChild, stopChild } from '../integ/queue-children.js';
import { sleep, until } from '../integ/queue-helpers.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../integ/redis-helpers.js';
import type { RedisWorkerConfig, RedisWorkerMessage } from '../integ/redis-worker-process.js';

const USER = 'planner';
const N = 1200;
const RATE = 300;

function mount(options: Partial<BulkEmailOptions<Principal>> & { ses: BulkEmailOptions<Principal>['ses'] }) {
  const router = bulkEmail<Principal>({ sendRate: RATE, authenticate: () => ({ id: USER }), ...options });
  const app = express();
  app.use('/bulk-email', router);
  return { app, router };
}

/** Every recipient got exactly one email. */
async function expectOneEach(ses: SesEmulator, n: number, domain: string): Promise<void> {
  const emails = await ses.emails();
  const to = emails.map((e) => e.destination.to[0]);
  expect(to).toHaveLength(n);
  expect(new Set(to).size).toBe(n);
  for (let i = 0; i < n; i += 97) expect(to).toContain(`user${i}@${domain}`);
}

/**
 * Pauses the job once some of it is sent, checks that SES receives nothing while it is paused (after the calls in
 * flight at the pause have landed), resumes it, and waits for it to complete.
 */
async function pauseMidSend(app: express.Express, ses: SesEmulator, domain: string): Promise<void> {
  const created = await request(app).post('/bulk-email').send(bulkBody(N, { domain })).expect(202);
  const id: string = created.body.data.id;
  const job = async () => (await request(app).get(`/bulk-email/${id}`).expect(200)).body.data;
  await until(async () => (await ses.emails()).length >= 150, 30_000, 'sending under way');
  const paused = await request(app).post(`/bulk-email/${id}/pause`).expect(200);
  expect(paused.body.data.status).toBe('paused');
  await sleep(500); // calls already claimed finish
  const atPause = (await ses.emails()).length;
  expect(atPause).toBeLessThan(N);
  await sleep(1500); // at 300/s, 450 more recipients would have been sent by now
  expect((await ses.emails()).length).toBe(atPause);
  const still = await job();
  expect(still.status).toBe('paused');
  expect(still.counts.sent).toBe(atPause);
  expect(still.counts.pending).toBe(N - atPause);

  const resumed = await request(app).post(`/bulk-email/${id}/resume`).expect(200);
  expect(resumed.body.data.status).toBe('sending');
  const done = await until(
    async () => {
      const j = await job();
      return j.status === 'completed' ? j : null;
    },
    60_000,
    'the job to complete',
  );
  expect(done.counts).toMatchObject({ sent: N, failed: 0, pending: 0, canceled: 0, unknown: 0 });
  await expectOneEach(ses, N, domain);
}

describe('planning jobs through the SES emulator', () => {
  let ses: SesEmulator;
  beforeAll(async () => {
    ses = await startSesEmulator();
  });
  afterAll(async () => {
    await ses.close();
  });
  beforeEach(async () => {
    await ses.clear();
  });

  it(`pause and resume mid-send (${N} recipients, memory store): nothing sent while paused, each recipient once`, async () => {
    const { app, router } = mount({ ses: ses.client() });
    try {
      await pauseMidSend(app, ses, 'pause-memory.test');
    } finally {
      await router.close();
    }
  });

  describe.skipIf(!REDIS_URL)('on Redis', () => {
    const prefixes: string[] = [];
    const workers: Child<RedisWorkerMessage>[] = [];
    const routers: BulkEmailRouter[] = [];
    // biome-ignore lint/suspicious/noDuplicateTestHooks: the hook of a nested describe (describe.skipIf), not the outer one's
    afterAll(async () => {
      await Promise.all(workers.map(stopChild));
      await Promise.all(routers.map((r) => r.close()));
      await Promise.all(prefixes.map(deleteKeys));
    });
    const fresh = (tag: string) => {
      const prefix = uniquePrefix(tag);
      prefixes.push(prefix);
      return prefix;
    };
    const onRedis = (prefix: string, worker: boolean) => {
      const url = REDIS_URL as string;
      const mounted = mount({
        ses: ses.client(),
        store: redisStore({ connection: url, prefix }),
        queue: redisQueue({ connection: url, prefix }),
        worker,
      });
      routers.push(mounted.router);
      return mounted;
    };

    it(`pause and resume across a web process and a worker process (${N} recipients)`, async () => {
      const prefix = fresh('pause');
      const config: RedisWorkerConfig = { redisUrl: REDIS_URL as string, sesUrl: ses.url, prefix, sendRate: RATE };
      const worker = spawnChild<RedisWorkerMessage>('./redis-worker-process.ts', config);
      workers.push(worker);
      await worker.ready;
      const { app } = onRedis(prefix, false);
      await pauseMidSend(app, ses, 'pause-redis.test');
    });

    it('a scheduled job paused past its time sends nothing, and resumed sends each entry once (Redis queue)', async () => {
      const { app } = onRedis(fresh('sched-pause'), true);
      const sendAt = Date.now() + 800;
      const query = `?send_at=${encodeURIComponent(new Date(sendAt).toISOString())}`;
      const id: string = (
        await request(app)
          .post(`/bulk-email${query}`)
          .send(bulkBody(40, { domain: 'sp.test' }))
          .expect(202)
      ).body.data.id;
      const paused = await request(app).post(`/bulk-email/${id}/pause`).expect(200);
      expect(paused.body.data).toMatchObject({ status: 'paused', send_at: new Date(sendAt).toISOString() });
      await sleep(Math.max(0, sendAt - Date.now()) + 1000);
      expect(await ses.emails()).toHaveLength(0);
      const resumed = await request(app).post(`/bulk-email/${id}/resume`).expect(200);
      expect(resumed.body.data.status).toBe('queued');
      await until(
        async () => (await request(app).get(`/bulk-email/${id}`)).body.data.status === 'completed',
        30_000,
        'the resumed job to complete',
      );
      await expectOneEach(ses, 40, 'sp.test');
    });

    it('a scheduled job survives a restart of the router: sent at its time, exactly once', async () => {
      const prefix = fresh('sched');
      const first = onRedis(prefix, false);
      const sendAt = Date.now() + 4000;
      const created = await request(first.app)
        .post(`/bulk-email?send_at=${encodeURIComponent(new Date(sendAt).toISOString())}`)
        .send(bulkBody(120, { domain: 'sched.test' }))
        .expect(202);
      const id: string = created.body.data.id;
      expect(created.body.data.status).toBe('scheduled');
      await first.router.close();

      // A new router and worker on the same Redis prefix: the job is still there, still scheduled.
      const second = onRedis(prefix, true);
      const again = await request(second.app).get(`/bulk-email/${id}`).expect(200);
      expect(again.body.data).toMatchObject({ status: 'scheduled', send_at: new Date(sendAt).toISOString() });
      const listed = await request(second.app).get('/bulk-email?status=scheduled').expect(200);
      expect(listed.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([id]);
      expect(await ses.emails()).toHaveLength(0);
      await until(
        async () => (await request(second.app).get(`/bulk-email/${id}`)).body.data.status === 'completed',
        30_000,
        'the scheduled job to complete',
      );
      const emails = await ses.emails();
      // the emulator stamps emails in whole seconds
      expect(Math.min(...emails.map((e) => e.at)) * 1000).toBeGreaterThanOrEqual(sendAt - 1000);
      await expectOneEach(ses, 120, 'sched.test');
      await sleep(500);
      expect(await ses.emails()).toHaveLength(120);
    });
  });
});
