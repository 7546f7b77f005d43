// Bench 5 — scale-out: worker processes (createWorker + redisStore + the Redis queue) sharing one send rate in Redis, against
// one emulator behind the rate-limiting proxy; then throughput with 1 and 3 workers when the rate is not the limit.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';
import { arrivalRate } from './send-rate.js';
import { type Backend, startBackend } from './support/backend-client.js';
import { listen, postJob } from './support/http.js';
import { NO_REDIS_QUEUE, type RedisQueueFactory, redisQueue } from './support/redis-queue.js';
import { atLeast, atMost, type Bench, exactly, info, oneEach, type Row, round, until } from './support/result.js';
import { type Child, forkChild } from './support/rpc.js';
import type { WorkerChildConfig } from './support/worker-child.js';

const WORKER = fileURLToPath(new URL('./support/worker-child.ts', import.meta.url));

interface Scenario {
  workers: number;
  recipients: number;
  sendRate: number;
  concurrency: number;
  /** Proxy: throttle above this rate (SES-style), and/or hold each call this long. */
  limitRate?: number;
  delayMs?: number;
}

async function runScenario(backend: Backend, redisUrl: string, sc: Scenario, makeQueue: RedisQueueFactory) {
  await backend.clear();
  const sesUrl = await backend.startProxy({ kind: 'fault', limitRate: sc.limitRate, delayMs: sc.delayMs });
  const prefix = `ebe-bench-${randomUUID().slice(0, 8)}`;
  const queueName = 'bench';
  const workers: Child[] = [];
  const store = redisStore({ connection: redisUrl, prefix });
  const queue = makeQueue({ connection: redisUrl, name: queueName, prefix });
  const router = bulkEmail({
    ses: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    authenticate: () => ({ id: 'bench' }),
    store,
    queue,
    worker: false,
    sendRate: sc.sendRate,
  });
  const server = await listen(express().use('/bulk-email', router));
  try {
    const config: WorkerChildConfig = {
      redisUrl,
      sesUrl,
      prefix,
      queueName,
      sendRate: sc.sendRate,
      concurrency: sc.concurrency,
    };
    workers.push(
      ...(await Promise.all(Array.from({ length: sc.workers }, () => forkChild(WORKER, [JSON.stringify(config)])))),
    );
    const job = await postJob(`${server.url}/bulk-email`, bulkBody(sc.recipients));
    const done = await until(
      'the job to complete',
      async () => {
        const j = await store.getJob(job.id);
        return j?.status === 'completed' ? j : undefined;
      },
      (sc.recipients / Math.min(sc.sendRate, 200)) * 3000 + 60_000,
      25,
    );
    const ses = await backend.report();
    const stats = await Promise.all(
      workers.map((w) => w.call<{ sent: number; calls: number; retries: number }>('stats')),
    );
    return {
      jobMs: Date.parse(done.completedAt ?? done.updatedAt) - Date.parse(job.createdAt),
      sent: done.counts.sent,
      ses,
      perWorker: stats.map((s) => s.sent),
      ...arrivalRate(ses.calls),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close(20_000)));
    await router.close();
    await server.close();
    await queue.close();
    await store.close();
    await deleteKeysAt(redisUrl, prefix);
  }
}

export const run: Bench = async ({ quick, redisUrl }) => {
  const title = '5. Several worker processes through Redis';
  if (!redisUrl) {
    return { id: 'multi-worker', title, rows: [info('—', 'all', 'skipped: set REDIS_URL')], notes: [] };
  }
  if (!redisQueue) {
    console.error(`[bench] multi-worker ${NO_REDIS_QUEUE}`);
    return { id: 'multi-worker', title, rows: [info('—', 'all', NO_REDIS_QUEUE)], notes: [] };
  }
  const makeQueue = redisQueue;
  const backend = await startBackend();
  const rows: Row[] = [];
  const rate = 300;
  const latency = 250;
  const concurrency = 2;
  const n = quick ? 1200 : 4500;
  const tn = quick ? 1500 : 3000;
  try {
    const shared = await runScenario(
      backend,
      redisUrl,
      {
        workers: 3,
        recipients: n,
        sendRate: rate,
        concurrency: 8,
        limitRate: rate,
      },
      makeQueue,
    );
    const s = `3 workers, ${rate}/s shared`;
    rows.push(
      info(s, 'recipients sent by each worker', shared.perWorker.join(' / ')),
      atLeast(s, 'achieved / configured, all workers (arrivals)', round(shared.arrivalRate / rate), 0.95),
      info(s, 'achieved / configured (job created → completed)', round((n * 1000) / shared.jobMs / rate)),
      info(s, `SES calls (⌈N/50⌉ = ${Math.ceil(n / 50)})`, shared.ses.calls.filter((c) => !c.fault).length),
      atMost(
        s,
        `max recipients in any 1 s ÷ rate (bound 1 + 50/R)`,
        round(shared.ses.maxRecipientsPerSecond / rate),
        round(1 + 50 / rate),
      ),
      exactly(s, 'throttled calls (429)', shared.ses.calls.filter((c) => c.fault === 'throttle').length, 0),
      oneEach(s, n, shared.ses),
    );

    const one = await runScenario(
      backend,
      redisUrl,
      {
        workers: 1,
        recipients: tn,
        sendRate: 100_000,
        concurrency,
        delayMs: latency,
      },
      makeQueue,
    );
    const three = await runScenario(
      backend,
      redisUrl,
      {
        workers: 3,
        recipients: tn,
        sendRate: 100_000,
        concurrency,
        delayMs: latency,
      },
      makeQueue,
    );
    const tput = (r: typeof one) => (tn * 1000) / r.jobMs;
    const ideal = (w: number) => (w * concurrency * 50 * 1000) / latency;
    rows.push(
      info('1 worker, rate not limiting', 'recipients/s (job created → completed)', round(tput(one), 0)),
      info('1 worker, rate not limiting', 'latency-bound ceiling (workers × concurrency × 50 ÷ latency)', ideal(1)),
      info('3 workers, rate not limiting', 'recipients/s (job created → completed)', round(tput(three), 0)),
      info('3 workers, rate not limiting', 'latency-bound ceiling', ideal(3)),
      info('3 workers, rate not limiting', 'recipients sent by each worker', three.perWorker.join(' / ')),
      info('ratio', 'throughput 3 workers ÷ 1 worker (ideal 3)', round(tput(three) / tput(one), 2), '×'),
      oneEach('3 workers, rate not limiting', tn, three.ses),
    );
  } finally {
    await backend.close();
  }
  return {
    id: 'multi-worker',
    title,
    rows,
    notes: [
      `Workers are separate processes running createWorker({ store: redisStore(), queue: redisQueue(), sendRate }) with one Redis-held pacing; the web side (bulkEmail({ worker: false })) and the SES emulator + proxy run in two more processes. 5 processes on 2 cores.`,
      `Shared rate: the proxy meters as SES does (a budget of ${rate} recipients refilling at ${rate}/s; a call is accepted while at least 1 is left), so any 1-s window holds at most R + one call; rate measured as in bench 1 (arrivals at the endpoint).`,
      `Throughput: sendRate 100000, every SES call held ${latency} ms by the proxy, concurrency ${concurrency} per worker, ${tn} recipients; throughput = recipients ÷ (job created → completed).`,
    ],
  };
};
