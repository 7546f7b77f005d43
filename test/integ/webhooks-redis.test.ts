// Webhooks with the Redis store: a web process (worker: false) and a worker (createWorker) with their own store
// objects; the job's end and a cancel made in the web process are queued in the Redis outbox and posted by the
// worker, each once, signed.
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { bulkEmail, createWorker } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { startSesEmulator } from '../helpers/ses-emulator.js';
import { startReceiver } from '../webhooks/receiver.js';
import { REDIS_URL, deleteKeys, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix('webhooks');
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe.skipIf(!REDIS_URL)('webhooks over the Redis outbox', () => {
  afterAll(async () => {
    await deleteKeys(prefix);
  });

  it('the worker posts job.completed and job.canceled queued by either process, once each', async () => {
    const ses = await startSesEmulator();
    const receiver = await startReceiver([{ status: 200 }]);
    const webhooks = {
      endpoint: () => ({ url: receiver.url, secret: SECRET }),
      allowPrivate: true,
      retryDelaysMs: [50, 50],
    };
    const url = REDIS_URL as string;
    const webStore = redisStore({ connection: url, prefix });
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 20,
      authenticate: () => ({ id: 'tenant' }),
      store: webStore,
      queue: redisQueue({ connection: url, prefix }),
      worker: false,
      webhooks,
    });
    const workerStore = redisStore({ connection: url, prefix });
    const worker = createWorker({
      ses: ses.client(),
      sendRate: 20,
      store: workerStore,
      queue: redisQueue({ connection: url, prefix }),
      webhooks,
    });
    const app = express();
    app.use('/bulk-email', router);
    try {
      await worker.ready;
      const done = await request(app).post('/bulk-email').set('Prefer', 'wait=20').send(bulkBody(3)).expect(200);
      const long = await request(app).post('/bulk-email').send(bulkBody(300)).expect(202);
      await request(app).post(`/bulk-email/${long.body.data.id}/cancel`).expect(200);
      const got = await receiver.waitFor(2, 20_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.received).toHaveLength(2);
      const verifier = new Webhook(SECRET);
      const payloads = got
        .map(
          (r) => verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; data: { id: string } },
        )
        .sort((a, b) => a.type.localeCompare(b.type));
      expect(payloads.map((p) => [p.type, p.data.id])).toEqual([
        ['job.canceled', long.body.data.id],
        ['job.completed', done.body.data.id],
      ]);
    } finally {
      await router.close();
      await worker.close();
      await webStore.close();
      await workerStore.close();
      await receiver.close();
      await ses.close();
    }
  });
});
