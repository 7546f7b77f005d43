// Fair share between principals through the router, on a fake clock, against an SES double that meters as SES does.
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkEmail, type BulkEmailRouter, createWorker, memoryStore, type Principal } from '../../src/index.js';
import { inProcessQueue } from '../../src/queues/in-process-queue.js';
import type { Logger, Queue } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { type FakeClock, fakeClock } from '../helpers/fake-clock.js';
import { fakeSes, sesError, success } from '../helpers/fake-ses.js';
import { meterFor } from '../helpers/fault-proxy.js';

const R = 200;
/** The time one full call of 50 recipients takes at R. */
const ONE_CALL_MS = (50 / R) * 1000;

interface Sent {
  at: number;
  principal: string;
  recipients: number;
  entries: number;
}

/** A router over a fake SES that meters like SES (budget R refilling at R/s, a call accepted while ≥ 1 is left). */
function fairRouter(options: { weight?: (p: Principal) => unknown; logger?: Logger } = {}) {
  const clock = fakeClock(Date.UTC(2026, 0, 1));
  const t0 = clock.now();
  const throttled = meterFor(R, 'ses');
  const sent: Sent[] = [];
  let throttles = 0;
  const ses = fakeSes((call) => {
    const at = clock.now() - t0;
    const recipients = call.entries.reduce((n, e) => n + (e.Destination.ToAddresses?.length ?? 0), 0);
    if (throttled(at, recipients)) {
      throttles++;
      throw sesError('TooManyRequestsException', 429, 'Maximum sending rate exceeded.');
    }
    // user<i>@<principal>.example.com
    const principal = (call.to[0] ?? '').split('@')[1]?.split('.')[0] ?? '?';
    sent.push({ at, principal, recipients, entries: call.entries.length });
    return success(call);
  });
  // The router takes an SESv2Client as it is when it has a middleware stack; the double needs none.
  Object.assign(ses.client, { middlewareStack: {} });
  const queue: Queue = inProcessQueue({ clock });
  const router = bulkEmail<Principal>({
    ses: ses.client,
    queue,
    clock,
    sendRate: R,
    maxEntries: 100_000,
    bodyLimit: '64mb',
    authenticate: (req) => ({ id: req.get('x-user') ?? 'nobody' }),
    ...(options.weight ? { weight: options.weight as (p: Principal) => number } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const app = express().use('/bulk-email', router);
  return {
    clock,
    queue,
    router,
    sent,
    throttles: () => throttles,
    /** Milliseconds since the start of the test, on the fake clock. */
    now: () => clock.now() - t0,
    /** Posts `n` recipients for principal `who` (addresses at <who>.example.com); resolves to the job id. */
    async post(who: string, n: number, status = 202): Promise<string> {
      const res = await request(app)
        .post('/bulk-email')
        .set('x-user', who)
        .send(bulkBody(n, { domain: `${who}.example.com` }));
      expect(res.status).toBe(status);
      return res.body.data?.id as string;
    },
    async cancel(who: string, id: string): Promise<void> {
      const res = await request(app).post(`/bulk-email/${id}/cancel`).set('x-user', who);
      expect(res.status).toBe(200);
    },
    async status(who: string, id: string): Promise<string> {
      const res = await request(app).get(`/bulk-email/${id}`).set('x-user', who);
      return res.body.data.status as string;
    },
  };
}

let open: BulkEmailRouter[] = [];
afterEach(async () => {
  for (const r of open) await r.close();
  open = [];
});

/** Moves the fake clock to `until` ms after the start in 10 ms steps (every sleeper wakes in order on the way). */
async function runTo(clock: FakeClock, now: () => number, until: number): Promise<void> {
  while (now() < until) await clock.advance(Math.min(10, until - now()));
}

const sum = (list: Sent[]) => list.reduce((n, c) => n + c.recipients, 0);
const of = (sent: Sent[], p: string) => sent.filter((c) => c.principal === p);
const between = (sent: Sent[], from: number, to: number) => sent.filter((c) => c.at >= from && c.at < to);

describe('fair share through the router (fake clock, SES-metered double, R = 200/s)', () => {
  it('issue 14: A posts 20,000, B 300 one second later, C 300 two seconds later: B and C finish within 1.2 × (300 ÷ R/3) + one call, A gets the whole rate before and after, the total stays ≥ 0.97 R, zero throttles', async () => {
    const f = fairRouter();
    open.push(f.router);
    const a = await f.post('a', 20_000);
    await runTo(f.clock, f.now, 1000);
    const b = await f.post('b', 300);
    await runTo(f.clock, f.now, 2000);
    const c = await f.post('c', 300);
    const end = 14_000;
    await runTo(f.clock, f.now, end);

    const bCalls = of(f.sent, 'b');
    const cCalls = of(f.sent, 'c');
    expect(sum(bCalls)).toBe(300);
    expect(sum(cCalls)).toBe(300);
    // A call's recipients are sent once the call starts; it is done one call-time later at most.
    const bDone = (bCalls.at(-1)?.at ?? Number.POSITIVE_INFINITY) + ONE_CALL_MS - 1000;
    const cDone = (cCalls.at(-1)?.at ?? Number.POSITIVE_INFINITY) + ONE_CALL_MS - 2000;
    const bound = 1.2 * (300 / (R / 3)) * 1000 + ONE_CALL_MS;
    console.info(
      `[fair-share router] B done ${(bDone / 1000).toFixed(2)} s after posting, C ${(cDone / 1000).toFixed(2)} s (bound ${(bound / 1000).toFixed(2)} s)`,
    );
    expect(bDone).toBeLessThanOrEqual(bound);
    expect(cDone).toBeLessThanOrEqual(bound);
    expect(await f.status('b', b)).toBe('completed');
    expect(await f.status('c', c)).toBe('completed');

    // A alone before B, and again once C is done: the whole rate (each 1 s window within one call of R).
    for (let t = 0; t < 1000; t += 1000) expect(sum(between(f.sent, t, t + 1000))).toBeGreaterThanOrEqual(R - 50);
    const after = Math.ceil((cCalls.at(-1)?.at ?? 0) / 1000) * 1000 + 1000;
    for (let t = after; t + 1000 <= end; t += 1000) {
      const window = between(f.sent, t, t + 1000);
      expect(window.every((c) => c.principal === 'a')).toBe(true);
      expect(sum(window)).toBeGreaterThanOrEqual(R - 50);
    }
    // No capacity idle, no burst: over the run and in every 1 s window.
    const total = sum(between(f.sent, 0, end - ONE_CALL_MS)) / ((end - ONE_CALL_MS) / 1000);
    expect(total).toBeGreaterThanOrEqual(0.97 * R);
    for (let t = 0; t + 1000 <= end; t += 100) expect(sum(between(f.sent, t, t + 1000))).toBeLessThanOrEqual(R + 50);
    // While all three had work, each got about a third.
    const third = between(f.sent, 2000, 2000 + 3000);
    for (const p of ['a', 'b', 'c']) expect(sum(of(third, p))).toBeGreaterThanOrEqual(R - 2 * 50);
    expect(f.sent.every((c) => c.entries <= 50)).toBe(true);
    expect(f.throttles()).toBe(0);

    // A is still sending; canceling it ends its work in the queue.
    await f.cancel('a', a);
    const stats = await f.router.stats();
    expect(stats.principals.find((p) => p.principalId === 'a')?.waitingRecipients ?? 0).toBe(0);
  });
});

describe('weights, idle principals, pause and cancel, stats', () => {
  it('weight 2 : 1 gives shares 2 : 1 while both have work; router.stats() shows weights, shares and lag', async () => {
    const f = fairRouter({ weight: (p) => (p.id === 'a' ? 2 : 1) });
    open.push(f.router);
    await f.post('a', 3000);
    await f.post('b', 3000);
    await runTo(f.clock, f.now, 500);
    const stats = await f.router.stats();
    expect(stats.sendRate).toBe(R);
    expect(stats.at).toBe(new Date(f.clock.now()).toISOString());
    const [sa, sb] = ['a', 'b'].map((id) => stats.principals.find((p) => p.principalId === id));
    expect(sa).toMatchObject({ weight: 2, jobs: 1, lagMs: 500 });
    expect(sb).toMatchObject({ weight: 1, jobs: 1, lagMs: 500 });
    expect(sa?.share).toBeCloseTo(2 / 3);
    expect(sb?.share).toBeCloseTo(1 / 3);
    expect((sa?.waitingRecipients ?? 0) + (sb?.waitingRecipients ?? 0)).toBeLessThanOrEqual(6000 - 100);
    expect(sa?.oldestWaitingSince).toBe(new Date(f.clock.now() - 500).toISOString());

    await runTo(f.clock, f.now, 6500);
    const window = between(f.sent, 500, 6500);
    const ratio = sum(of(window, 'a')) / sum(of(window, 'b'));
    console.info(`[fair-share router] weights 2:1 → recipients ${sum(of(window, 'a'))}:${sum(of(window, 'b'))}`);
    expect(ratio).toBeGreaterThanOrEqual(1.8);
    expect(ratio).toBeLessThanOrEqual(2.2);
    expect(sum(window) / 6).toBeGreaterThanOrEqual(0.97 * R);
    expect(f.throttles()).toBe(0);
  });

  it('an idle principal’s share goes to the others at once; a paused or canceled job frees its share', async () => {
    const f = fairRouter();
    open.push(f.router);
    await f.post('a', 5000);
    const b = await f.post('b', 5000);
    const c = await f.post('c', 300);
    await runTo(f.clock, f.now, 5500);
    // c is done by now (300 at R/3 takes 4.5 s): a and b share the rate.
    expect(sum(of(f.sent, 'c'))).toBe(300);
    const lastC = of(f.sent, 'c').at(-1)?.at ?? 0;
    const afterC = between(f.sent, lastC + ONE_CALL_MS, 5500);
    expect(Math.abs(sum(of(afterC, 'a')) - sum(of(afterC, 'b')))).toBeLessThanOrEqual(50);
    expect(sum(afterC) / ((5500 - lastC - ONE_CALL_MS) / 1000)).toBeGreaterThanOrEqual(R - 50);

    // b's job paused: a has the whole rate from the next call on.
    await f.queue.pause(b);
    await runTo(f.clock, f.now, 7500);
    const paused = between(f.sent, 5500 + ONE_CALL_MS, 7500);
    expect(paused.every((call) => call.principal === 'a')).toBe(true);
    expect(sum(paused)).toBeGreaterThanOrEqual(0.97 * R * ((7500 - 5500 - ONE_CALL_MS) / 1000) - 50);
    const stats = await f.router.stats();
    expect(stats.principals.find((p) => p.principalId === 'b')).toMatchObject({ waitingRecipients: 0, share: 0 });
    expect(stats.principals.find((p) => p.principalId === 'a')?.share).toBe(1);

    // Resumed, b shares again, without a burst for the time it waited.
    await f.queue.resume(b);
    await runTo(f.clock, f.now, 9500);
    const resumed = between(f.sent, 7500 + ONE_CALL_MS, 9500);
    expect(Math.abs(sum(of(resumed, 'a')) - sum(of(resumed, 'b')))).toBeLessThanOrEqual(100);

    // b canceled: a alone again.
    await f.cancel('b', b);
    const canceledAt = f.now();
    await runTo(f.clock, f.now, 11500);
    const canceled = between(f.sent, canceledAt + ONE_CALL_MS, 11500);
    expect(canceled.every((call) => call.principal === 'a')).toBe(true);
    expect(sum(canceled)).toBeGreaterThanOrEqual(0.97 * R * ((11500 - canceledAt - ONE_CALL_MS) / 1000) - 50);
    expect(await f.status('c', c)).toBe('completed');
    expect(f.throttles()).toBe(0);
  });

  it('a weight that is not a positive finite number is logged and counts as 1; a throwing weight() refuses the job before it is stored', async () => {
    const warnings: Array<{ code?: string }> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (obj) => warnings.push(obj as { code?: string }),
      error: () => {},
    };
    const f = fairRouter({
      logger,
      weight: (p) => {
        if (p.id === 'boom') throw new Error('weight lookup failed');
        return { a: Number.NaN, b: -1, c: '3', d: 5000, e: undefined }[p.id];
      },
    });
    open.push(f.router);
    for (const who of ['a', 'b', 'c', 'd', 'e']) await f.post(who, 100);
    await f.post('boom', 100, 500);
    const stats = await f.router.stats();
    const weight = (id: string) => stats.principals.find((p) => p.principalId === id)?.weight;
    expect([weight('a'), weight('b'), weight('c'), weight('d'), weight('e')]).toEqual([1, 1, 1, 1000, 1]);
    expect(weight('boom')).toBeUndefined();
    expect(warnings.filter((w) => w.code === 'EBE_WEIGHT_INVALID')).toHaveLength(3);
  });

  it('rejects a weight option that is not a function', () => {
    expect(() =>
      bulkEmail({
        authenticate: () => null,
        weight: 2 as unknown as () => number,
        sendRate: R,
        ses: { region: 'us-east-1' },
      }),
    ).toThrow(/option "weight" must be a function/);
  });
});

describe('createWorker().stats()', () => {
  it('reports the shared queue per principal, as router.stats() does', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    const queue = inProcessQueue({ clock });
    const ses = fakeSes();
    Object.assign(ses.client, { middlewareStack: {} });
    const worker = createWorker({ ses: ses.client, store: memoryStore(), queue, sendRate: R, clock });
    try {
      await worker.ready;
      // Scheduled a minute ahead: nothing of it is ready, so it waits with no share yet.
      const entries = [{ index: 0, entry: { Destination: { ToAddresses: ['x@example.com'] } } }];
      await queue.add({
        jobId: 'j1',
        principalId: 'p',
        weight: 3,
        notBefore: clock.now() + 60_000,
        tasks: [{ jobId: 'j1', chunk: 0, entries }],
      });
      const stats = await worker.stats();
      expect(stats).toEqual({
        at: new Date(clock.now()).toISOString(),
        sendRate: R,
        principals: [
          { principalId: 'p', waitingRecipients: 0, jobs: 0, oldestWaitingSince: null, lagMs: 0, weight: 3, share: 0 },
        ],
      });
    } finally {
      await worker.close();
    }
  });
});
