// Every route × {no credentials, another principal, the owner}, and the sender policy on all four identity fields.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';

/** A queue other processes would consume: here nobody does, so jobs stay unfinished (and cancelable). */
function parkedQueue(): Queue & { tasks: number } {
  const queue = {
    distributed: true,
    tasks: 0,
    enqueue: async (tasks: unknown[]) => {
      queue.tasks += tasks.length;
    },
    start: async () => {},
    close: async () => {},
  };
  return queue;
}

type Who = 'nobody' | 'other' | 'owner';
type Send = (app: HttpApp['app'], id: string, who: Who) => request.Test;

const as = (test: request.Test, who: Who) =>
  who === 'nobody' ? test : test.set('x-user', who === 'owner' ? 'alice' : 'mallory');

/**
 * Each route with what each caller gets. Job routes hide other principals' jobs (404, never 403). `raw`: the 200 is
 * not an envelope (the OpenAPI document).
 */
const ROUTES: { name: string; send: Send; expect: Record<Who, number>; raw?: true }[] = [
  {
    name: 'POST /',
    send: (app, _id, who) => as(request(app).post('/bulk-email'), who).send(bulkBody(2)),
    expect: { nobody: 401, other: 202, owner: 202 },
  },
  {
    name: 'GET /:id',
    send: (app, id, who) => as(request(app).get(`/bulk-email/${id}`), who),
    expect: { nobody: 401, other: 404, owner: 200 },
  },
  {
    name: 'HEAD /:id',
    send: (app, id, who) => as(request(app).head(`/bulk-email/${id}`), who),
    expect: { nobody: 401, other: 404, owner: 200 },
  },
  {
    name: 'GET /:id/results',
    send: (app, id, who) => as(request(app).get(`/bulk-email/${id}/results?limit=10`), who),
    expect: { nobody: 401, other: 404, owner: 200 },
  },
  {
    name: 'POST /:id/cancel',
    send: (app, id, who) => as(request(app).post(`/bulk-email/${id}/cancel`), who),
    expect: { nobody: 401, other: 404, owner: 200 },
  },
  {
    name: 'GET /openapi.json',
    send: (app, _id, who) => as(request(app).get('/bulk-email/openapi.json'), who),
    expect: { nobody: 401, other: 200, owner: 200 },
    raw: true,
  },
];

const CODES: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

