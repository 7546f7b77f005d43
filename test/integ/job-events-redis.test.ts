// GET /:id/events when the job runs in another process: a web router (worker: false) streams a job that a worker
// child process sends through the SES emulator, over redisStore + redisQueue.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { readSse } from '../helpers/sse-client.js';
import { type Child, spawnChild, stopChild } from './queue-children.js';
import { REDIS_URL, deleteKeys, uniquePrefix } from './redis-helpers.js';
import type { RedisWorkerConfig, RedisWorkerMessage } from './redis-worker-process.js';

const prefix = uniquePrefix('sse');

describe.skipIf(!REDIS_URL)('event streams across processes (Redis)', () => {
  let ses: SesEmulator;
  let worker: Child<RedisWorkerMessage>;
  beforeAll(async () => {
    ses = await startSesEmulator();
    const config: RedisWorkerConfig = { redisUrl: REDIS_URL as string, sesUrl: ses.url, prefix, sendRate: 100 };
    worker = spawnChild<RedisWorkerMessage>('./redis-worker-process.ts', config);
    await worker.ready;
  });
  afterAll(async () => {
    if (worker) await stopChild(worker);
    await ses?.close();
    await deleteKeys(prefix);
  });

  it('a web process streams progress and done of a job another process sends; one email per recipient', async () => {
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 100,
      authenticate: (req) => ({ id: String(req.get('x-user')) }),
      store: redisStore({ connection: REDIS_URL as string, prefix }),
      queue: redisQueue({ connection: REDIS_URL as string, prefix }),
      worker: false,
    });
    const app = express();
    app.use('/bulk-email', router);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bulk-email`;
      const created = await request(app)
        .post('/bulk-email')
        .set('x-user', 'a')
        .send(bulkBody(250, { domain: 'sse.test' }));
      expect(created.status).toBe(202);
      const id = created.body.data.id as string;
      // Two readers of the same job share one poll; both see the end.
      const [one, two] = await Promise.all([
        readSse(`${base}/${id}/events`, { 'x-user': 'a' }),
        readSse(`${base}/${id}/events`, { 'x-user': 'a' }),
      ]);
      for (const read of [one, two]) {
        expect(read.status).toBe(200);
        expect(read.events.filter((e) => e.event === 'progress').length).toBeGreaterThanOrEqual(2);
        const done = read.events.at(-1);
        expect(done?.event).toBe('done');
        expect(done?.data.status).toBe('completed');
        expect(done?.data.counts.sent).toBe(250);
      }
      const emails = (await ses.emails()).filter((e) => e.destination.to[0]?.endsWith('@sse.test'));
      expect(emails).toHaveLength(250);
    } finally {
      server.closeAllConnections();
      server.close();
      await router.close();
    }
  });
});
