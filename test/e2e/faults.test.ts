// Delivery guarantees end to end: faults injected in front of the SES emulator, then count what it stored.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { bulkEmail, type BulkEmailEvent } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { sesEmulatorForSuite } from '../helpers/ses-emulator.js';

describe('faults between the package and SES', () => {
  const ses = sesEmulatorForSuite();
  let proxy: FaultProxy | undefined;
  beforeEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  async function run(
    n: number,
    decide: (call: { n: number }) => Fault | undefined,
    options: { atLeastOnce?: boolean } = {},
  ) {
    proxy = await startFaultProxy(ses.url, decide);
    const events: BulkEmailEvent[] = [];
    const router = bulkEmail({
      // The app's client keeps the SDK's default retries (3 attempts); the package must not let them act.
      ses: ses.client({ endpoint: proxy.url }),
      sendRate: 400,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      authenticate: () => ({ id: 'ops' }),
      onEvent: (e) => events.push(e),
      ...options,
    });
    const app = express().use('/bulk-email', router);
    const res = await request(app).post('/bulk-email').set('Prefer', 'wait=30').send(bulkBody(n)).expect(200);
    const results = (await request(app).get(`/bulk-email/${res.body.data.id}/results?limit=1000`).expect(200)).body.data
      .results as {
      index: number;
      status: string;
      attempts: number;
      message_id?: string;
    }[];
    await router.close();
    const emails = await ses.emails();
    const perRecipient = new Map<string, number>();
    for (const e of emails) perRecipient.set(e.destination.to[0], (perRecipient.get(e.destination.to[0]) ?? 0) + 1);
    return { job: res.body.data, results, emails, perRecipient, events };
  }

  it('throttling on the first calls is retried: every recipient gets exactly one email', async () => {
    const out = await run(100, ({ n }) => (n <= 3 ? { kind: 'throttle' } : undefined));
    expect(out.job.counts).toMatchObject({ sent: 100, failed: 0 });
    expect(out.emails).toHaveLength(100);
    expect([...out.perRecipient.values()].every((c) => c === 1)).toBe(true);
    expect(out.events.some((e) => e.type === 'chunk.retry')).toBe(true);
    expect(proxy!.calls.filter((c) => c.fault === 'throttle')).toHaveLength(3);
  });

  it('per-entry TRANSIENT_FAILURE resends only those entries, never a SUCCESS', async () => {
    const out = await run(60, ({ n }) => (n <= 2 ? { kind: 'entries', positions: [0, 1] } : undefined));
    expect(out.job.counts).toMatchObject({ sent: 60, failed: 0 });
    expect(out.emails).toHaveLength(60);
    expect([...out.perRecipient.values()].every((c) => c === 1)).toBe(true);
    const retried = out.results.filter((r) => r.attempts > 1);
    expect(retried.length).toBeGreaterThanOrEqual(2);
    expect(retried.length).toBeLessThanOrEqual(4);
  });

  it('a reset after the request arrived ends UNKNOWN and is not resent (SDK retries included)', async () => {
    const out = await run(30, ({ n }) => (n === 1 ? { kind: 'reset-after' } : undefined));
    const unknown = out.results.filter((r) => r.status === 'UNKNOWN');
    expect(unknown.length).toBeGreaterThan(0);
    expect(out.job.counts.unknown).toBe(unknown.length);
    expect(out.job.counts.sent + unknown.length).toBe(30);
    // The emulator got the call once: each recipient, UNKNOWN ones included, has exactly one email.
    expect(out.emails).toHaveLength(30);
    expect([...out.perRecipient.values()].every((c) => c === 1)).toBe(true);
    // No entry reached the endpoint twice.
    expect(proxy!.calls.reduce((n, c) => n + c.entries, 0)).toBe(30);
    expect(proxy!.calls.filter((c) => c.fault === 'reset-after')).toHaveLength(1);
  });

  it('with atLeastOnce, a reset call is resent: nobody is missed, duplicates are allowed', async () => {
    const out = await run(20, ({ n }) => (n === 1 ? { kind: 'reset-after' } : undefined), { atLeastOnce: true });
    expect(out.job.counts).toMatchObject({ sent: 20, unknown: 0 });
    expect(out.perRecipient.size).toBe(20);
    expect(out.emails.length).toBeGreaterThan(20);
  });

  it('5xx is retried; a job-fatal status fails the rest of the job without sending it', async () => {
    const flaky = await run(40, ({ n }) =>
      n === 1 ? { kind: 'error', status: 503, name: 'ServiceUnavailable' } : undefined,
    );
    expect(flaky.job.counts.sent).toBe(40);
    await ses.clear();
    const fatal = await run(200, ({ n }) =>
      n === 1 ? { kind: 'entries', positions: [0], status: 'MAIL_FROM_DOMAIN_NOT_VERIFIED' } : undefined,
    );
    expect(fatal.results.find((r) => r.status === 'MAIL_FROM_DOMAIN_NOT_VERIFIED')).toBeDefined();
    expect(fatal.job.counts.sent).toBeLessThan(200);
    expect(fatal.job.counts.sent).toBe(fatal.emails.length);
    expect(fatal.job.counts.failed + fatal.job.counts.sent).toBe(200);
  });
});
