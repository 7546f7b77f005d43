// Delivery feedback over HTTP: POST /events/sns mounted, results with delivery and filters, the suppression routes,
// the suppression list and SENDING_PAUSED in the accept path, one-click unsubscribes feeding the list.
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory-store.js';
import type { BulkEmailEvent, BulkEmailOptions, Principal } from '../../src/types.js';
import { unsubscribeTokens } from '../../src/unsubscribe/token.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { sesEvent } from '../helpers/ses-events.js';
import {
  CERT_URL,
  TOPIC_ARN,
  type TestAuthority,
  confirmation,
  createTestAuthority,
  notification,
  signSns,
  snsBody,
} from '../helpers/sns-signer.js';

let auth: TestAuthority;
beforeAll(() => {
  auth = createTestAuthority();
});

const apps: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

interface Options {
  events?: BulkEmailEvent[];
  confirmed?: string[];
  extra?: Partial<BulkEmailOptions<Principal>>;
}

function app(options: Options = {}): HttpApp {
  const h = httpApp({
    events: {
      sns: {
        topicArns: [TOPIC_ARN],
        fetchCertificate: async (url) => {
          if (url !== CERT_URL) throw new Error('not found');
          return auth.certPem;
        },
        confirmSubscription: async (url) => {
          options.confirmed?.push(url);
        },
      },
    },
    onEvent: (e) => options.events?.push(e),
    ...options.extra,
  });
  apps.push(h);
  return h;
}

const as = (who: string) => ({ 'x-user': who });

/** Posts an SES event to POST /events/sns as SNS does: signed (version 2), text/plain. */
function postSns(h: HttpApp, message: unknown) {
  const body = snsBody(signSns(notification(message, Date.now()), auth.keyPem));
  return request(h.app).post('/bulk-email/events/sns').set('Content-Type', 'text/plain; charset=UTF-8').send(body);
}

/** Creates a job and waits for it to finish. */
async function finishedJob(h: HttpApp, who: string, body: object) {
  const res = await request(h.app).post('/bulk-email').set(as(who)).set('Prefer', 'wait=30').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as { id: string; counts: Record<string, number> };
}

async function results(h: HttpApp, who: string, jobId: string, query: Record<string, string> = {}) {
  const res = await request(h.app).get(`/bulk-email/${jobId}/results`).query(query).set(as(who));
  return res;
}

