// Every route × {no credentials, another principal, the owner}, the sender policy on all four identity fields, and the
// resources policy on templates, configuration sets, tenants and endpoints.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { parkedQueue } from '../helpers/parked-queue.js';

/** A queue other processes would consume: here nobody does, so jobs stay unfinished (and cancelable). */
function countingQueue(): Queue & { tasks: number } {
  const queue = Object.assign(
    parkedQueue((work) => {
      queue.tasks += work.tasks.length;
    }),
    { tasks: 0 },
  );
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
  let queue: ReturnType<typeof countingQueue>;
  beforeAll(() => {
    queue = countingQueue();
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
  let queue: ReturnType<typeof countingQueue>;
  beforeAll(() => {
    queue = countingQueue();
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

describe('resources policy on templates, configuration sets, tenants and endpoints', () => {
  const ARN = 'arn:aws:ses:us-east-1:123456789012:template/welcome';
  let h: HttpApp;
  let queue: ReturnType<typeof countingQueue>;
  let lookups: string[];
  beforeAll(async () => {
    const { GetEmailTemplateCommand } = await import('@aws-sdk/client-sesv2');
    queue = countingQueue();
    lookups = [];
    h = httpApp({
      queue,
      worker: false,
      // alice: two templates (one by ARN), one configuration set, any tenant, no endpoint; bob: anything;
      // carol: no restriction at all (the hook gives nothing).
      resources: (principal) =>
        principal.id === 'alice'
          ? { templates: ['welcome', 'payroll', ARN], configurationSets: ['alice-set'], tenants: '*' }
          : principal.id === 'bob'
            ? { templates: '*', configurationSets: ['*'], tenants: '*', endpoints: '*' }
            : principal.id === 'carol'
              ? undefined
              : { templates: ['welcome'] },
    });
    // alice's stored "payroll" template exists (and uses variables); nothing else does.
    h.mock.on(GetEmailTemplateCommand).callsFake((input: { TemplateName: string }) => {
      lookups.push(input.TemplateName);
      if (input.TemplateName === 'payroll') {
        return { TemplateContent: { Subject: 'Pay', Text: 'Hi {{employee_name}}, {{net_salary}} to {{iban}}' } };
      }
      if (input.TemplateName === 'welcome') return { TemplateContent: { Subject: 'Hi', Text: 'Hi {{name}}' } };
      throw Object.assign(new Error('not found'), { name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    });
  });
  afterAll(async () => {
    await h.close();
  });

  const post = (who: string, patch: Record<string, unknown>, template?: Record<string, unknown>) => {
    const body = bulkBody(1, template ? { template: { TemplateData: '{"name":"x","code":"y"}', ...template } } : {});
    const req = request(h.app).post('/bulk-email');
    return (who === 'nobody' ? req : req.set('x-user', who)).send({ ...body, ...patch });
  };

  const allowed: [string, string, Record<string, unknown>, Record<string, unknown>?][] = [
    ['an inline template names no resource', 'alice', {}],
    ['a listed template by name', 'alice', {}, { TemplateName: 'welcome' }],
    ['a listed template by ARN', 'alice', {}, { TemplateArn: ARN }],
    ['a listed configuration set', 'alice', { ConfigurationSetName: 'alice-set' }],
    ['any tenant with "*"', 'alice', { TenantName: 'anything' }],
    ["'*' and ['*'] allow every kind", 'bob', { ConfigurationSetName: 'x', TenantName: 't', EndpointId: 'e.f' }],
    ['no grants from the hook: no restriction', 'carol', { ConfigurationSetName: 'any', EndpointId: 'a.b' }],
  ];
  for (const [name, who, patch, template] of allowed) {
    it(`allowed: ${name} → 202`, async () => {
      const res = await post(who, patch, template);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    });
  }

  const refused: [string, string, Record<string, unknown>, Record<string, unknown> | undefined, string[]][] = [
    ['a template not listed', 'alice', {}, { TemplateName: 'other' }, ['/DefaultContent/Template/TemplateName']],
    [
      'an ARN of a listed name in another account',
      'alice',
      {},
      { TemplateArn: 'arn:aws:ses:us-east-1:999999999999:template/welcome' },
      ['/DefaultContent/Template/TemplateArn'],
    ],
    [
      'a configuration set not listed',
      'alice',
      { ConfigurationSetName: 'bob-set' },
      undefined,
      ['/ConfigurationSetName'],
    ],
    ['an endpoint when the grants leave endpoints out', 'alice', { EndpointId: 'abc.def' }, undefined, ['/EndpointId']],
    [
      'every refused field listed',
      'mallory',
      { ConfigurationSetName: 's', TenantName: 't', EndpointId: 'e.f' },
      { TemplateName: 'payroll' },
      ['/DefaultContent/Template/TemplateName', '/ConfigurationSetName', '/TenantName', '/EndpointId'],
    ],
  ];
  for (const [name, who, patch, template, paths] of refused) {
    it(`refused: ${name} → 403 FORBIDDEN naming the field, no job`, async () => {
      const before = queue.tasks;
      const res = await post(who, patch, template);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(paths);
      expect(queue.tasks).toBe(before);
    });
  }

  it("another principal naming alice's stored template learns nothing: no lookup, the same answer as for no template", async () => {
    lookups.length = 0;
    const theirs = await post('mallory', {}, { TemplateName: 'payroll' }).expect(403);
    const none = await post('mallory', {}, { TemplateName: 'no-such-template' }).expect(403);
    expect(lookups).toEqual([]);
    expect(JSON.stringify(theirs.body).replaceAll('payroll', '<name>')).toBe(
      JSON.stringify(none.body).replaceAll('no-such-template', '<name>'),
    );
    expect(JSON.stringify(theirs.body)).not.toMatch(/employee_name|net_salary|iban/);
    // alice herself gets her template checked as usual
    const own = await post('alice', {}, { TemplateName: 'payroll' }).expect(400);
    expect(JSON.stringify(own.body.error.details)).toContain('employee_name');
    expect(lookups).toEqual(['payroll']);
  });

  it('without credentials a refused resource is still 401, not 403', async () => {
    const res = await post('nobody', { ConfigurationSetName: 'bob-set' }).expect(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });
});
