// Seeded random SES faults (throttling, 5xx, per-entry failures, latency spikes, resets) under several concurrent jobs:
// every entry ends final, each SUCCESS is exactly one stored email, nobody gets two, counts add up.
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BulkEmailRouter, bulkEmail } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { type SesEmulator, type StoredEmail, startSesEmulator } from '../helpers/ses-emulator.js';
import { prng } from '../helpers/prng.js';

const SEED = Number(process.env.FAULT_SEED ?? 7_2026);
/** Jobs sent at once, by two principals, each to its own recipients. */
const JOBS = [
  { who: 'alice', entries: 130 },
  { who: 'bob', entries: 100 },
  { who: 'alice', entries: 80 },
  { who: 'bob', entries: 60 },
  { who: 'carol', entries: 30 },
];
const CALL_TIMEOUT_MS = 600;

const KINDS = ['throttle', 'error', 'entries', 'delay', 'reset-after', 'reset-before', 'none'] as const;
/** After the first calls: each kind below its cumulative share (throttle 8 %, 5xx 6 %, entries 14 %, …), else none. */
const MIX: [below: number, kind: (typeof KINDS)[number]][] = [
  [0.08, 'throttle'],
  [0.14, 'error'],
  [0.28, 'entries'],
  [0.38, 'delay'],
  [0.43, 'reset-after'],
  [0.48, 'reset-before'],
];

/**
 * The fault for SES call `n`: the first calls go through every kind once, then about half the calls are faulted.
 * Which kind is drawn from `pick` and its details from `detail`, so the kinds by call number depend on the seed only
 * (details draw as many numbers as a call has entries, which depends on timing).
 */
function randomFault(n: number, pick: () => number, detail: () => number, entries: number): Fault | undefined {
  const r = pick();
  const kind = n <= KINDS.length ? KINDS[n - 1] : (MIX.find(([below]) => r < below)?.[1] ?? 'none');
  switch (kind) {
    case 'throttle':
      return { kind };
    case 'error':
      return {
        kind,
        status: detail() < 0.5 ? 500 : 503,
        name: detail() < 0.5 ? 'InternalFailure' : 'ServiceUnavailable',
      };
    case 'entries': {
      const positions = Array.from({ length: entries }, (_, i) => i).filter(() => detail() < 0.3);
      const statuses = ['TRANSIENT_FAILURE', 'ACCOUNT_THROTTLED', 'FAILED', 'TRANSIENT_FAILURE', 'MESSAGE_REJECTED'];
      return {
        kind,
        positions: positions.length ? positions : [0],
        status: statuses[Math.floor(detail() * statuses.length)],
      };
    }
    case 'delay':
      // Latency spikes: most answer in time, some after the call timeout (outcome unknown; the mail may exist).
      return { kind, ms: detail() < 0.7 ? 50 + Math.floor(detail() * 300) : CALL_TIMEOUT_MS + 200 };
    case 'reset-after':
    case 'reset-before':
      return { kind };
    default:
      return undefined;
  }
}

interface Result {
  index: number;
  status: string;
  attempts: number;
  message_id?: string;
}

