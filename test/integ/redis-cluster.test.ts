// Issue 16 item 5: Redis Cluster. A local 3-master cluster the suite starts; the Store, delivery-feedback and Queue
// contract suites against it, every key of a prefix in one slot, and an end-to-end send (router + worker on an
// ioredis Cluster → SES emulator) where every recipient gets exactly one email.
import { spawnSync } from 'node:child_process';
import express from 'express';
import { Cluster } from 'ioredis';
import request from 'supertest';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkEmail, createWorker } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import {
  describeFeedbackContract,
  describePacingContract,
  describeQueueContract,
  describeStoreContract,
  jobRecord,
} from '../../src/testing/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { type PrivateCluster, startPrivateCluster } from './private-redis.js';
import { until } from './queue-helpers.js';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis) console.warn('[integ] Redis Cluster suite skipped: redis-server is not on PATH');

describe.skipIf(!haveRedis)('Redis Cluster (three masters started by the suite)', () => {
  let cluster: PrivateCluster;
  const apps: Cluster[] = [];
  /** A Cluster client of the app's (the store and queue open their own from it; closed at the end). */
  const app = () => {
    const c = new Cluster(cluster.nodes);
    apps.push(c);
    return c;
  };
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  }, 60_000);
  afterAll(async () => {
    for (const c of apps) c.disconnect();
    await cluster?.stop();
  });

  describeStoreContract(vitest, 'redis cluster', () => redisStore({ connection: app(), prefix: 'cstore' }));
  describeFeedbackContract(vitest, 'redis cluster', () => redisStore({ connection: app(), prefix: 'cfeedback' }));
  describeQueueContract(vitest, 'redis cluster', (name) =>
    redisQueue({ connection: app(), prefix: `cq-${name}`, retryDelayMs: 100 }),
  );
  describePacingContract(vitest, 'redis cluster', (name) =>
    redisQueue({ connection: app(), prefix: `cp-${name}`, retryDelayMs: 100 }),
  );

  it('keeps every key of one store prefix on one master (one slot), the guard counts included', async () => {
    const c = app();
    const store = redisStore({ connection: c, prefix: 'slotted' });
    try {
      const job = jobRecord('slot-principal', 3);
      await store.createJob(job, { content: { DefaultContent: {} } } as never, []);
      await store.claimEntries(job.id, [0, 1, 2], 'lease');
      await store.recordResults(
        job.id,
        [0, 1, 2].map((index) => ({ index, status: 'SUCCESS' as const, attempts: 1, messageId: `m-${index}` })),
        { messageRetentionMs: 60_000, guardWindowMs: 3_600_000 },
      );
      await store.addSuppressions?.('p:slot-principal', [{ address: 'a@x.test', reason: 'BOUNCE', at: '' }], 10);
      const perNode = await Promise.all(c.nodes('master').map((n) => n.keys('{slotted}:*')));
      const holding = perNode.filter((keys) => keys.length > 0);
      expect(holding).toHaveLength(1);
      const keys = holding[0];
      expect(keys).toContain(`{slotted}:s:job:${job.id}`);
      expect(keys).toContain('{slotted}:s:m:m-0');
      expect(keys).toContain('{slotted}:s:g:3600000:slot-principal');
      expect(keys).toContain('{slotted}:s:sup:p:slot-principal');
    } finally {
      await store.close();
    }
  });

  it('sends a job end to end through a router and a worker on a Cluster: every recipient exactly once', async () => {
    const ses: SesEmulator = await startSesEmulator();
    const n = 300;
    const rate = 400;
    const prefix = 'c-e2e';
    const store = redisStore({ connection: app(), prefix });
    const queue = redisQueue({ connection: app(), prefix });
    const workerStore = redisStore({ connection: app(), prefix });
    const workerQueue = redisQueue({ connection: app(), prefix });
    const worker = createWorker({ ses: ses.client(), store: workerStore, queue: workerQueue, sendRate: rate });
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: rate,
      authenticate: () => ({ id: 'cluster-tenant' }),
      store,
      queue,
      worker: false,
    });
    const web = express().use('/bulk-email', router);
    try {
      await worker.ready;
      const created = await request(web)
        .post('/bulk-email')
        .send(bulkBody(n, { domain: 'cluster.test' }))
        .expect(202);
      const id: string = created.body.data.id;
      const done = await until(
        async () => {
          const res = await request(web).get(`/bulk-email/${id}`);
          return res.status === 200 && res.body.data.status === 'completed' ? res.body.data : null;
        },
        45_000,
        'the job to complete on the cluster',
      );
      expect(done.counts).toMatchObject({ sent: n, pending: 0, failed: 0 });
      const emails = new Map<string, number>();
      for (const e of await ses.emails()) for (const to of e.destination.to) emails.set(to, (emails.get(to) ?? 0) + 1);
      expect(emails.size).toBe(n);
      for (let i = 0; i < n; i++) expect(emails.get(`user${i}@cluster.test`), `user${i}`).toBe(1);
      const page = await request(web).get(`/bulk-email/${id}/results`).query({ limit: 1000 }).expect(200);
      expect(page.body.data.results.filter((r: { status: string }) => r.status === 'SUCCESS')).toHaveLength(n);
    } finally {
      await worker.close();
      await router.close();
      await Promise.all([store.close(), queue.close(), workerStore.close(), workerQueue.close()]);
      await ses.close();
    }
  }, 90_000);
});
