// Bench 6 — fair share in one process: a small job of one principal under a big job of another, against the SES meter.
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import type { BulkEmailEvent } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { arrivalRate } from './send-rate.js';
import { type Backend, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import { atLeast, atMost, type Bench, exactly, info, type Row, round, sleep, until } from './support/result.js';

/** Runs `small` recipients of principal B, after `bigFirst` recipients of principal A got a head start of 1 s. */
async function contended(backend: Backend, rate: number, small: number, bigFirst: number) {
  await backend.clear();
  const proxyUrl = await backend.startProxy({ kind: 'fault', limitRate: rate });
  const finished = new Map<string, number>();
  const router = bulkEmail({
    ses: { endpoint: proxyUrl, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    sendRate: rate,
    authenticate: (req) => ({ id: req.get('x-user') ?? 'anonymous' }),
    maxEntries: 100_000,
    bodyLimit: '64mb',
    onEvent: (e: BulkEmailEvent) => {
      if (e.type === 'job.completed' || e.type === 'job.canceled') finished.set(e.jobId, Date.parse(e.at));
    },
  });
  const server = await listen(express().use('/bulk-email', router));
  try {
    let big: Awaited<ReturnType<typeof postJob>> | undefined;
    if (bigFirst > 0) {
      big = await postJob(`${server.url}/bulk-email`, bulkBody(bigFirst, { domain: 'a.example.com' }), {
        'x-user': 'a',
      });
      await sleep(1000);
    }
    const job = await postJob(`${server.url}/bulk-email`, bulkBody(small, { domain: 'b.example.com' }), {
      'x-user': 'b',
    });
    const done = await until('the small job', () => finished.get(job.id), (small / rate) * 6000 + 30_000, 10);
    if (big) await fetch(`${server.url}/bulk-email/${big.id}/cancel`, { method: 'POST', headers: { 'x-user': 'a' } });
    const ses = await backend.report();
    const posted = Date.parse(job.createdAt);
    // The rate while both had work: from B's post to B's end.
    const during = ses.calls.filter((c) => c.at >= posted && c.at <= done);
    return {
      smallMs: done - posted,
      ses,
      during: arrivalRate(during),
      throttled: ses.calls.filter((c) => c.fault === 'throttle').length,
    };
  } finally {
    await router.close();
    await server.close();
  }
}

export const run: Bench = async ({ quick }) => {
  const backend = await startBackend();
  const rows: Row[] = [];
  const rate = 200;
  const small = 300;
  const big = quick ? 3000 : 6000;
  try {
    const alone = await contended(backend, rate / 2, small, 0);
    const shared = await contended(backend, rate, small, big);
    const s = `R = ${rate}/s, A: ${big} recipients, B: ${small} posted 1 s later`;
    rows.push(
      info(s, `B alone at R/2: created → completed`, round(alone.smallMs / 1000, 2), 's'),
      info(s, `B under A's load at R: created → completed`, round(shared.smallMs / 1000, 2), 's'),
      atMost(s, 'B under load ÷ B alone at R/2', round(shared.smallMs / alone.smallMs, 2), 1.3),
      atLeast(s, 'total achieved / R while both have work (arrivals)', round(shared.during.arrivalRate / rate), 0.97),
      exactly(s, 'throttled calls (429)', shared.throttled, 0),
    );
  } finally {
    await backend.close();
  }
  return {
    id: 'fair-share',
    title: '6. Fair share between principals, single process',
    rows,
    notes: [
      'Two principals on one router (memory store, in-process queue): A posts a big job, B a 300-recipient job one second later. With equal shares B gets R/2 while both have work, so B should finish about as fast as alone at R/2; A keeps the rest, so the total stays at R. The endpoint meters as SES does.',
    ],
  };
};