describe('POST /events/sns', () => {
  it('ingests a signed SES event for a message this router sent: results, counts, the list, onEvent', async () => {
    const events: BulkEmailEvent[] = [];
    const h = app({ events });
    const job = await finishedJob(h, 'alice', bulkBody(3));
    const page = (await results(h, 'alice', job.id)).body.data.results;
    expect(page.map((r: { recipients: string[] }) => r.recipients)).toEqual([
      ['user0@example.com'],
      ['user1@example.com'],
      ['user2@example.com'],
    ]);
    const [m0, m1] = page.map((r: { message_id: string }) => r.message_id);

    const delivered = await postSns(h, sesEvent('delivery', { messageId: m0, recipients: ['user0@example.com'] }));
    expect(delivered.status).toBe(200);
    expect(delivered.body.data).toMatchObject({ type: 'Notification', duplicate: false });
    await postSns(h, sesEvent('bounce-permanent', { messageId: m1, recipients: ['user1@example.com'] }));

    const after = (await results(h, 'alice', job.id)).body.data.results;
    expect(after[0]).toMatchObject({
      delivery: { status: 'DELIVERED', detail: { smtp_response: expect.any(String) } },
    });
    expect(after[1]).toMatchObject({
      delivery: { status: 'BOUNCED', detail: { bounce_type: 'Permanent', bounce_sub_type: 'General' } },
      opened: 0,
      clicked: 0,
    });
    expect(after[2].delivery).toBeUndefined();
    const view = (await request(h.app).get(`/bulk-email/${job.id}`).set(as('alice'))).body.data;
    expect(view.counts).toEqual({
      sent: 3,
      failed: 0,
      pending: 0,
      canceled: 0,
      suppressed: 0,
      unknown: 0,
      delivered: 1,
      bounced: 1,
      complained: 0,
    });
    const list = await request(h.app).get('/bulk-email/suppressions').set(as('alice'));
    expect(list.body.data.suppressions).toEqual([
      { address: 'user1@example.com', reason: 'BOUNCE', created_at: expect.any(String), message_id: m1 },
    ]);
    expect(events.filter((e) => e.type.startsWith('entry.')).map((e) => e.type)).toEqual([
      'entry.delivery',
      'entry.delivery',
      'entry.bounced',
    ]);
  });

  it('answers 403 to an unsigned message and 405 to other methods, without authenticate', async () => {
    const h = app();
    const unsigned = await request(h.app)
      .post('/bulk-email/events/sns')
      .set('Content-Type', 'text/plain')
      .send(snsBody(notification(sesEvent('delivery', { messageId: 'm', recipients: ['a@x.org'] }), Date.now())));
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.error.code).toBe('INVALID_SIGNATURE');
    const get = await request(h.app).get('/bulk-email/events/sns');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('confirms a listed topic’s subscription, never an unlisted one', async () => {
    const confirmed: string[] = [];
    const h = app({ confirmed });
    const post = (fields: Record<string, string | null | undefined>) =>
      request(h.app)
        .post('/bulk-email/events/sns')
        .set('Content-Type', 'text/plain')
        .send(snsBody(signSns(fields, auth.keyPem)));
    const listed = confirmation(Date.now());
    expect((await post(listed)).status).toBe(200);
    const other = confirmation(Date.now(), 'arn:aws:sns:us-east-1:999999999999:attacker');
    expect((await post(other)).status).toBe(403);
    await new Promise((r) => setTimeout(r, 50));
    expect(confirmed).toEqual([listed.SubscribeURL]);
  });

  it('is not mounted without events.sns (router.ingest still works)', async () => {
    const h = httpApp();
    apps.push(h);
    const stack = (h.router as unknown as { stack: { route?: { path: string } }[] }).stack;
    expect(stack.some((layer) => layer.route?.path === '/events/sns')).toBe(false);
    expect(await h.router.ingest({ eventType: 'Delivery' })).toMatchObject({ outcome: 'ignored' });
  });

  it('acknowledges a MessageId another router sharing the store already took (duplicate, ingested once)', async () => {
    const store = memoryStore();
    const events: BulkEmailEvent[] = [];
    const a = app({ events, extra: { store } });
    const b = app({ events, extra: { store } });
    const job = await finishedJob(a, 'alice', bulkBody(1));
    const [r0] = (await results(a, 'alice', job.id)).body.data.results;
    const body = snsBody(
      signSns(
        notification(sesEvent('open', { messageId: r0.message_id, recipients: ['user0@example.com'] }), Date.now()),
        auth.keyPem,
      ),
    );
    const send = (h: HttpApp) =>
      request(h.app).post('/bulk-email/events/sns').set('Content-Type', 'text/plain').send(body);
    expect((await send(a)).body.data.duplicate).toBe(false);
    expect((await send(b)).body.data.duplicate).toBe(true);
    expect((await results(b, 'alice', job.id)).body.data.results[0].opened).toBe(1);
  });
});

describe('GET /:id/results filters', () => {
  it('filters by status and delivery (comma lists, repeated parameters), refuses unknown values naming them', async () => {
    const h = app();
    const body = bulkBody(4);
    const job = await finishedJob(h, 'alice', body);
    const all = (await results(h, 'alice', job.id)).body.data.results;
    await postSns(h, sesEvent('bounce-permanent', { messageId: all[1].message_id, recipients: ['user1@example.com'] }));
    await postSns(h, sesEvent('complaint', { messageId: all[2].message_id, recipients: ['user2@example.com'] }));
    await postSns(h, sesEvent('delivery', { messageId: all[3].message_id, recipients: ['user3@example.com'] }));

    const indexes = async (query: Record<string, string>) =>
      (await results(h, 'alice', job.id, query)).body.data.results.map((r: { index: number }) => r.index);
    expect(await indexes({ delivery: 'BOUNCED,COMPLAINED' })).toEqual([1, 2]);
    expect(await indexes({ delivery: 'none' })).toEqual([0]);
    expect(await indexes({ status: 'SUCCESS', delivery: 'DELIVERED' })).toEqual([3]);
    expect(await indexes({ status: 'FAILED' })).toEqual([]);
    const repeated = await request(h.app)
      .get(`/bulk-email/${job.id}/results?delivery=BOUNCED&delivery=DELIVERED&limit=1`)
      .set(as('alice'));
    expect(repeated.body.data.results.map((r: { index: number }) => r.index)).toEqual([1]);
    const next = await results(h, 'alice', job.id, {
      delivery: 'BOUNCED,DELIVERED',
      limit: '1',
      cursor: repeated.body.data.next_cursor,
    });
    expect(next.body.data.results.map((r: { index: number }) => r.index)).toEqual([3]);
    expect(next.body.data.next_cursor).toBeNull();

    for (const [name, value] of [
      ['status', 'SENT'],
      ['delivery', 'OPENED'],
      ['status', 'SUCCESS,'],
    ]) {
      const res = await results(h, 'alice', job.id, { [name]: value });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[0].path).toBe(`/${name}`);
    }
  });
});

