// The app's hooks: order, refusals and their codes, sender policy, suppression, template resolution.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { forbidden, rateLimited, templateNotFound, validationError } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type HttpApp, httpApp } from '../helpers/http-app.js';
import { parkedQueue } from '../helpers/parked-queue.js';

describe('hooks', () => {
  let h: HttpApp;
  afterEach(async () => {
    await h.close();
  });

  it('run in order authenticate → validate → authorize → senders → resolveTemplate → suppress', async () => {
    const order: string[] = [];
    h = httpApp({
      authenticate: (req) => {
        order.push('authenticate');
        return { id: req.get('x-user') ?? 'x' };
      },
      validate: () => void order.push('validate'),
      authorize: () => {
        order.push('authorize');
        return true;
      },
      senders: () => {
        order.push('senders');
        return undefined;
      },
      resolveTemplate: (t) => {
        order.push('resolveTemplate');
        return t;
      },
      suppress: () => {
        order.push('suppress');
        return [];
      },
    });
    await request(h.app).post('/bulk-email').send(bulkBody(2)).expect(202);
    expect(order).toEqual(['authenticate', 'validate', 'authorize', 'senders', 'resolveTemplate', 'suppress']);
  });

  it('validate → 400 VALIDATION_ERROR with the app details; nothing stored', async () => {
    h = httpApp({
      validate: () => {
        throw validationError([{ path: '/ConfigurationSetName', message: 'pick a set' }]);
      },
    });
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ path: '/ConfigurationSetName', message: 'pick a set' }],
    });
    expect(h.calls).toHaveLength(0);
  });

  it('authorize false or forbidden() → 403; another throw → 500', async () => {
    h = httpApp({ authorize: ({ principal }) => principal.id === 'ok' });
    await request(h.app).post('/bulk-email').set('x-user', 'no').send(bulkBody(1)).expect(403);
    await request(h.app).post('/bulk-email').set('x-user', 'ok').send(bulkBody(1)).expect(202);
    await h.close();
    h = httpApp({
      authorize: () => {
        throw forbidden('not on Sundays');
      },
    });
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(403);
    expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', message: 'not on Sundays' });
    await h.close();
    h = httpApp({
      authorize: () => {
        throw new Error('oops');
      },
    });
    await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(500);
  });

  it('rateLimited() from a hook → 429 with Retry-After', async () => {
    h = httpApp({
      validate: () => {
        throw rateLimited(12);
      },
    });
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(429);
    expect(res.headers['retry-after']).toBe('12');
    expect(res.body.error.code).toBe('RATE_LIMITED');
  });

  it('senders policy covers From, feedback address and both identity ARNs', async () => {
    h = httpApp({ senders: () => ['@example.com', 'boss@other.com', 'arn:aws:ses:us-east-1:1:identity/example.com'] });
    const post = (patch: object) =>
      request(h.app)
        .post('/bulk-email')
        .set('x-user', 'a')
        .send({ ...bulkBody(1), ...patch });
    await post({}).expect(202);
    await post({ FromEmailAddress: 'Boss <boss@other.com>' }).expect(202);
    const bad = await post({ FromEmailAddress: 'x@evil.com' }).expect(403);
    expect(bad.body.error.details[0].path).toBe('/FromEmailAddress');
    await post({ FeedbackForwardingEmailAddress: 'fb@evil.com' }).expect(403);
    await post({ FeedbackForwardingEmailAddress: 'fb@example.com' }).expect(202);
    await post({ FromEmailAddressIdentityArn: 'arn:aws:ses:us-east-1:1:identity/example.com' }).expect(202);
    await post({ FromEmailAddressIdentityArn: 'arn:aws:ses:us-east-1:1:identity/evil.com' }).expect(403);
    await post({ FeedbackForwardingEmailAddressIdentityArn: 'arn:aws:ses:us-east-1:1:identity/evil.com' }).expect(403);
  });

  it('resolveTemplate null or templateNotFound() → 422 TEMPLATE_NOT_FOUND', async () => {
    h = httpApp({ resolveTemplate: (t) => (t.TemplateName === 'known' ? { ...t } : null) });
    const body = bulkBody(1, { template: { TemplateName: 'missing' } });
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(422);
    expect(res.body.error.code).toBe('TEMPLATE_NOT_FOUND');
    await h.close();
    h = httpApp({
      resolveTemplate: (t) => {
        throw templateNotFound(t.TemplateName ?? '?');
      },
    });
    await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(422);
    expect(h.calls).toHaveLength(0);
  });

  it('strict render check: SES refusing GetEmailTemplate → 502 SES_ERROR with ses_code; permissive sends anyway', async () => {
    const { GetEmailTemplateCommand } = await import('@aws-sdk/client-sesv2');
    const denied = Object.assign(new Error('User is not authorized to perform ses:GetEmailTemplate'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403, requestId: 'secret-request-id' },
    });
    const body = bulkBody(2, { template: { TemplateName: 'stored', TemplateData: '{}' } });
    h = httpApp();
    h.mock.on(GetEmailTemplateCommand).rejects(denied);
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(502);
    expect(res.body.error).toMatchObject({ code: 'SES_ERROR', details: { ses_code: 'AccessDeniedException' } });
    expect(JSON.stringify(res.body)).not.toContain('secret-request-id');
    expect(h.calls).toHaveLength(0);
    await h.close();
    h = httpApp({ renderCheck: 'permissive' });
    h.mock.on(GetEmailTemplateCommand).rejects(denied);
    await request(h.app).post('/bulk-email').set('x-user', 'a').send(body).expect(202);
  });

  it('suppressed addresses are never sent; entries with nobody left end SUPPRESSED', async () => {
    h = httpApp({ suppress: (addresses) => addresses.filter((a) => /^(user1|cc2)@/i.test(a)) });
    const body = bulkBody(3, { cc: true });
    body.BulkEmailEntries[1].Destination = { ToAddresses: ['USER1@example.com'] };
    const res = await request(h.app)
      .post('/bulk-email')
      .set('x-user', 'a')
      .set('Prefer', 'wait=5')
      .send(body)
      .expect(200);
    expect(res.body.data.counts).toMatchObject({ sent: 2, failed: 1, suppressed: 1, pending: 0 });
    const sent = h.calls.flatMap(
      (c) => c.BulkEmailEntries as { Destination: { ToAddresses: string[]; CcAddresses?: string[] } }[],
    );
    expect(sent.map((e) => e.Destination.ToAddresses[0])).toEqual(['user0@example.com', 'user2@example.com']);
    expect(sent[1].Destination.CcAddresses).toBeUndefined();
    const results = await request(h.app).get(`/bulk-email/${res.body.data.id}/results`).set('x-user', 'a').expect(200);
    expect(results.body.data.results.map((r: { status: string }) => r.status)).toEqual([
      'SUCCESS',
      'SUPPRESSED',
      'SUCCESS',
    ]);
  });

  it('maxActiveJobs → 429 RATE_LIMITED with Retry-After', async () => {
    h = httpApp({ maxActiveJobs: 1, sendRate: 1 });
    // Two calls at 1/s: the second waits 50 s, so the job stays unfinished.
    await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(60)).expect(202);
    const res = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(1)).expect(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    await request(h.app).post('/bulk-email').set('x-user', 'b').send(bulkBody(1)).expect(202);
  });

  it('maxQueuedRecipients → 429 while the principal has that many queued; a job over it on its own → 429 saying to split it', async () => {
    // Nobody consumes the queue, so the first job stays queued (the engine would send 8 recipients in one call at once).
    h = httpApp({ maxQueuedRecipients: 10, queue: parkedQueue(), worker: false });
    await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(8)).expect(202);
    const busy = await request(h.app).post('/bulk-email').set('x-user', 'a').send(bulkBody(3)).expect(429);
    expect(busy.body.error.code).toBe('RATE_LIMITED');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    await request(h.app).post('/bulk-email').set('x-user', 'b').send(bulkBody(3)).expect(202);
    const never = await request(h.app).post('/bulk-email').set('x-user', 'c').send(bulkBody(11)).expect(429);
    expect(never.body.error.code).toBe('RATE_LIMITED');
    expect(never.body.error.message).toMatch(
      /11 recipients, more than one principal may have queued at once.*split it/,
    );
    await request(h.app).post('/bulk-email?dry_run=true').set('x-user', 'c').send(bulkBody(11)).expect(429);
  });
});

describe('building the router', () => {
  it('refuses to build without authenticate, with unknown options, or a broken store', async () => {
    const { bulkEmail } = await import('../../src/index.js');
    // @ts-expect-error authenticate is required
    expect(() => bulkEmail({})).toThrow(/authenticate/);
    // @ts-expect-error unknown option
    expect(() => bulkEmail({ authenticate: () => null, sendrate: 3 })).toThrow(/unknown option "sendrate"/);
    // @ts-expect-error not a store
    expect(() => bulkEmail({ authenticate: () => null, store: { getJob() {} } })).toThrow(/store/);
    expect(() => bulkEmail({ authenticate: () => null, sendRate: -1 })).toThrow(/sendRate/);
  });
});
