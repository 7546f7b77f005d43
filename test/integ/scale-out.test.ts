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

if (!REDIS_URL) console.warn('[integ] scale-out skipped: worker processes need a shared Redis; set REDIS_URL');

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
      if (message.type === 'log' && message.level === 'error')
        console.error(`[worker ${proc.pid}]`, message.msg, message.data);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker ${proc.pid} exited (${code ?? signal}) before it was ready`)),
    );
  });
  const child: WorkerChild = {
    proc,
    messages,
    ready,
    exited,
    sent: (jobId) =>
      messages.filter((m): m is Extract<WorkerMessage, { type: 'sent' }> => m.type === 'sent' && m.jobId === jobId),
    logs: (pattern) =>
      messages.filter((m): m is Extract<WorkerMessage, { type: 'log' }> => m.type === 'log' && pattern.test(m.msg)),
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
    options: {
      workers: number;
      sendRate: number;
      concurrency?: number;
      limitRate?: number;
      decide?: (call: { n: number }) => Fault | undefined;
      lock?: { lockDurationMs: number; stalledIntervalMs: number };
    },
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
      ...options.lock,
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

  async function allResults(
    app: express.Express,
    id: string,
  ): Promise<{ index: number; status: string; message_id?: string; attempts: number }[]> {
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
    expect(res.body.data).toMatchObject({
      status: 'completed',
      entries: n,
      counts: { sent: n, failed: 0, pending: 0, canceled: 0 },
    });

    const emails = await ses.emails();
    expect(emails).toHaveLength(n);
    const count = mailCount(emails);
    for (let i = 0; i < n; i++) expect(count.get(`user${i}@rate.test`)).toBe(1);

    const calls = c.proxy.calls;
    const throttled = calls.filter((call) => call.fault).length;
    const arrivals = [...calls].sort((a, b) => a.at - b.at);
    const first = arrivals[0];
    const last = arrivals[arrivals.length - 1];
    const spanS = (last.at - first.at) / 1000;
    // Fair: the limiter spaces call k+1 after call k by k's recipients / rate, so first → last holds every call's
    // recipients but the last one's; N / span would count the last call's recipients without the time they are owed.
    const fairRate = (n - last.recipients) / spanS;
    const naiveRate = n / spanS;
    const maxWindow = c.proxy.maxRecipientsPerSecond();
    // Entries each process sent successfully (one recipient each); throttled calls are reported too, with 0.
    const perWorker = c.workers.map((w) => w.sent(res.body.data.id).reduce((s, m) => s + m.succeeded, 0));
    // Arrival jitter: how far each call arrived from its ideal slot (first arrival + recipients before it / rate).
    // At 60/s the calls carry 3 recipients, 50 ms apart: a 1-s window over 66 needs 23 calls in 1 s, i.e. arrivals
    // squeezed by more than 100 ms against the schedule (a worker or this process stalled, then caught up).
    let before = 0;
    const lateness = arrivals.map((call) => {
      const late = call.at - (first.at + (before / rate) * 1000);
      before += call.recipients;
      return late;
    });
    const jitterMs = Math.max(...lateness) - Math.min(...lateness);
    // Least squares over every arrival: t ≈ a + b · (recipients sent before), rate = 1 / b. Uses all calls, so one late
    // first call (a new connection) or an early last one does not tilt it as it tilts the two-point measures.
    let cum = 0;
    const points = arrivals.map((call) => {
      const p = { x: cum, y: call.at - first.at };
      cum += call.recipients;
      return p;
    });
    const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
    const my = points.reduce((s, p) => s + p.y, 0) / points.length;
    const slope =
      points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
    const fittedRate = 1000 / slope;
    measured.rate = {
      configured: rate,
      recipients: n,
      calls: calls.length,
      throttled,
      spanS,
      fairRate,
      naiveRate,
      ratio: fairRate / rate,
      fittedRate,
      fittedRatio: fittedRate / rate,
      maxWindow,
      jitterMs,
      perWorker,
    };

    // One shared schedule, whatever the host's load: delays only stretch first → last, so three separate limiters
    // (3 × rate) or two (2 × rate) would show here even on a starved host; the strict bounds follow below.
    expect(fairRate / rate).toBeLessThanOrEqual(1.25);
    // The timing claims need a host that delivers calls within the limiter's tolerance (100 ms, see above). A host
    // starved of CPU (2 cores shared with the fuzz suite: stalls over 1 s were seen) squeezes arrivals, the proxy
    // throttles, the limiter halves its rate, and the numbers say nothing about the limiter: warn instead of failing.
    const calm = jitterMs <= 100;
    measured.rate = { ...(measured.rate as object), calm };
    if (calm) {
      expect(throttled, 'throttled calls').toBe(0);
      expect(maxWindow, 'largest 1-s window').toBeLessThanOrEqual(1.1 * rate);
      // Within [0.9, 1.0] × rate up to measurement noise: the limiter's slots (Redis TIME) cannot exceed the rate, but
      // arrival times drift by a few ms over the run (warm-up: the first call opens the connection), which reads as
      // up to +0.1 % on the fitted rate and up to +0.5 % on the two-point one. Allow 0.2 % and 1 % above 1.0.
      expect(fittedRate / rate).toBeGreaterThanOrEqual(0.9);
      expect(fittedRate / rate).toBeLessThanOrEqual(1.002);
      expect(fairRate / rate).toBeGreaterThanOrEqual(0.9);
      expect(fairRate / rate).toBeLessThanOrEqual(1.01);
    } else {
      console.warn(
        `[scale-out] host stalled: arrival jitter ${Math.round(jitterMs)} ms > 100 ms; timing checks skipped (throttled ${throttled}, max window ${maxWindow}, fitted rate ${fittedRate.toFixed(1)}/s). Run this file alone for them.`,
      );
    }
    expect(perWorker.every((r) => r > 0)).toBe(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(n);
  }, 40_000);

  it('a SIGKILLed worker loses nothing: its tasks are recovered, SUCCESS is never resent, in-flight calls end UNKNOWN', async () => {
    const rate = 100;
    const n = 600;
    // Every call takes ~300 ms, so the killed worker has calls in flight (their mail is delivered all the same).
    const c = await cluster('kill', { workers: 2, sendRate: rate, decide: () => ({ kind: 'delay', ms: 300 }) });
    const [victim, survivor] = c.workers;
    // BullMQ's own view: when the dead worker's tasks are moved back to the wait list.
    const events = new QueueEvents(c.queueName, { connection: { url }, prefix: c.prefix });
    cleanups.push(() => events.close());
    const stalledAt: number[] = [];
    events.on('stalled', () => stalledAt.push(Date.now()));
    await events.waitUntilReady();
    const created = await post(c.web.app, bulkBody(n, { domain: 'kill.test' })).expect(202);
    const id: string = created.body.data.id;

    await until(
      async () =>
        victim.sent(id).length >= 3 &&
        survivor.sent(id).length >= 3 &&
        (await getJob(c.web.app, id)).counts.sent >= 150,
      15_000,
      'both workers to be sending',
    );
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
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
    // Recovery: BullMQ moves the dead worker's tasks back to the wait list, and the survivor sends from them.
    expect(stalledAt.length).toBeGreaterThan(0);
    const stalledAfterMs = stalledAt[0] - killedAt;
    const resent = survivor.sent(id).find((m) => m.at >= stalledAt[0]);
    const recoveredAfterMs = (resent?.at ?? Number.NaN) - killedAt;

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
    measured.kill = {
      recipients: n,
      rate,
      stalledTasks: stalledAt.length,
      sentBeforeKill,
      stalledAfterMs,
      recoveredAfterMs,
      completedAfterMs,
      statuses,
    };
    expect(statuses.UNKNOWN).toBeGreaterThan(0);
    expect(stalledAfterMs).toBeLessThan(20_000);
    expect(completedAfterMs).toBeLessThan(30_000);
  }, 60_000);

  it('a job canceled while its only worker is dead still settles: in-flight entries end UNKNOWN, the rest CANCELED', async () => {
    const rate = 50;
    const n = 200;
    // Short BullMQ locks so the dead worker's tasks come back in ~3 s; calls take ~300 ms so some are in flight.
    const c = await cluster('dead-cancel', {
      workers: 1,
      sendRate: rate,
      decide: () => ({ kind: 'delay', ms: 300 }),
      lock: { lockDurationMs: 2000, stalledIntervalMs: 1000 },
    });
    const [victim] = c.workers;
    const created = await post(c.web.app, bulkBody(n, { domain: 'dead-cancel.test' })).expect(202);
    const id: string = created.body.data.id;
    await until(() => victim.sent(id).length >= 3, 15_000, 'the worker to be sending');
    victim.proc.kill('SIGKILL');
    await victim.exited;

    const canceled = await request(c.web.app).post(`/bulk-email/${id}/cancel`).set('x-user', USER).expect(200);
    expect(canceled.body.data.status).toBe('canceled');
    // Entries the dead worker had in flight keep the job open: SES may or may not have them.
    expect(canceled.body.data.completed_at).toBeUndefined();

    const replacement = c.addWorker();
    c.workers.push(replacement);
    const job = await until(
      async () => {
        const j = await getJob(c.web.app, id);
        return j.completed_at ? j : null;
      },
      20_000,
      'the replacement worker to settle the entries left in flight',
    );
    expect(job).toMatchObject({ status: 'canceled', counts: { pending: 0 } });
    const results = await allResults(c.web.app, id);
    const count = mailCount(await ses.emails());
    const statuses: Record<string, number> = {};
    for (const r of results) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const mails = count.get(`user${r.index}@dead-cancel.test`) ?? 0;
      if (r.status === 'SUCCESS') expect(mails, `entry ${r.index}`).toBe(1);
      else if (r.status === 'UNKNOWN') expect(mails, `entry ${r.index}`).toBeLessThanOrEqual(1);
      else if (r.status === 'CANCELED') expect(mails, `entry ${r.index}`).toBe(0);
      else throw new Error(`entry ${r.index} ended ${r.status}`);
    }
    expect(statuses.UNKNOWN).toBeGreaterThan(0);
    expect(statuses.CANCELED).toBeGreaterThan(0);
    // The replacement sent nothing: every entry was final or in flight when the job was canceled.
    expect(replacement.sent(id)).toEqual([]);
    measured.deadCancel = { recipients: n, statuses };
  }, 40_000);

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

    // The worker goes straight on to the next job: the canceled job's remaining calls take none of the rate
    // (sending them would have taken (n − sent) / rate ≈ 7 s).
    const nextAt = Date.now();
    const next = await post(c.web.app, bulkBody(10, { domain: 'after-cancel.test' }), 'wait=20').expect(200);
    const nextJobMs = Date.now() - nextAt;
    expect(next.body.data.counts.sent).toBe(10);
    measured.cancel = {
      recipients: n,
      rate,
      sent: job.counts.sent,
      canceled: job.counts.canceled,
      settledMs,
      nextJobMs,
    };
    expect(nextJobMs).toBeLessThan(2500);
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
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 10,
      authenticate: () => ({ id: USER }),
      store,
      queue,
      worker: false,
    });
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
      await timed(
        'POST with Idempotency-Key',
        request(app).post('/bulk-email').set('Idempotency-Key', 'k-1').send(bulkBody(3)),
      );
      await timed('POST with Prefer: wait', request(app).post('/bulk-email').set('Prefer', 'wait=5').send(bulkBody(3)));
      // an id of the shape the router issues (any other is 404 without asking the store)
      const id = '6f1c1c1e-9d4e-4a39-a7b5-0b7d3c1b0e11';
      await timed('GET /:id', request(app).get(`/bulk-email/${id}`));
      await timed('GET /:id/results', request(app).get(`/bulk-email/${id}/results`));
      await timed('POST /:id/cancel', request(app).post(`/bulk-email/${id}/cancel`));
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
    const worker = createWorker({
      ses: ses.client(),
      sendRate: 10,
      store: workerStore,
      queue: bullmqQueue({ connection: dead, timeoutMs: 1000 }),
    });
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
