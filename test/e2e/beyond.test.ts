// Beyond the peers, end to end: dry run, quota-aware admission, pre-flight render check, one-click unsubscribe.
import { CreateEmailTemplateCommand } from '@aws-sdk/client-sesv2';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkEmail, type BulkEmailOptions, type Principal } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { emulatorAccount as account, sesEmulatorForSuite } from '../helpers/ses-emulator.js';

describe('beyond the peers', () => {
  const ses = sesEmulatorForSuite();
  let proxy: FaultProxy;
  const routers: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    proxy = await startFaultProxy(ses.url);
  });
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    await proxy.close();
    delete process.env.AWS_SES_ACCOUNT;
  });

  function app(options: Partial<BulkEmailOptions<Principal>> = {}) {
    const router = bulkEmail({
      ses: ses.client({ endpoint: proxy.url }),
      sendRate: 200,
      authenticate: () => ({ id: 'p1' }),
      ...options,
    });
    routers.push(router);
    return express().use('/bulk-email', router);
  }

  it('dry run makes no SES call, and its plan is what the real run then does', async () => {
    const a = app({ sendRate: 400, suppress: (addresses) => addresses.filter((x) => x === 'user7@example.com') });
    const body = bulkBody(130);
    const dry = await request(a).post('/bulk-email?dry_run=true').send(body).expect(200);
    expect(dry.body.success).toBe(true);
    const plan = dry.body.data;
    expect(plan).toMatchObject({ dry_run: true, suppressed: [7], send_rate: 400, send_rate_source: 'option' });
    expect(Date.parse(plan.estimated_completion_at)).toBeGreaterThan(Date.now());
    expect(proxy.calls).toHaveLength(0);
    expect(await ses.emails()).toHaveLength(0);
    const planned = plan.calls.map((c: { entries: number[] }) => c.entries.join(',')).sort();
    // Full calls: 129 entries to send → ⌈129 / 50⌉ calls.
    expect(plan.calls.map((c: { recipients: number }) => c.recipients)).toEqual([50, 50, 29]);

    const real = await request(a).post('/bulk-email').set('Prefer', 'wait=30').send(body).expect(200);
    expect(real.body.data.counts).toMatchObject({ sent: 129, suppressed: 1 });
    const made = proxy.calls.map((c) => c.to.map((t) => Number(/user(\d+)@/.exec(t)?.[1])).join(',')).sort();
    expect(made).toEqual(planned);
  });

  it("quota 'refuse': a job beyond the remaining 24-hour quota gets 429 QUOTA_EXCEEDED; one within it is accepted", async () => {
    process.env.AWS_SES_ACCOUNT = account({ Max24HourSend: 100, MaxSendRate: 50, SentLast24Hours: 90 });
    const a = app({ sendRate: 'account', quota: 'refuse' });
    const refused = await request(a).post('/bulk-email').send(bulkBody(20)).expect(429);
    expect(refused.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { needed: 20, remaining: 10 } });
    expect(proxy.calls).toHaveLength(0);
    const ok = await request(a).post('/bulk-email').send(bulkBody(6)).expect(202);
    expect(ok.body.data.estimated_completion_at).toBeDefined();
    // The 6 accepted recipients are counted against the quota until they are sent.
    const after = await request(a).post('/bulk-email?dry_run=true').send(bulkBody(5)).expect(429);
    expect(after.body.error.details.remaining).toBeLessThan(10);
  });

  it("quota 'defer' (default): the job is accepted and its estimate waits for the quota window", async () => {
    process.env.AWS_SES_ACCOUNT = account({ Max24HourSend: 100, MaxSendRate: 50, SentLast24Hours: 95 });
    const a = app({ sendRate: 'account' });
    const res = await request(a).post('/bulk-email?dry_run=1').send(bulkBody(20)).expect(200);
    expect(res.body.data.send_rate).toBe(50);
    expect(Date.parse(res.body.data.estimated_completion_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const created = await request(a).post('/bulk-email').send(bulkBody(20)).expect(202);
    expect(Date.parse(created.body.data.estimated_completion_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
  });

  it('strict render check: an entry missing a variable is refused before any SES call, naming the entry and variable', async () => {
    const a = app();
    const body = bulkBody(5, {
      template: {
        TemplateContent: { Subject: 'Hi {{name}}', Text: 'Code {{code}} for {{plan}}' },
        TemplateData: '{"plan":"basic"}',
      },
    });
    body.BulkEmailEntries[3].ReplacementEmailContent!.ReplacementTemplate!.ReplacementTemplateData = '{"name":"x"}';
    const res = await request(a).post('/bulk-email').send(body).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details).toHaveLength(1);
    expect(res.body.error.details[0].path).toMatch(/^\/BulkEmailEntries\/3\//);
    expect(res.body.error.details[0].message).toContain('code');
    expect(proxy.calls).toHaveLength(0);
  });

  it('strict render check also covers stored templates (fetched with GetEmailTemplate)', async () => {
    await ses.client().send(
      new CreateEmailTemplateCommand({
        TemplateName: 'stored-1',
        TemplateContent: { Subject: 'Hi {{name}}', Text: 'Your {{thing}}' },
      }),
    );
    const a = app();
    const body = bulkBody(3, { template: { TemplateName: 'stored-1', TemplateData: '{}' } });
    const res = await request(a).post('/bulk-email').send(body).expect(400);
    expect(res.body.error.details.length).toBe(3);
    expect(res.body.error.details[0].message).toContain('thing');
  });

  it('permissive render check: bad entries end INVALID_PARAMETER, the rest are sent', async () => {
    const a = app({ renderCheck: 'permissive' });
    const body = bulkBody(4, { template: { TemplateContent: { Subject: 'Hi {{name}}', Text: '{{code}}' } } });
    body.BulkEmailEntries[1].ReplacementEmailContent!.ReplacementTemplate!.ReplacementTemplateData = '{}';
    const res = await request(a).post('/bulk-email').set('Prefer', 'wait=20').send(body).expect(200);
    expect(res.body.data.counts).toMatchObject({ sent: 3, failed: 1 });
    const results = (await request(a).get(`/bulk-email/${res.body.data.id}/results`).expect(200)).body.data.results;
    expect(results[1]).toMatchObject({ index: 1, status: 'INVALID_PARAMETER', attempts: 0 });
    expect(results[1].error.code).toBe('INVALID_PARAMETER');
    expect(results[1].error.message).toContain('name');
    expect(await ses.emails()).toHaveLength(3);
  });

  it('one-click unsubscribe: the link from a delivered email reaches onUnsubscribe once; a tampered one is refused', async () => {
    const calls: { address: string; job_id: string; principal_id: string }[] = [];
    const a = app({
      unsubscribe: {
        secret: 'a-very-secret-key-of-32-bytes!!!',
        url: 'https://mail.example.com/bulk-email/unsubscribe',
        mailto: 'unsubscribe@example.com',
        onUnsubscribe: (e) => void calls.push(e),
      },
    });
    const res = await request(a).post('/bulk-email').set('Prefer', 'wait=20').send(bulkBody(2)).expect(200);
    const emails = await ses.emails();
    expect(emails).toHaveLength(2);
    const email = emails.find((e) => e.destination.to[0] === 'user1@example.com')!;
    const header = email.headers?.find((h) => h.name === 'List-Unsubscribe')?.value ?? '';
    expect(email.headers?.find((h) => h.name === 'List-Unsubscribe-Post')?.value).toBe('List-Unsubscribe=One-Click');
    expect(header).toContain('<mailto:unsubscribe@example.com');
    const link = /<(https:[^>]+)>/.exec(header)![1];
    const path = new URL(link).pathname; // /bulk-email/unsubscribe/<token>

    const first = await request(a).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(first.body.success).toBe(true);
    await request(a).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(calls).toEqual([{ address: 'user1@example.com', job_id: res.body.data.id, principal_id: 'p1' }]);

    const token = path.split('/').pop()!;
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const bad = await request(a)
      .post(`/bulk-email/unsubscribe/${tampered}`)
      .type('form')
      .send('List-Unsubscribe=One-Click')
      .expect(400);
    expect(bad.body.error.code).toBe('INVALID_TOKEN');
    await request(a).get(path).expect(405);
    expect(calls).toHaveLength(1);
  });
});
