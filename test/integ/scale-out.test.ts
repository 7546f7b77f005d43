// Scale-out with real processes: worker children share one Redis and one SES emulator; web routers run in this process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { bullmqQueue, redisStore } from '../../src/redis.js';
import { bulkBody } from '../helpers/bodies.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { type SesEmulator, type StoredEmail, startSesEmulator } from '../helpers/ses-emulator.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis-helpers.js';
import type { WorkerMessage, WorkerProcessConfig } from './worker-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const USER = 'tenant-a';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 25 ms until it returns a truthy value; fails after `ms`. */
async function until<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Measured numbers, printed once at the end (the report quotes them). */
const measured: Record<string, unknown> = {};

interface WorkerChild {
  proc: ChildProcess;
  messages: WorkerMessage[];
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  sent(jobId: string): Extract<WorkerMessage, { type: 'sent' }>[];
  logs(pattern: RegExp): Extract<WorkerMessage, { type: 'log' }>[];
}

const children = new Set<WorkerChild>();

/** Web routers log only errors (an INTERNAL_ERROR here is a bug worth seeing). */
const webLogger = {
  debug() {},
  info() {},
  warn() {},
  error: (obj: object, msg?: string) => console.error('[web]', msg, obj),
};

function spawnWorker(config: WorkerProcessConfig): WorkerChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: WorkerMessage[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    proc.on('message', (m) => {
      const message = m as WorkerMessage;
      messages.push(message);
      if (message.type === 'ready') resolve();
      if (message.type === 'failed') reject(new Error(`worker ${proc.pid} failed to start: ${message.message}`));
      if (message.type === 'log' && message.level === 'error') console.error(`[worker ${proc.pid}]`, message.msg, message.data);
    });
    void exited.then(({ code, signal }) => reject(new Error(`worker ${proc.pid} exited (${code ?? signal}) before it was ready`)));
  });
  const child: WorkerChild = {
    proc,
    messages,
    ready,
    exited,
    sent: (jobId) => messages.filter((m): m is Extract<WorkerMessage, { type: 'sent' }> => m.type === 'sent' && m.jobId === jobId),
    logs: (pattern) => messages.filter((m): m is Extract<WorkerMessage, { type: 'log' }> => m.type === 'log' && pattern.test(m.msg)),
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM (graceful close), then SIGKILL if it has not exited after `ms`. */
async function stopWorker(child: WorkerChild, ms = 15_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), ms);
  await child.exited;
  clearTimeout(timer);
}

interface WebInstance {
  app: express.Express;
  close(): Promise<void>;
}

interface Cluster {
  prefix: string;
  queueName: string;
  web: WebInstance;
  proxy: FaultProxy;
  workers: WorkerChild[];
  /** Starts one more worker process on this cluster's Redis keys (not waited for). */
  addWorker(): WorkerChild;
}