describe('suppression list routes', () => {
  it('PUT adds (idempotent), GET pages in address order, DELETE removes (idempotent), per principal', async () => {
    const h = app();
    for (const address of ['c@example.com', 'A@Example.com', 'b@example.com']) {
      const res = await request(h.app)
        .put(`/bulk-email/suppressions/${encodeURIComponent(address)}`)
        .set(as('alice'));
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ address: address.toLowerCase(), reason: 'MANUAL' });
    }
    const again = await request(h.app).put('/bulk-email/suppressions/a@example.com').set(as('alice'));
    expect(again.status).toBe(200);

    const first = await request(h.app).get('/bulk-email/suppressions?limit=2').set(as('alice'));
    expect(first.body.data.suppressions.map((s: { address: string }) => s.address)).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    const second = await request(h.app)
      .get('/bulk-email/suppressions')
      .query({ limit: 2, cursor: first.body.data.next_cursor })
      .set(as('alice'));
    expect(second.body.data).toMatchObject({ suppressions: [{ address: 'c@example.com' }], next_cursor: null });
    expect((await request(h.app).get('/bulk-email/suppressions').set(as('bob'))).body.data.suppressions).toEqual([]);

    const removed = await request(h.app).delete('/bulk-email/suppressions/B@example.com').set(as('alice'));
    expect(removed.body.data).toEqual({ address: 'b@example.com', removed: true });
    const gone = await request(h.app).delete('/bulk-email/suppressions/b@example.com').set(as('alice'));
    expect(gone.body.data).toEqual({ address: 'b@example.com', removed: false });
  });

  it('refuses a bad address or cursor (400), anyone without credentials (401), other methods (405)', async () => {
    const h = app();
    for (const bad of ['not-an-address', 'Jane%20%3Cjane%40example.com%3E', `${'x'.repeat(320)}%40example.com`]) {
      const res = await request(h.app).put(`/bulk-email/suppressions/${bad}`).set(as('alice'));
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].path).toBe('/address');
    }
    const cursor = await request(h.app).get('/bulk-email/suppressions?cursor=aaaa').set(as('alice'));
    expect(cursor.status).toBe(400);
    expect((await request(h.app).get('/bulk-email/suppressions')).status).toBe(401);
    expect((await request(h.app).put('/bulk-email/suppressions/a@example.com')).status).toBe(401);
    const post = await request(h.app).post('/bulk-email/suppressions').set(as('alice'));
    expect(post.status).toBe(405);
    const get = await request(h.app).get('/bulk-email/suppressions/a@example.com').set(as('alice'));
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('PUT, DELETE');
  });
});

