// End to end: jobs sent through HTTP to the SES emulator, then SNS-signed SES events for their message ids posted to
// POST /events/sns (or given to router.ingest) — against the memory store and, with REDIS_URL, the Redis store with
// several web instances (an event may arrive at any of them).
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BulkEmailOptions, type BulkEmailRouter, bulkEmail } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { BulkEmailEvent, Principal, Store } from '../../src/types.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../integ/redis-helpers.js';
import { bulkBody } from '../helpers/bodies.js';
import { parkedQueue } from '../helpers/parked-queue.js';
import { type SesEmulator, startSesEmulator } from '../helpers/ses-emulator.js';
import { type SesEventKind, eventBridge, sesEvent } from '../helpers/ses-events.js';
import {
  CERT_URL,
  TOPIC_ARN,
  type TestAuthority,
  createTestAuthority,
  notification,
  signSns,
  snsBody,
} from '../helpers/sns-signer.js';

interface StoreKind {
  name: string;
  /** A store for one web instance (Redis: its own connection to the shared keys, as another process would have). */
  store(): Store;
  /** Stores the instances do not close themselves. */
  cleanup(): Promise<void>;
}

function memoryKind(): StoreKind {
  let shared: Store | undefined;
  return {
    name: 'memory store',
    store: () => {
      shared ??= memoryStore();
      return shared;
    },
    cleanup: async () => {
      await shared?.close();
      shared = undefined;
    },
  };
}

function redisKind(): StoreKind {
  const prefix = uniquePrefix('feedback');
  const opened: Store[] = [];
  return {
    name: 'Redis store, several web instances',
    store: () => {
      const store = redisStore({ connection: REDIS_URL as string, prefix });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await deleteKeys(prefix);
    },
  };
}

const KINDS: (() => StoreKind)[] = [memoryKind, ...(REDIS_URL ? [redisKind] : [])];
if (!REDIS_URL) console.warn('[e2e feedback] Redis variant skipped: set REDIS_URL to run it');

let ses: SesEmulator;
let auth: TestAuthority;
beforeAll(async () => {
  ses = await startSesEmulator();
  auth = createTestAuthority();
});
afterAll(async () => {
  await ses.close();
});

interface Instance {
  app: express.Express;
  router: BulkEmailRouter;
  events: BulkEmailEvent[];
}