describe('auth matrix: every route × no credentials / another principal / the owner', () => {
  let h: HttpApp;
  let queue: ReturnType<typeof parkedQueue>;
  beforeAll(() => {
    queue = parkedQueue();
    h = httpApp({ queue, worker: false });
  });
  afterAll(async () => {
    await h.close();
  });

  /** A fresh unfinished job of alice's (cancel ends a job, so each cell gets its own). */
  async function aliceJob(): Promise<string> {
    const res = await request(h.app).post('/bulk-email').set('x-user', 'alice').send(bulkBody(3)).expect(202);
    return res.body.data.id as string;
  }

  for (const route of ROUTES) {
    for (const who of ['nobody', 'other', 'owner'] as const) {
      const status = route.expect[who];
      it(`${route.name} as ${who} → ${status}`, async () => {
        const id = await aliceJob();
        const res = await route.send(h.app, id, who);
        expect(res.status, JSON.stringify(res.body)).toBe(status);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        if (route.name.startsWith('HEAD')) return; // no body on HEAD
        if (route.raw && status < 400) expect(res.body.openapi).toBe('3.1.0');
        else expect(res.body.success).toBe(status < 400);
        if (status >= 400) expect(res.body.error.code).toBe(CODES[status]);
        // The job is untouched by anyone but its owner.
        const job = (await request(h.app).get(`/bulk-email/${id}`).set('x-user', 'alice').expect(200)).body.data;
        expect(job.status).toBe(route.name === 'POST /:id/cancel' && who === 'owner' ? 'canceled' : 'queued');
      });
    }
  }

  it("another principal's 404 says nothing a made-up id would not (the job's existence is not confirmed)", async () => {
    const id = await aliceJob();
    const made = '00000000-0000-4000-8000-000000000000';
    for (const suffix of ['', '/results', '/cancel']) {
      const method = suffix === '/cancel' ? 'post' : 'get';
      const theirs = await request(h.app)[method](`/bulk-email/${id}${suffix}`).set('x-user', 'mallory').expect(404);
      const none = await request(h.app)[method](`/bulk-email/${made}${suffix}`).set('x-user', 'mallory').expect(404);
      expect(JSON.stringify(theirs.body).replaceAll(id, '<id>')).toBe(
        JSON.stringify(none.body).replaceAll(made, '<id>'),
      );
      expect(Object.keys(theirs.headers).sort()).toEqual(Object.keys(none.headers).sort());
    }
  });

  it('no credentials are checked before anything else: an invalid body or an unknown job still gets 401', async () => {
    const res = await request(h.app).post('/bulk-email').send({ nonsense: true }).expect(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    await request(h.app).get('/bulk-email/no-such-job/results?limit=0').expect(401);
    await request(h.app).post('/bulk-email?dry_run=true').send(bulkBody(1)).expect(401);
  });

  it('a job is visible to whoever created it, and to nobody else', async () => {
    const res = await request(h.app).get('/bulk-email/openapi.json').set('x-user', 'mallory').expect(200);
    expect(res.body.openapi).toMatch(/^3\.1/);
    const created = await request(h.app).post('/bulk-email').set('x-user', 'mallory').send(bulkBody(1)).expect(202);
    await request(h.app).get(`/bulk-email/${created.body.data.id}`).set('x-user', 'alice').expect(404);
    await request(h.app).get(`/bulk-email/${created.body.data.id}`).set('x-user', 'mallory').expect(200);
  });
});

describe('sender policy on From, FeedbackForwardingEmailAddress and both identity ARNs', () => {
  const ARN_OK = 'arn:aws:ses:us-east-1:123456789012:identity/example.com';
  const ARN_OTHER = 'arn:aws:ses:us-east-1:123456789012:identity/other.com';
  let h: HttpApp;
  let queue: ReturnType<typeof parkedQueue>;
  beforeAll(() => {
    queue = parkedQueue();
    h = httpApp({
      queue,
      worker: false,
      // alice: a domain, one address elsewhere, one ARN; bob: his own domain; anyone else: no restriction.
      senders: (principal) =>
        principal.id === 'alice'
          ? ['@example.com', 'Boss@Partner.com', ARN_OK]
          : principal.id === 'bob'
            ? ['@bob.example', ARN_OTHER]
            : undefined,
    });
  });
  afterAll(async () => {
    await h.close();
  });

  const post = (who: string, patch: Record<string, unknown>) =>
    request(h.app)
      .post('/bulk-email')
      .set('x-user', who)
      .send({ ...bulkBody(1, { from: 'sender@example.com' }), ...patch });

  const allowed: [string, Record<string, unknown>][] = [
    ['From, an address of an allowed domain', { FromEmailAddress: 'news@example.com' }],
    ['From, with a display name', { FromEmailAddress: 'News <news@example.com>' }],
    [
      'From, a display name that looks like another address',
      { FromEmailAddress: '"attacker@evil.com" <news@example.com>' },
    ],
    ['From, an allowed single address, in another case', { FromEmailAddress: 'BOSS@partner.COM' }],
    ['FeedbackForwardingEmailAddress of an allowed domain', { FeedbackForwardingEmailAddress: 'bounces@example.com' }],
    ['FromEmailAddressIdentityArn allowed', { FromEmailAddressIdentityArn: ARN_OK }],
    ['FeedbackForwardingEmailAddressIdentityArn allowed', { FeedbackForwardingEmailAddressIdentityArn: ARN_OK }],
    [
      'all four allowed at once',
      {
        FromEmailAddress: 'a@example.com',
        FeedbackForwardingEmailAddress: 'boss@partner.com',
        FromEmailAddressIdentityArn: ARN_OK,
        FeedbackForwardingEmailAddressIdentityArn: ARN_OK,
      },
    ],
  ];
  for (const [name, patch] of allowed) {
    it(`allowed: ${name} → 202`, async () => {
      const res = await post('alice', patch);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    });
  }

  const refused: [string, Record<string, unknown>, string[]][] = [
    ['From of another domain', { FromEmailAddress: 'ceo@evil.com' }, ['/FromEmailAddress']],
    [
      'From whose display name mimics an allowed address',
      { FromEmailAddress: '"news@example.com" <ceo@evil.com>' },
      ['/FromEmailAddress'],
    ],
    ['From of a subdomain of an allowed domain', { FromEmailAddress: 'x@mail.example.com' }, ['/FromEmailAddress']],
    ['From of a look-alike domain', { FromEmailAddress: 'x@example.com.evil.com' }, ['/FromEmailAddress']],
    [
      "From, another address of the single-address rule's domain",
      { FromEmailAddress: 'intern@partner.com' },
      ['/FromEmailAddress'],
    ],
    [
      'FeedbackForwardingEmailAddress of another domain',
      { FeedbackForwardingEmailAddress: 'bounces@evil.com' },
      ['/FeedbackForwardingEmailAddress'],
    ],
    [
      'FromEmailAddressIdentityArn not allowed',
      { FromEmailAddressIdentityArn: ARN_OTHER },
      ['/FromEmailAddressIdentityArn'],
    ],
    [
      'FeedbackForwardingEmailAddressIdentityArn not allowed',
      { FeedbackForwardingEmailAddressIdentityArn: ARN_OTHER },
      ['/FeedbackForwardingEmailAddressIdentityArn'],
    ],
    [
      'an ARN differing only in case',
      { FromEmailAddressIdentityArn: ARN_OK.toUpperCase() },
      ['/FromEmailAddressIdentityArn'],
    ],
    [
      'all four refused: every one listed',
      {
        FromEmailAddress: 'a@evil.com',
        FeedbackForwardingEmailAddress: 'b@evil.com',
        FromEmailAddressIdentityArn: ARN_OTHER,
        FeedbackForwardingEmailAddressIdentityArn: ARN_OTHER,
      },
      [
        '/FromEmailAddress',
        '/FeedbackForwardingEmailAddress',
        '/FromEmailAddressIdentityArn',
        '/FeedbackForwardingEmailAddressIdentityArn',
      ],
    ],
  ];
  for (const [name, patch, paths] of refused) {
    it(`refused: ${name} → 403 FORBIDDEN, no job`, async () => {
      const before = queue.tasks;
      const res = await post('alice', patch);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(paths);
      expect(queue.tasks).toBe(before);
    });
  }

  it("the policy is per principal: bob may not use alice's identities, nor she his", async () => {
    await post('bob', { FromEmailAddress: 'me@bob.example', FromEmailAddressIdentityArn: ARN_OTHER }).expect(202);
    await post('bob', { FromEmailAddress: 'news@example.com' }).expect(403);
    await post('bob', { FromEmailAddress: 'me@bob.example', FromEmailAddressIdentityArn: ARN_OK }).expect(403);
    await post('alice', { FromEmailAddress: 'me@bob.example' }).expect(403);
    // senders() returning undefined puts no restriction.
    await post('carol', { FromEmailAddress: 'anyone@anywhere.example', FromEmailAddressIdentityArn: ARN_OTHER }).expect(
      202,
    );
  });

  it('without credentials a refused sender is still 401, not 403', async () => {
    const res = await request(h.app)
      .post('/bulk-email')
      .send({ ...bulkBody(1), FromEmailAddress: 'ceo@evil.com' })
      .expect(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });
});