describe('the suppression list in the accept path', () => {
  it('ends entries whose every recipient is listed SUPPRESSED with the reason, sends the rest', async () => {
    const h = app({ extra: { suppress: (addresses) => addresses.filter((a) => a.startsWith('hook')) } });
    await request(h.app).put('/bulk-email/suppressions/user0@example.com').set(as('alice'));
    await request(h.app).put('/bulk-email/suppressions/cc2@example.com').set(as('alice'));
    const body = bulkBody(3, { cc: true });
    body.BulkEmailEntries[0].Destination.CcAddresses = ['USER0@Example.com'];
    body.BulkEmailEntries[1].Destination = { ToAddresses: ['hook1@example.com'] };
    const job = await finishedJob(h, 'alice', body);
    expect(job.counts).toMatchObject({ sent: 1, suppressed: 2 });
    const page = (await results(h, 'alice', job.id)).body.data.results;
    expect(page[0]).toMatchObject({ status: 'SUPPRESSED', error: { code: 'SUPPRESSED_MANUAL' } });
    expect(page[0].recipients).toEqual(['user0@example.com', 'USER0@Example.com']);
    expect(page[1]).toMatchObject({ status: 'SUPPRESSED', error: { code: 'SUPPRESSED' } });
    expect(page[2]).toMatchObject({ status: 'SUCCESS', recipients: ['user2@example.com'] });
    expect(h.calls.flatMap((c) => c.BulkEmailEntries ?? [])).toEqual([
      expect.objectContaining({ Destination: { ToAddresses: ['user2@example.com'] } }),
    ]);
    // bob's list is his own
    const bob = await finishedJob(h, 'bob', bulkBody(1));
    expect(bob.counts).toMatchObject({ sent: 1, suppressed: 0 });
  });

  it('a one-click unsubscribe puts the address on the principal’s list', async () => {
    const secret = 'a-very-secret-secret-of-32-chars';
    const h = app({
      extra: { unsubscribe: { secret, url: 'https://mail.example/bulk-email/unsubscribe', onUnsubscribe() {} } },
    });
    const token = unsubscribeTokens(secret).sign({
      address: 'Reader <Reader@Example.com>',
      jobId: 'job',
      principalId: 'alice',
      expiresAt: Date.now() + 60_000,
    });
    const res = await request(h.app)
      .post(`/bulk-email/unsubscribe/${token}`)
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    const list = await request(h.app).get('/bulk-email/suppressions').set(as('alice'));
    expect(list.body.data.suppressions).toEqual([
      { address: 'reader@example.com', reason: 'UNSUBSCRIBE', created_at: expect.any(String) },
    ]);
  });
});

describe('SENDING_PAUSED', () => {
  it('answers 409 to a paused principal’s new jobs until router.resumePrincipal, others are served', async () => {
    const store = memoryStore();
    const h = app({ extra: { store } });
    await store.setPrincipalPause('alice', {
      reason: 'BOUNCE_RATE',
      at: new Date().toISOString(),
      bounceRate: 0.06,
      complaintRate: 0,
      messages: 600,
    });
    const refused = await request(h.app).post('/bulk-email').set(as('alice')).send(bulkBody(1));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'SENDING_PAUSED',
      details: { reason: 'BOUNCE_RATE', bounce_rate: 0.06, messages: 600 },
    });
    expect(refused.body.error.message).toContain('6.00 %');
    expect((await request(h.app).post('/bulk-email').set(as('bob')).send(bulkBody(1))).status).toBe(202);
    expect(await h.router.resumePrincipal('alice')).toEqual({ wasPaused: true, jobIds: [] });
    expect((await request(h.app).post('/bulk-email').set(as('alice')).send(bulkBody(1))).status).toBe(202);
  });
});

describe('options', () => {
  it('refuses a bad suppression option and events.sns in createWorker, saying how to fix them', () => {
    expect(() => httpApp({ suppression: { scope: 'global' as never } })).toThrow(/suppression.scope/);
    expect(() => httpApp({ suppression: { maxAddresses: 0 } })).toThrow(/suppression.maxAddresses/);
    expect(() => httpApp({ guard: { bounceRate: 5 } })).toThrow(/guard.bounceRate/);
    expect(() =>
      createWorker({
        store: memoryStore(),
        queue: { distributed: true } as never,
        events: { sns: { topicArns: [TOPIC_ARN] } },
      }),
    ).toThrow(/events.sns belongs to bulkEmail/);
  });
});