describe.skipIf(!REDIS_URL)('scale-out across worker processes', () => {
  const url = REDIS_URL as string;
  let ses: SesEmulator;
  const prefixes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  /** A web router (worker: false) over the cluster's Redis keys: accepts and tracks, never sends. */
  function webInstance(prefix: string, queueName: string, sendRate: number): WebInstance {
    const store = redisStore({ connection: url, prefix });
    const queue = bullmqQueue({ connection: url, name: queueName, prefix });
    const router = bulkEmail({
      ses: ses.client(),
      sendRate,
      authenticate: (req) => {
        const who = req.get('x-user');
        return who ? { id: who } : null;
      },
      store,
      queue,
      worker: false,
      logger: webLogger,
    });
    const app = express();
    app.use('/bulk-email', router);
    return {
      app,
      close: async () => {
        await router.close();
        await queue.close();
        await store.close();
      },
    };
  }

  async function cluster(
    tag: string,
    options: { workers: number; sendRate: number; concurrency?: number; limitRate?: number; decide?: (call: { n: number }) => Fault | undefined },
  ): Promise<Cluster> {
    const prefix = uniquePrefix(`scale-${tag}`);
    prefixes.push(prefix);
    const queueName = `q-${tag}`;
    const proxy = await startFaultProxy(ses.url, options.decide, { limitRate: options.limitRate });
    const web = webInstance(prefix, queueName, options.sendRate);
    const config: WorkerProcessConfig = {
      redisUrl: url,
      sesUrl: proxy.url,
      prefix,
      queueName,
      sendRate: options.sendRate,
      concurrency: options.concurrency,
    };
    const addWorker = () => spawnWorker(config);
    const workers = Array.from({ length: options.workers }, addWorker);
    cleanups.push(async () => {
      await Promise.all(workers.map((w) => stopWorker(w)));
      await web.close();
      await proxy.close();
    });
    await Promise.all(workers.map((w) => w.ready));
    return { prefix, queueName, web, proxy, workers, addWorker };
  }

  const post = (app: express.Express, body: object, prefer?: string) => {
    const req = request(app).post('/bulk-email').set('x-user', USER);
    return (prefer ? req.set('Prefer', prefer) : req).send(body);
  };
  const getJob = async (app: express.Express, id: string) =>
    (await request(app).get(`/bulk-email/${id}`).set('x-user', USER).expect(200)).body.data;

  async function allResults(app: express.Express, id: string): Promise<{ index: number; status: string; message_id?: string; attempts: number }[]> {
    const results = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(app)
        .get(`/bulk-email/${id}/results`)
        .query({ limit: 1000, ...(cursor ? { cursor } : {}) })
        .set('x-user', USER)
        .expect(200);
      results.push(...page.body.data.results);
      cursor = page.body.data.next_cursor;
    } while (cursor);
    return results;
  }

  /** Emails the emulator stored, per To address. */
  function mailCount(emails: StoredEmail[]): Map<string, number> {
    const count = new Map<string, number>();
    for (const e of emails) for (const to of e.destination.to) count.set(to, (count.get(to) ?? 0) + 1);
    return count;
  }

  beforeAll(async () => {
    ses = await startSesEmulator();
  });
  beforeEach(async () => {
    await ses.clear();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    for (const child of children) child.proc.kill('SIGKILL');
    await ses?.close();
    await Promise.all(prefixes.map((p) => deleteKeys(p)));
    console.info('[scale-out] measured', JSON.stringify(measured, null, 2));
  });

  it('3 worker processes share one send rate: every email once, at the configured rate, never throttled', async () => {
    const rate = 60;
    const n = 600;
    // concurrency 4 × 3 workers = the 12 chunk tasks of the job, so every process gets a share.
    const c = await cluster('rate', { workers: 3, sendRate: rate, concurrency: 4, limitRate: rate });
    const body = bulkBody(n, { domain: 'rate.test' });
    const res = await post(c.web.app, body, 'wait=30').expect(200);
    expect(res.body.data).toMatchObject({ status: 'completed', entries: n, counts: { sent: n, failed: 0, pending: 0, canceled: 0 } });

    const emails = await ses.emails();
    expect(emails).toHaveLength(n);
    const count = mailCount(emails);
    for (let i = 0; i < n; i++) expect(count.get(`user${i}@rate.test`)).toBe(1);

    const calls = c.proxy.calls;
    expect(calls.filter((call) => call.fault)).toEqual([]);
    const arrivals = [...calls].sort((a, b) => a.at - b.at);
    const first = arrivals[0];
    const last = arrivals[arrivals.length - 1];
    const spanS = (last.at - first.at) / 1000;
    // The first call's recipients went out at `first`; the other N − first.recipients were spaced over first → last.
    const fairRate = (n - first.recipients) / spanS;
    const naiveRate = n / spanS;
    const maxWindow = c.proxy.maxRecipientsPerSecond();
    const perWorker = c.workers.map((w) => w.sent(res.body.data.id).reduce((s, m) => s + m.recipients, 0));
    measured.rate = { configured: rate, recipients: n, calls: calls.length, spanS, fairRate, naiveRate, ratio: fairRate / rate, maxWindow, perWorker };

    expect(fairRate / rate).toBeGreaterThanOrEqual(0.9);
    expect(fairRate / rate).toBeLessThanOrEqual(1.0);
    expect(maxWindow).toBeLessThanOrEqual(1.1 * rate);
    expect(perWorker.every((r) => r > 0)).toBe(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(n);
  }, 40_000);

  it('a SIGKILLed worker loses nothing: its tasks are recovered, SUCCESS is never resent, in-flight calls end UNKNOWN', async () => {
    const rate = 100;
    const n = 600;
    // Every call takes ~150 ms, so the killed worker almost surely has calls in flight.
    const c = await cluster('kill', { workers: 2, sendRate: rate, decide: () => ({ kind: 'delay', ms: 150 }) });
    const [victim, survivor] = c.workers;
    // BullMQ's own view: when the dead worker's tasks are moved back to the wait list.
    const events = new QueueEvents(c.queueName, { connection: { url }, prefix: c.prefix });
    cleanups.push(() => events.close());
    const stalledAt: number[] = [];
    events.on('stalled', () => stalledAt.push(Date.now()));
    await events.waitUntilReady();
    const created = await post(c.web.app, bulkBody(n, { domain: 'kill.test' })).expect(202);
    const id: string = created.body.data.id;

    await until(() => victim.sent(id).length >= 3 && survivor.sent(id).length >= 1, 15_000, 'both workers to be sending');
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    const victimChunks = new Set(victim.sent(id).map((m) => m.chunk));
    const sentBeforeKill = (await getJob(c.web.app, id)).counts.sent;

    const done = await until(
      async () => {
        const job = await getJob(c.web.app, id);
        return job.status === 'completed' ? job : null;
      },
      40_000,
      'the job to complete after the kill',
    );
    const completedAfterMs = Date.now() - killedAt;
    const recovered = [
      ...survivor.sent(id).filter((m) => m.at > killedAt && victimChunks.has(m.chunk)),
      ...survivor.logs(/in flight when a worker stopped/).filter((m) => m.at > killedAt),
    ].sort((a, b) => a.at - b.at)[0];
    expect(recovered).toBeDefined();
    const recoveredAfterMs = recovered.at - killedAt;

    // A new web instance (new router, new connections) over the same Redis reports the job.
    const fresh = webInstance(c.prefix, c.queueName, rate);
    cleanups.push(() => fresh.close());
    const seen = await getJob(fresh.app, id);
    expect(seen).toMatchObject({ id, status: 'completed', entries: n, counts: { ...done.counts, pending: 0 } });
    const results = await allResults(fresh.app, id);
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: n }, (_, i) => i));

    const count = mailCount(await ses.emails());
    const statuses: Record<string, number> = {};
    for (const r of results) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const mails = count.get(`user${r.index}@kill.test`) ?? 0;
      if (r.status === 'SUCCESS') expect(mails, `entry ${r.index}`).toBe(1);
      else if (r.status === 'UNKNOWN') expect(mails, `entry ${r.index}`).toBeLessThanOrEqual(1);
      else throw new Error(`entry ${r.index} ended ${r.status}`);
    }
    expect(statuses.SUCCESS).toBe(seen.counts.sent);
    const stalled = stalledAt.map((t) => t - killedAt);
    measured.kill = { recipients: n, rate, victimTasks: victimChunks.size, sentBeforeKill, stalledAfterMs: stalled, recoveredAfterMs, completedAfterMs, statuses };
    expect(completedAfterMs).toBeLessThan(30_000);
  }, 60_000);

  it('cancel in the web process stops the worker process from sending', async () => {
    const rate = 50;
    const n = 400;
    const c = await cluster('cancel', { workers: 1, sendRate: rate });
    const created = await post(c.web.app, bulkBody(n, { domain: 'cancel.test' })).expect(202);
    const id: string = created.body.data.id;
    await until(async () => (await getJob(c.web.app, id)).counts.sent >= 50, 15_000, '50 entries sent');

    const canceled = await request(c.web.app).post(`/bulk-email/${id}/cancel`).set('x-user', USER).expect(200);
    expect(canceled.body.data.status).toBe('canceled');
    const canceledAt = Date.now();
    const job = await until(
      async () => {
        const j = await getJob(c.web.app, id);
        return j.completed_at ? j : null;
      },
      10_000,
      'the canceled job to settle',
    );
    const settledMs = Date.now() - canceledAt;
    const atSettle = (await ses.emails()).length;
    await sleep(1000);
    const emails = await ses.emails();
    expect(emails.length).toBe(atSettle);
    expect(job.counts.sent).toBe(emails.length);
    expect(job.counts.sent).toBeLessThan(n);
    expect(job.counts.sent + job.counts.canceled).toBe(n);
    expect(job.status).toBe('canceled');

    // The worker is still healthy: the next job is sent.
    const nextAt = Date.now();
    const next = await post(c.web.app, bulkBody(10, { domain: 'after-cancel.test' }), 'wait=20').expect(200);
    expect(next.body.data.counts.sent).toBe(10);
    measured.cancel = { recipients: n, rate, sent: job.counts.sent, canceled: job.counts.canceled, settledMs, nextJobMs: Date.now() - nextAt };
  }, 40_000);

  it('Prefer: wait in the web process returns the job a worker process finished', async () => {
    const c = await cluster('wait', { workers: 1, sendRate: 100 });
    const started = Date.now();
    const res = await post(c.web.app, bulkBody(100, { domain: 'wait.test' }), 'wait=20').expect(200);
    measured.wait = { recipients: 100, rate: 100, ms: Date.now() - started };
    expect(res.headers['preference-applied']).toBe('wait=20');
    expect(res.body.data).toMatchObject({ status: 'completed', counts: { sent: 100, pending: 0 } });
    expect(res.body.data.completed_at).toBeDefined();
    expect(await ses.emails()).toHaveLength(100);
  }, 30_000);

  it('graceful close (SIGTERM → worker.close()) finishes calls in flight and hands the rest to another worker', async () => {
    const rate = 50;
    const n = 250;
    // ~300 ms per call: there are always calls in flight when the signal arrives.
    const c = await cluster('close', { workers: 1, sendRate: rate, decide: () => ({ kind: 'delay', ms: 300 }) });
    const [first] = c.workers;
    const created = await post(c.web.app, bulkBody(n, { domain: 'close.test' })).expect(202);
    const id: string = created.body.data.id;
    await until(() => first.sent(id).length >= 5, 15_000, 'the first worker to be sending');

    first.proc.kill('SIGTERM');
    const { code } = await first.exited;
    expect(code).toBe(0);
    const closed = first.messages.find((m): m is Extract<WorkerMessage, { type: 'closed' }> => m.type === 'closed');
    expect(closed).toBeDefined();
    const halfway = await getJob(c.web.app, id);
    expect(halfway.counts.pending).toBeGreaterThan(0);
    // Everything the first worker sent, it recorded: nothing is left in flight, so nothing can end UNKNOWN.
    expect(halfway.counts.sent).toBe((await ses.emails()).length);

    const second = c.addWorker();
    c.workers.push(second);
    await second.ready;
    const readyAt = Date.now();
    const done = await until(
      async () => {
        const job = await getJob(c.web.app, id);
        return job.status === 'completed' ? job : null;
      },
      20_000,
      'the second worker to finish the job',
    );
    const firstSendMs = (second.sent(id)[0]?.at ?? Number.NaN) - readyAt;
    expect(done.counts).toMatchObject({ sent: n, failed: 0, pending: 0, canceled: 0 });
    const results = await allResults(c.web.app, id);
    expect(results.every((r) => r.status === 'SUCCESS' && r.attempts === 1)).toBe(true);
    const count = mailCount(await ses.emails());
    for (let i = 0; i < n; i++) expect(count.get(`user${i}@close.test`)).toBe(1);
    // Handed back, not recovered as stalled (that would take ≥ 10 s).
    expect(firstSendMs).toBeLessThan(2000);
    measured.gracefulClose = {
      recipients: n,
      rate,
      sentByFirst: halfway.counts.sent,
      closeMs: closed?.ms,
      secondFirstSendMs: firstSendMs,
      secondFinishedMs: Date.now() - readyAt,
    };
  }, 40_000);

  it('answers 503 SERVICE_UNAVAILABLE quickly when Redis is unreachable, and closes cleanly', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const dead = `redis://127.0.0.1:${port}`;
    const store = redisStore({ connection: dead });
    const queue = bullmqQueue({ connection: dead });
    const router = bulkEmail({ ses: ses.client(), sendRate: 10, authenticate: () => ({ id: USER }), store, queue, worker: false });
    const app = express();
    app.use('/bulk-email', router);
    const timings: Record<string, number> = {};
    const timed = async (label: string, req: request.Test) => {
      const started = Date.now();
      const res = await req;
      timings[label] = Date.now() - started;
      expect(res.status, label).toBe(503);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ success: false, error: { code: 'SERVICE_UNAVAILABLE' } });
      expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|at .*\.ts/);
      return res;
    };
    try {
      await timed('first POST', request(app).post('/bulk-email').send(bulkBody(3)));
      await timed('second POST', request(app).post('/bulk-email').send(bulkBody(3)));
      await timed('POST with Idempotency-Key', request(app).post('/bulk-email').set('Idempotency-Key', 'k-1').send(bulkBody(3)));
      await timed('POST with Prefer: wait', request(app).post('/bulk-email').set('Prefer', 'wait=5').send(bulkBody(3)));
      await timed('GET /:id', request(app).get('/bulk-email/some-job'));
      await timed('GET /:id/results', request(app).get('/bulk-email/some-job/results'));
      await timed('POST /:id/cancel', request(app).post('/bulk-email/some-job/cancel'));
      for (const [label, ms] of Object.entries(timings)) expect(ms, label).toBeLessThan(2000);
    } finally {
      const started = Date.now();
      await router.close();
      await queue.close();
      await store.close();
      timings.close = Date.now() - started;
    }
    expect(timings.close).toBeLessThan(2000);

    // A worker pointed at the dead Redis fails to start with 503 instead of hanging, and closes.
    const { createWorker } = await import('../../src/index.js');
    const workerStore = redisStore({ connection: dead });
    const worker = createWorker({ ses: ses.client(), sendRate: 10, store: workerStore, queue: bullmqQueue({ connection: dead, timeoutMs: 1000 }) });
    const started = Date.now();
    await expect(worker.ready).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    timings.workerReady = Date.now() - started;
    await worker.close();
    await workerStore.close();
    timings.workerClose = Date.now() - started - timings.workerReady;
    measured.unreachable = timings;
    expect(timings.workerReady).toBeLessThan(3000);
  }, 30_000);
});
