// Bench 6 — fair share: a small job of one principal under a big job of another, against the SES meter; in one
// process, and (with REDIS_URL) with three worker processes sharing the Redis queue.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import type { BulkEmailEvent, Queue, Store } from '../../src/types.js';
import { bulkBody } from '../helpers/bodies.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';
import { arrivalRate } from './send-rate.js';
import { type Backend, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import { redisQueue } from './support/redis-queue.js';
import { atLeast, atMost, type Bench, exactly, info, type Row, round, sleep, until } from './support/result.js';
import { type Child, forkChild } from './support/rpc.js';
import type { WorkerChildConfig } from './support/worker-child.js';

const WORKER = fileURLToPath(new URL('./support/worker-child.ts', import.meta.url));
const WORKERS = 3;

/** The web side's store and queue, and the worker processes, when the run goes through Redis. */
interface Distributed {
  store: Store;
  queue: Queue;
  workers: Child[];
  close(): Promise<void>;
}

async function distributed(redisUrl: string, sesUrl: string, rate: number): Promise<Distributed> {
  const prefix = `ebe-bench-fair-${randomUUID().slice(0, 8)}`;
  const queueName = 'bench';
  const make = redisQueue as NonNullable<typeof redisQueue>;
  const store = redisStore({ connection: redisUrl, prefix });
  const queue = make({ connection: redisUrl, name: queueName, prefix });
  const config: WorkerChildConfig = { redisUrl, sesUrl, prefix, queueName, sendRate: rate, concurrency: 8 };
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => forkChild(WORKER, [JSON.stringify(config)])));
  return {
    store,
    queue,
    workers,
    close: async () => {
      await Promise.all(workers.map((w) => w.close(20_000)));
      await queue.close();
      await store.close();
      await deleteKeysAt(redisUrl, prefix);
    },
  };
}

/**
 * Runs `small` recipients of principal B, after `bigFirst` recipients of principal A got a head start of 1 s; in this
 * process, or through Redis with three worker processes when `redisUrl` is given.
 */
async function contended(backend: Backend, rate: number, small: number, bigFirst: number, redisUrl?: string) {
  await backend.clear();
  const proxyUrl = await backend.startProxy({ kind: 'fault', limitRate: rate });
  const finished = new Map<string, number>();
  const shared = redisUrl ? await distributed(redisUrl, proxyUrl, rate) : undefined;
  const router = bulkEmail({
    ses: { endpoint: proxyUrl, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    sendRate: rate,
    authenticate: (req) => ({ id: req.get('x-user') ?? 'anonymous' }),
    maxEntries: 100_000,
    bodyLimit: '64mb',
    ...(shared ? { store: shared.store, queue: shared.queue, worker: false } : {}),
    onEvent: (e: BulkEmailEvent) => {
      if (e.type === 'job.completed' || e.type === 'job.canceled') finished.set(e.jobId, Date.parse(e.at));
    },
  });
  // Through Redis the job completes in a worker process: its completion time is read from the shared store.
  const completedAt = async (id: string) => {
    if (!shared) return finished.get(id);
    const job = await shared.store.getJob(id);
    return job?.status === 'completed' ? Date.parse(job.completedAt ?? job.updatedAt) : undefined;
  };
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
    const done = await until('the small job', () => completedAt(job.id), (small / rate) * 6000 + 30_000, 10);
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
    await shared?.close();
  }
}

export const run: Bench = async ({ quick, redisUrl }) => {
  const backend = await startBackend();
  const rows: Row[] = [];
  const rate = 200;
  const small = 300;
  const big = quick ? 3000 : 6000;
  try {
    for (const via of redisUrl && redisQueue ? [undefined, redisUrl] : [undefined]) {
      const alone = await contended(backend, rate / 2, small, 0, via);
      const shared = await contended(backend, rate, small, big, via);
      const where = via ? `, ${WORKERS} worker processes through Redis` : ', one process';
      const s = `R = ${rate}/s, A: ${big} recipients, B: ${small} posted 1 s later${where}`;
      rows.push(
        info(s, `B alone at R/2: created → completed`, round(alone.smallMs / 1000, 2), 's'),
        info(s, `B under A's load at R: created → completed`, round(shared.smallMs / 1000, 2), 's'),
        atMost(s, 'B under load ÷ B alone at R/2', round(shared.smallMs / alone.smallMs, 2), 1.3),
        atLeast(s, 'total achieved / R while both have work (arrivals)', round(shared.during.arrivalRate / rate), 0.97),
        exactly(s, 'throttled calls (429)', shared.throttled, 0),
      );
    }
    if (!redisUrl) rows.push(info('three worker processes through Redis', 'all', 'skipped: set REDIS_URL'));
  } finally {
    await backend.close();
  }
  return {
    id: 'fair-share',
    title: '6. Fair share between principals',
    rows,
    notes: [
      'Two principals: A posts a big job, B a 300-recipient job one second later. With equal shares B gets R/2 while both have work, so B should finish about as fast as alone at R/2; A keeps the rest, so the total stays at R. The endpoint meters as SES does.',
      `One process: memory store, in-process queue. Through Redis (REDIS_URL): a web-only router (bulkEmail({ worker: false })) and ${WORKERS} createWorker() processes on redisStore() + redisQueue(); the fair pick is made in Redis (Lua), so the baseline "alone at R/2" runs through the same ${WORKERS} workers.`,
    ],
  };
};