describe(`random SES faults (FAULT_SEED=${SEED}) across ${JOBS.length} concurrent jobs`, () => {
  let ses: SesEmulator;
  let proxy: FaultProxy;
  let router: BulkEmailRouter;
  let app: express.Express;

  beforeAll(async () => {
    console.log(`random faults: seed ${SEED} (replay with FAULT_SEED=${SEED})`);
    ses = await startSesEmulator();
    const pick = prng(SEED);
    const detail = prng(SEED ^ 0x5eed);
    proxy = await startFaultProxy(ses.url, ({ n, entries }) => randomFault(n, pick, detail, entries.length));
    router = bulkEmail({
      // The app's client keeps the SDK's default retries: the package must keep them from resending.
      ses: ses.client({ endpoint: proxy.url }),
      // 200 recipients/s: calls of at most 10 entries, so many calls meet a fault.
      sendRate: 200,
      concurrency: 8,
      callTimeoutMs: CALL_TIMEOUT_MS,
      retry: { attempts: 6, baseDelayMs: 20, maxDelayMs: 250 },
      authenticate: (req) => {
        const who = req.get('x-user');
        return who ? { id: who } : null;
      },
    });
    app = express().use('/bulk-email', router);
  });
  afterAll(async () => {
    await router?.close();
    await proxy?.close();
    await ses?.close();
  });

  it('every entry ends final; each SUCCESS is one email; nobody gets two; UNKNOWN at most one; counts add up', async () => {
    const created = await Promise.all(
      JOBS.map(async (job, k) => {
        const res = await request(app)
          .post('/bulk-email')
          .set('x-user', job.who)
          .send(bulkBody(job.entries, { domain: `job${k}.example` }))
          .expect(202);
        return { ...job, k, id: res.body.data.id as string };
      }),
    );

    // Wait until every job has finished (retries back off up to 250 ms, six attempts).
    const deadline = Date.now() + 45_000;
    const jobs = new Map<string, { status: string; entries: number; counts: Record<string, number> }>();
    for (const job of created) {
      for (;;) {
        const res = await request(app).get(`/bulk-email/${job.id}`).set('x-user', job.who).expect(200);
        if (res.body.data.status === 'completed') {
          jobs.set(job.id, res.body.data);
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`job ${job.k} still ${res.body.data.status}: ${JSON.stringify(res.body.data.counts)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // Let late deliveries (forwarded after a timed-out call) land in the emulator before counting.
    await new Promise((r) => setTimeout(r, CALL_TIMEOUT_MS + 400));
    const emails = await ses.emails();
    const byRecipient = new Map<string, StoredEmail[]>();
    for (const email of emails) {
      for (const to of email.destination.to) byRecipient.set(to, [...(byRecipient.get(to) ?? []), email]);
    }
    // Nobody got two.
    const doubled = [...byRecipient].filter(([, list]) => list.length > 1).map(([to]) => to);
    expect(doubled, 'recipients with two emails').toEqual([]);

    const tally: Record<string, number> = {};
    for (const job of created) {
      const view = jobs.get(job.id);
      const results: Result[] = (
        await request(app).get(`/bulk-email/${job.id}/results?limit=1000`).set('x-user', job.who).expect(200)
      ).body.data.results;
      expect(results.map((r) => r.index)).toEqual(Array.from({ length: job.entries }, (_, i) => i));
      for (const r of results) {
        tally[r.status] = (tally[r.status] ?? 0) + 1;
        const to = `user${r.index}@job${job.k}.example`;
        const got = byRecipient.get(to) ?? [];
        const where = `job ${job.k} entry ${r.index} (${r.status}, ${r.attempts} attempts)`;
        // Every entry has a final status.
        expect(['PENDING', 'CANCELED'], where).not.toContain(r.status);
        if (r.status === 'SUCCESS') {
          // Exactly one email, the one SES named.
          expect(got, where).toHaveLength(1);
          expect(r.message_id, where).toBe(got[0].messageId);
        } else if (r.status === 'UNKNOWN') {
          expect(got.length, where).toBeLessThanOrEqual(1);
        } else {
          // A refused or given-up entry was never delivered.
          expect(got, where).toHaveLength(0);
        }
        expect(r.attempts, where).toBeGreaterThanOrEqual(1);
        expect(r.attempts, where).toBeLessThanOrEqual(6);
      }
      // Counts add up, and agree with the results.
      const counts = view?.counts as Record<string, number>;
      const sent = results.filter((r) => r.status === 'SUCCESS').length;
      const unknown = results.filter((r) => r.status === 'UNKNOWN').length;
      expect(counts.sent + counts.failed + counts.pending + counts.canceled).toBe(job.entries);
      expect(counts).toMatchObject({ sent, unknown, pending: 0, canceled: 0, failed: job.entries - sent });
    }
    // Nothing else was delivered: every stored email belongs to one of these entries.
    const known = new Set(
      created.flatMap((job) => Array.from({ length: job.entries }, (_, i) => `user${i}@job${job.k}.example`)),
    );
    expect(emails.flatMap((e) => e.destination.to).filter((to) => !known.has(to))).toEqual([]);

    const faults: Record<string, number> = {};
    for (const call of proxy.calls) faults[call.fault ?? 'none'] = (faults[call.fault ?? 'none'] ?? 0) + 1;
    console.log(
      `random faults: ${proxy.calls.length} SES calls ${JSON.stringify(faults)}; entries ${JSON.stringify(tally)}; ${emails.length} emails`,
    );
    // The mix really happened, and most mail still went out.
    for (const kind of KINDS) {
      expect(faults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect(tally.SUCCESS).toBeGreaterThan(JOBS.reduce((n, j) => n + j.entries, 0) / 2);
  });
});