describe.each(KINDS.map((make) => [make().name, make] as const))('delivery feedback, %s', (_name, make) => {
  let kind: StoreKind;
  const routers: BulkEmailRouter[] = [];
  beforeAll(() => {
    kind = make();
  });
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    await kind.cleanup();
    await ses.clear();
  });

  function instance(options: Partial<BulkEmailOptions<Principal>> = {}): Instance {
    const events: BulkEmailEvent[] = [];
    const router = bulkEmail<Principal>({
      ses: ses.client(),
      sendRate: 1000,
      store: kind.store(),
      authenticate: (req) => {
        const who = req.get('x-user');
        return who ? { id: who } : null;
      },
      events: {
        sns: { topicArns: [TOPIC_ARN], fetchCertificate: async (url) => (url === CERT_URL ? auth.certPem : '') },
      },
      onEvent: (e) => events.push(e),
      ...options,
    });
    routers.push(router);
    return { app: express().use('/bulk-email', router), router, events };
  }

  const as = (who: string) => ({ 'x-user': who });

  async function send(on: Instance, who: string, n: number) {
    const res = await request(on.app).post('/bulk-email').set(as(who)).set('Prefer', 'wait=30').send(bulkBody(n));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const job = res.body.data as { id: string };
    const page = await request(on.app).get(`/bulk-email/${job.id}/results?limit=1000`).set(as(who));
    const ids = page.body.data.results.map((r: { message_id: string }) => r.message_id) as string[];
    return { id: job.id, messageId: (i: number) => ids[i] };
  }

  /** Signs `message` as SNS would and posts it; returns the answer. */
  function snsPost(on: Instance, message: unknown) {
    const body = snsBody(signSns(notification(message, Date.now()), auth.keyPem));
    return request(on.app).post('/bulk-email/events/sns').set('Content-Type', 'text/plain; charset=UTF-8').send(body);
  }

  function event(kind: SesEventKind, messageId: string, index: number) {
    return sesEvent(kind, { messageId, recipients: [`user${index}@example.com`] });
  }

  it('SNS events for some of a job’s messages → results, counts, filters and the list say what happened; the next job skips the suppressed', async () => {
    const a = instance();
    const b = instance(); // a second web instance: events arrive at either
    const job = await send(a, 'alice', 10);
    expect(new Set((await ses.emails()).map((e) => e.messageId))).toEqual(
      new Set(Array.from({ length: 10 }, (_, i) => job.messageId(i))),
    );

    const posts: [SesEventKind, number][] = [
      ['delivery', 0],
      ['delivery', 1],
      ['delivery', 2],
      ['delivery', 3],
      ['delivery', 4],
      ['delivery', 5],
      ['bounce-permanent', 6],
      ['delivery', 7],
      ['complaint', 7],
      ['bounce-transient', 8],
      ['open', 0],
      ['open', 0],
      ['click', 0],
    ];
    for (const [i, [type, index]] of posts.entries()) {
      const res = await snsPost(i % 2 ? b : a, event(type, job.messageId(index), index));
      expect(res.status).toBe(200);
      expect(res.body.data.duplicate).toBe(false);
    }
    // SNS delivers one notification twice, to two instances: the second is acknowledged and ignored
    const again = snsBody(signSns(notification(event('open', job.messageId(0), 0), Date.now()), auth.keyPem));
    for (const [on, duplicate] of [
      [a, false],
      [b, true],
    ] as const) {
      const res = await request(on.app).post('/bulk-email/events/sns').set('Content-Type', 'text/plain').send(again);
      expect(res.body.data.duplicate).toBe(duplicate);
    }

    const view = (await request(b.app).get(`/bulk-email/${job.id}`).set(as('alice'))).body.data;
    expect(view.counts).toEqual({
      sent: 10,
      failed: 0,
      pending: 0,
      canceled: 0,
      suppressed: 0,
      unknown: 0,
      delivered: 6,
      bounced: 2,
      complained: 1,
    });
    const results = (await request(a.app).get(`/bulk-email/${job.id}/results`).set(as('alice'))).body.data.results;
    expect(results.map((r: { delivery?: { status: string } }) => r.delivery?.status ?? null)).toEqual([
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
      'BOUNCED',
      'COMPLAINED',
      'BOUNCED',
      null,
    ]);
    expect(results[0]).toMatchObject({ opened: 3, clicked: 1, recipients: ['user0@example.com'] });
    expect(results[8].delivery.detail).toMatchObject({ bounce_type: 'Transient' });

    const filtered = async (query: string) =>
      (await request(b.app).get(`/bulk-email/${job.id}/results?${query}`).set(as('alice'))).body.data.results.map(
        (r: { index: number }) => r.index,
      );
    expect(await filtered('delivery=BOUNCED')).toEqual([6, 8]);
    expect(await filtered('delivery=COMPLAINED,NONE')).toEqual([7, 9]);
    expect(await filtered('status=SUCCESS&delivery=DELIVERED&limit=2')).toEqual([0, 1]);

    const list = (await request(b.app).get('/bulk-email/suppressions').set(as('alice'))).body.data.suppressions;
    expect(list.map((s: { address: string; reason: string }) => `${s.address} ${s.reason}`)).toEqual([
      'user6@example.com BOUNCE',
      'user7@example.com COMPLAINT',
    ]);

    await ses.clear();
    const next = await request(a.app).post('/bulk-email').set(as('alice')).set('Prefer', 'wait=30').send(bulkBody(10));
    expect(next.body.data.counts).toMatchObject({ sent: 8, suppressed: 2 });
    const skipped = (
      await request(a.app).get(`/bulk-email/${next.body.data.id}/results?status=SUPPRESSED`).set(as('alice'))
    ).body.data.results;
    expect(skipped.map((r: { index: number; error: { code: string } }) => `${r.index} ${r.error.code}`)).toEqual([
      '6 SUPPRESSED_BOUNCE',
      '7 SUPPRESSED_COMPLAINT',
    ]);
    const mailed = (await ses.emails()).map((e) => e.destination.to[0]);
    expect(mailed).toHaveLength(8);
    expect(mailed).not.toContain('user6@example.com');
    expect(mailed).not.toContain('user7@example.com');
    // another principal's mail to the same addresses is not suppressed (lists are per principal)
    const bob = await request(b.app).post('/bulk-email').set(as('bob')).set('Prefer', 'wait=30').send(bulkBody(10));
    expect(bob.body.data.counts).toMatchObject({ sent: 10, suppressed: 0 });

    const reported = [...a.events, ...b.events].filter(
      (e) => e.type === 'entry.bounced' || e.type === 'entry.complained',
    );
    expect(reported.map((e) => `${e.type} ${(e as { index: number }).index}`).sort()).toEqual([
      'entry.bounced 6',
      'entry.bounced 8',
      'entry.complained 7',
    ]);
  });

  it('a principal whose hard bounces reach 5 % of 500 messages is paused at that event; another principal’s job completes', async () => {
    const web = instance();
    // A web instance whose queue other processes consume (none here): its jobs stay queued until paused.
    const parked = instance({ queue: parkedQueue(), worker: false });
    const sent = await send(web, 'mallory', 500);
    const waiting = await request(parked.app).post('/bulk-email').set(as('mallory')).send(bulkBody(50));
    expect(waiting.status).toBe(202);
    const jobStatus = async (id: string) =>
      (await request(web.app).get(`/bulk-email/${id}`).set(as('mallory'))).body.data;

    for (let i = 0; i < 24; i++) await snsPost(i % 2 ? parked : web, event('bounce-permanent', sent.messageId(i), i));
    expect(await jobStatus(waiting.body.data.id)).toMatchObject({ status: 'queued' });
    expect((await request(web.app).post('/bulk-email').set(as('mallory')).send(bulkBody(1))).status).toBe(202);

    await snsPost(parked, event('bounce-permanent', sent.messageId(24), 24));
    expect(await jobStatus(waiting.body.data.id)).toMatchObject({ status: 'paused', paused_reason: 'REPUTATION' });
    const refused = await request(web.app).post('/bulk-email').set(as('mallory')).send(bulkBody(1));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SENDING_PAUSED');
    const paused = [...web.events, ...parked.events].filter((e) => e.type === 'principal.paused');
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ principalId: 'mallory', reason: 'BOUNCE_RATE', bounceRate: 0.05, messages: 500 });

    // everyone else keeps sending
    await ses.clear();
    const other = await request(web.app)
      .post('/bulk-email')
      .set(as('trent'))
      .set('Prefer', 'wait=30')
      .send(bulkBody(60));
    expect(other.body.data).toMatchObject({ status: 'completed', counts: { sent: 60 } });
    expect(await ses.emails()).toHaveLength(60);

    const resumed = await web.router.resumePrincipal('mallory');
    expect(resumed.wasPaused).toBe(true);
    expect(resumed.jobIds).toContain(waiting.body.data.id);
    expect(await jobStatus(waiting.body.data.id)).toMatchObject({ status: 'queued' });
    expect((await request(parked.app).post('/bulk-email').set(as('mallory')).send(bulkBody(1))).status).toBe(202);
  });

  it('pausing stops a job that is sending; resuming finishes exactly the rest', async () => {
    const web = instance({ sendRate: 2000 });
    const slow = instance({ sendRate: 40, maxRecipientsPerCall: 2 });
    const sent = await send(web, 'mallory', 500);
    for (let i = 0; i < 24; i++) await snsPost(web, event('bounce-permanent', sent.messageId(i), i));
    await ses.clear();
    const job = (
      await request(slow.app)
        .post('/bulk-email')
        .set(as('mallory'))
        .send(bulkBody(120, { domain: 'late.example' }))
    ).body.data;
    // Its sends count as messages too: bounce until the rate is 5 % again (at most 30 bounces: 30 / (500 + 120))
    let bounces = 24;
    let status = 'sending';
    while (status !== 'paused') {
      expect(bounces).toBeLessThan(31);
      await snsPost(web, event('bounce-permanent', sent.messageId(bounces), bounces));
      bounces++;
      status = (await request(web.app).get(`/bulk-email/${job.id}`).set(as('mallory'))).body.data.status;
    }
    const atPause = (await ses.emails()).length;
    await new Promise((r) => setTimeout(r, 400));
    const later = (await ses.emails()).length;
    expect(later - atPause).toBeLessThanOrEqual(2); // a call in flight finishes
    expect(later).toBeLessThan(120);

    await slow.router.resumePrincipal('mallory');
    let view = { status: '', counts: { sent: 0 } };
    const deadline = Date.now() + 20_000;
    while (view.status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      view = (await request(slow.app).get(`/bulk-email/${job.id}`).set(as('mallory'))).body.data;
    }
    expect(view).toMatchObject({ status: 'completed', counts: { sent: 120 } });
    const mailed = (await ses.emails()).map((e) => e.destination.to[0]);
    expect(new Set(mailed).size).toBe(120);
    expect(mailed).toHaveLength(120);
  });

  it('router.ingest takes an EventBridge event (and an SQS body) for a message sent through another instance', async () => {
    const a = instance();
    const b = instance({ events: {} });
    const job = await send(a, 'alice', 2);
    expect(await b.router.ingest(eventBridge(event('bounce-permanent', job.messageId(0), 0)))).toEqual({
      outcome: 'recorded',
    });
    expect(await b.router.ingest(JSON.stringify(event('delivery', job.messageId(1), 1)))).toEqual({
      outcome: 'recorded',
    });
    expect(await b.router.ingest(eventBridge(event('delivery', 'someone-elses-message', 0)))).toEqual({
      outcome: 'ignored',
      reason: 'unknown message id',
    });
    const view = (await request(a.app).get(`/bulk-email/${job.id}`).set(as('alice'))).body.data;
    expect(view.counts).toMatchObject({ bounced: 1, delivered: 1 });
    const list = (await request(a.app).get('/bulk-email/suppressions').set(as('alice'))).body.data.suppressions;
    expect(list).toEqual([
      { address: 'user0@example.com', reason: 'BOUNCE', created_at: expect.any(String), message_id: job.messageId(0) },
    ]);
  });
});
