// Webhooks through the router, end to end over the SES emulator: job.completed once (500, 500, 200: same webhook-id,
// every signature verified with the standardwebhooks package), job.canceled, entry.bounced / entry.complained from
// SES events, 410 disables the URL, a loopback URL refused without allowPrivate.
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BulkEmailOptions,
  bulkEmail,
  type BulkEmailRouter,
  type Logger,
  type WebhookOptions,
} from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { sesEvent } from '../helpers/ses-events.js';
import { type Answer, type Received, startReceiver } from './receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const verifier = new Webhook(SECRET);

let ses: SesEmulator;
beforeAll(async () => {
  ses = await startSesEmulator();
});
afterAll(async () => {
  await ses?.close();
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

interface Logged {
  level: string;
  obj: Record<string, unknown>;
}

async function setup(
  answers: Answer[],
  webhooks: Partial<WebhookOptions> = {},
  sendRate = 200,
  extra: Partial<BulkEmailOptions> = {},
) {
  const receiver = await startReceiver(answers);
  open.push(receiver);
  const logs: Logged[] = [];
  const at = (level: string) => (obj: object) => logs.push({ level, obj: obj as Record<string, unknown> });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const router: BulkEmailRouter = bulkEmail({
    ses: ses.client(),
    sendRate,
    logger,
    authenticate: (req) => ({ id: String(req.get('x-user')) }),
    webhooks: {
      endpoint: (principal) => (principal.id === 'hooked' ? { url: receiver.url, secret: SECRET } : null),
      retryDelaysMs: [50, 50, 50],
      allowPrivate: true,
      ...webhooks,
    },
    ...extra,
  });
  open.push(router);
  const app = express();
  app.use('/bulk-email', router);
  return { receiver, router, app, logs };
}

/** Verifies the signature of every request (throws if one is wrong) and parses its payload. */
function verified(r: Received): { type: string; timestamp: string; data: Record<string, unknown> } {
  const headers = {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  };
  return verifier.verify(r.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('webhooks out through the router', () => {
  it('a completed job posts job.completed: 500 twice then 200 → delivered once, same webhook-id, every signature valid', async () => {
    const { receiver, app } = await setup([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const res = await request(app)
      .post('/bulk-email')
      .set('x-user', 'hooked')
      .set('Prefer', 'wait=20')
      .send(bulkBody(60, { domain: 'hooks.test' }))
      .expect(200);
    expect(res.body.data.status).toBe('completed');
    const got = await receiver.waitFor(3);
    await sleep(300); // the retry schedule has 50 ms gaps: a fourth post would have come by now
    expect(receiver.received).toHaveLength(3);
    const ids = new Set(got.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const r of got) {
      const payload = verified(r);
      expect(payload.type).toBe('job.completed');
      expect(payload.data.id).toBe(res.body.data.id);
      expect((payload.data.counts as Record<string, number>).sent).toBe(60);
      expect(Number.isNaN(Date.parse(payload.timestamp))).toBe(false);
    }
    expect(got[0].body).toBe(got[2].body);
    expect(() =>
      new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(got[0].body, got[0].headers as never),
    ).toThrow();
    const emails = (await ses.emails()).filter((e) => e.destination.to[0]?.endsWith('@hooks.test'));
    expect(emails).toHaveLength(60);
  });

  it('a principal without an endpoint gets nothing; a canceled job posts job.canceled once, with its final counts', async () => {
    const { receiver, app } = await setup([{ status: 200 }], {}, 20);
    await request(app)
      .post('/bulk-email')
      .set('x-user', 'plain')
      .set('Prefer', 'wait=10')
      .send(bulkBody(2))
      .expect(200);
    const created = await request(app).post('/bulk-email').set('x-user', 'hooked').send(bulkBody(200)).expect(202);
    await sleep(200);
    await request(app).post(`/bulk-email/${created.body.data.id}/cancel`).set('x-user', 'hooked').expect(200);
    const [r] = await receiver.waitFor(1);
    await sleep(300);
    expect(receiver.received).toHaveLength(1);
    const payload = verified(r);
    expect(payload.type).toBe('job.canceled');
    expect(payload.data.status).toBe('canceled');
    const counts = payload.data.counts as Record<string, number>;
    expect(counts.pending).toBe(0);
    expect(counts.sent + counts.canceled).toBe(200);
  });

  it('SES bounce and complaint events post entry.bounced and entry.complained (only the subscribed events)', async () => {
    const { receiver, app, router } = await setup([{ status: 200 }], {
      events: ['entry.bounced', 'entry.complained'],
    });
    const res = await request(app)
      .post('/bulk-email')
      .set('x-user', 'hooked')
      .set('Prefer', 'wait=10')
      .send(bulkBody(3))
      .expect(200);
    const id = res.body.data.id;
    const results = (await request(app).get(`/bulk-email/${id}/results`).set('x-user', 'hooked').expect(200)).body.data
      .results as { index: number; message_id: string }[];
    await router.ingest(
      sesEvent('bounce-permanent', { messageId: results[0].message_id, recipients: ['user0@example.com'] }),
    );
    await router.ingest(sesEvent('complaint', { messageId: results[1].message_id, recipients: ['user1@example.com'] }));
    const got = await receiver.waitFor(2);
    await sleep(200);
    expect(receiver.received).toHaveLength(2); // job.completed is not subscribed
    const payloads = got.map(verified).sort((a, b) => a.type.localeCompare(b.type));
    expect(payloads[0]).toMatchObject({
      type: 'entry.bounced',
      data: { job_id: id, index: 0, message_id: results[0].message_id, recipients: ['user0@example.com'] },
    });
    expect(payloads[0].data.bounce_type).toBe('Permanent');
    expect(payloads[1]).toMatchObject({ type: 'entry.complained', data: { job_id: id, index: 1 } });
  });

  it('410 Gone disables the URL: later events are not posted', async () => {
    const { receiver, app, logs } = await setup([{ status: 410 }]);
    for (let i = 0; i < 2; i++) {
      await request(app)
        .post('/bulk-email')
        .set('x-user', 'hooked')
        .set('Prefer', 'wait=10')
        .send(bulkBody(1))
        .expect(200);
      await receiver.waitFor(1);
      await sleep(200);
    }
    expect(receiver.received).toHaveLength(1);
    expect(logs.some((l) => l.obj.code === 'WEBHOOK_ENDPOINT_GONE')).toBe(true);
  });

  it('a loopback URL is refused without allowPrivate: nothing reaches it, and the message is dropped after its retries', async () => {
    const { receiver, app, logs } = await setup([{ status: 200 }], { allowPrivate: false, retryDelaysMs: [10] });
    await request(app)
      .post('/bulk-email')
      .set('x-user', 'hooked')
      .set('Prefer', 'wait=10')
      .send(bulkBody(1))
      .expect(200);
    await until(() => logs.some((l) => l.obj.code === 'WEBHOOK_GAVE_UP'));
    expect(receiver.received).toHaveLength(0);
    const reasons = logs.filter((l) => typeof l.obj.reason === 'string').map((l) => String(l.obj.reason));
    expect(reasons.some((r) => /private|loopback|not allowed|refused/i.test(r))).toBe(true);
  });
});

describe('job.paused', () => {
  it('POST /:id/pause posts job.paused with the paused job', async () => {
    const { receiver, app } = await setup([{ status: 200 }], { events: ['job.paused'] }, 10);
    const created = await request(app).post('/bulk-email').set('x-user', 'hooked').send(bulkBody(100)).expect(202);
    const id = created.body.data.id;
    await request(app).post(`/bulk-email/${id}/pause`).set('x-user', 'hooked').expect(200);
    const [r] = await receiver.waitFor(1);
    const payload = verified(r);
    expect(payload).toMatchObject({ type: 'job.paused', data: { id, status: 'paused', paused_reason: 'USER' } });
    await request(app).post(`/bulk-email/${id}/cancel`).set('x-user', 'hooked').expect(200);
  });

  it('the reputation guard pausing the principal posts job.paused for its sending job (paused_reason REPUTATION)', async () => {
    const { receiver, app, router } = await setup([{ status: 200 }], { events: ['job.paused'] }, 2, {
      guard: { bounceRate: 0.01, minMessages: 1 },
    });
    const created = await request(app).post('/bulk-email').set('x-user', 'hooked').send(bulkBody(120)).expect(202);
    const id = created.body.data.id;
    let sent: { index: number; message_id?: string }[] = [];
    for (let i = 0; i < 100 && !sent.some((r) => r.message_id); i++) {
      const page = await request(app).get(`/bulk-email/${id}/results?status=SUCCESS`).set('x-user', 'hooked');
      sent = page.body.data.results;
      if (!sent.length) await sleep(50);
    }
    const first = sent.find((r) => r.message_id);
    expect(first).toBeDefined();
    await router.ingest(
      sesEvent('bounce-permanent', {
        messageId: String(first?.message_id),
        recipients: [`user${first?.index}@example.com`],
      }),
    );
    const [r] = await receiver.waitFor(1);
    expect(verified(r)).toMatchObject({
      type: 'job.paused',
      data: { id, status: 'paused', paused_reason: 'REPUTATION' },
    });
    await request(app).post(`/bulk-email/${id}/cancel`).set('x-user', 'hooked').expect(200);
  });
});
