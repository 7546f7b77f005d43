// End to end through HTTP to the SES emulator: full calls at every rate, job-fatal errors, quota defer, clean error texts.
import { createServer } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkEmail, type BulkEmailOptions, type BulkEmailRouter, type Principal } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { emulatorAccount, sesEmulatorForSuite } from '../helpers/ses-emulator.js';

describe('the sending engine, end to end', () => {
  const ses = sesEmulatorForSuite();
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
    delete process.env.AWS_SES_ACCOUNT;
  });

  async function setup(
    options: Partial<BulkEmailOptions<Principal>> & {
      limitRate?: number;
      decide?: (c: { n: number }) => Fault | undefined;
    },
  ) {
    const { limitRate, decide, ...rest } = options;
    const proxy: FaultProxy = await startFaultProxy(ses.url, decide, { limitRate });
    open.push(proxy);
    const router: BulkEmailRouter = bulkEmail({
      ses: ses.client({ endpoint: proxy.url }),
      authenticate: () => ({ id: 'ops' }),
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      ...rest,
    });
    open.push(router);
    const app = express().use('/bulk-email', router);
    const results = async (id: string) =>
      (await request(app).get(`/bulk-email/${id}/results?limit=1000`).expect(200)).body.data.results as Array<{
        index: number;
        status: string;
        error?: { code: string; message: string };
      }>;
    return { proxy, router, app, results };
  }

  for (const [rate, n] of [
    [14, 120],
    [200, 500],
  ] as const) {
    it(`${n} single-recipient entries at ${rate}/s go out in ⌈${n}/50⌉ calls, never throttled by an SES-metered endpoint`, async () => {
      const { proxy, app } = await setup({ sendRate: rate, limitRate: rate });
      const res = await request(app).post('/bulk-email').set('Prefer', 'wait=30').send(bulkBody(n)).expect(200);
      expect(res.body.data).toMatchObject({ status: 'completed', counts: { sent: n, failed: 0 } });
      expect(proxy.calls.filter((c) => c.fault === 'throttle')).toHaveLength(0);
      expect(proxy.calls).toHaveLength(Math.ceil(n / 50));
      const emails = await ses.emails();
      expect(emails).toHaveLength(n);
      expect(new Set(emails.map((e) => e.destination.to[0])).size).toBe(n);
      // Paced: calls k/R apart on average (arrival times carry the first connection's set-up and timer jitter).
      const at = proxy.calls.map((c) => c.at);
      expect(at[at.length - 1] - at[0]).toBeGreaterThanOrEqual(((n - 50) / rate) * 1000 * 0.9);
    }, 40_000);
  }

  it('bad credentials: one call, the job failed with SES_CREDENTIALS, every entry FAILED (issue 11 trap 2)', async () => {
    const { proxy, app, results } = await setup({
      sendRate: 100,
      decide: () => ({
        kind: 'error',
        status: 403,
        name: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      }),
    });
    const res = await request(app).post('/bulk-email').set('Prefer', 'wait=10').send(bulkBody(20)).expect(200);
    expect(res.body.data).toMatchObject({
      status: 'failed',
      error: { code: 'SES_CREDENTIALS' },
      counts: { failed: 20, pending: 0, sent: 0 },
    });
    expect(proxy.calls).toHaveLength(1);
    expect(
      (await results(res.body.data.id)).every((r) => r.status === 'FAILED' && r.error?.code === 'SES_CREDENTIALS'),
    ).toBe(true);
    await request(app).post(`/bulk-email/${res.body.data.id}/cancel`).expect(409);
  });

  it('SES unreachable: the job fails after one call’s attempts; clients never see the host or port', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const router = bulkEmail({
      ses: ses.client({ endpoint: `http://127.0.0.1:${port}` }),
      sendRate: 100,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      authenticate: () => ({ id: 'ops' }),
    });
    open.push(router);
    const app = express().use('/bulk-email', router);
    const res = await request(app).post('/bulk-email').set('Prefer', 'wait=20').send(bulkBody(120)).expect(200);
    expect(res.body.data).toMatchObject({
      status: 'failed',
      error: { code: 'SES_UNREACHABLE', message: 'SES unreachable' },
      counts: { failed: 120, pending: 0 },
    });
    const page = await request(app).get(`/bulk-email/${res.body.data.id}/results?limit=1000`).expect(200);
    const text = JSON.stringify([res.body, page.body]);
    expect(text).not.toContain(String(port));
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it("quota 'defer': with 10 of the 24-hour quota left, a 20-recipient job sends 10 and holds 10 PENDING", async () => {
    process.env.AWS_SES_ACCOUNT = emulatorAccount({ Max24HourSend: 100, MaxSendRate: 50, SentLast24Hours: 90 });
    const { proxy, app } = await setup({ sendRate: 'account' });
    const created = await request(app).post('/bulk-email').send(bulkBody(20)).expect(202);
    expect(created.body.data).toMatchObject({ send_rate: 50, send_rate_source: 'account' });
    expect(Date.parse(created.body.data.estimated_completion_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const id = created.body.data.id;
    let job: { counts: { sent: number; pending: number } } | undefined;
    for (let i = 0; i < 100 && !(job && job.counts.sent >= 10); i++) {
      job = (await request(app).get(`/bulk-email/${id}`).expect(200)).body.data;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    job = (await request(app).get(`/bulk-email/${id}`).expect(200)).body.data;
    expect(job?.counts).toMatchObject({ sent: 10, pending: 10 });
    expect(proxy.calls.reduce((n, c) => n + c.recipients, 0)).toBe(10);
    expect(await ses.emails()).toHaveLength(10);
  });
});
