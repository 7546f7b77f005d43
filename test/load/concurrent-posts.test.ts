// Load: 200 keep-alive clients posting small jobs for 30 s to one server process; no errors, bounded heap, every job done.
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, forkChild } from '../bench/support/rpc.js';
import { bulkBody } from '../helpers/bodies.js';
import { MAX_JOBS, PRINCIPALS } from './load-limits.js';

const CLIENTS = 200;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const WARM_SECONDS = 2;
/**
 * What the heap may keep after the run: the store holds at most MAX_JOBS finished jobs (it drops the oldest), about
 * 4 KiB each here (record, content with the template, 3 entries' statuses and message ids), so ≤ 20 MiB, and at most
 * MAX_MESSAGES message links for delivery events (~250 bytes each, under 4 MiB) within that, plus 12 MiB
 * for what settles once (JIT code, caches, buffers). Without that cap the ~30,000 jobs of a run would keep ~120 MiB.
 */
const HEAP_BOUND = MAX_JOBS * 4 * 1024 + 12 * 1024 * 1024;
/**
 * From the middle of the run (the store already full) to its end, ~15,000 more requests at ~1,000 req/s: the heap stays
 * flat within this, so retaining more than ~280 bytes per request would fail here.
 */
const PLATEAU_BOUND = 4 * 1024 * 1024;

interface Stats {
  active: number;
  created: number;
  completed: number;
  sesCalls: number;
  connections: number;
}

interface Run {
  requests: number;
  statuses: Record<number, number>;
  errors: string[];
  latencies: number[];
  seconds: number;
}

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Answer {
  status: number;
  /** `data.status` of the envelope (a waited request's job). */
  job?: string;
}

function send(
  agent: Agent,
  url: string,
  method: string,
  body: Buffer | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        let job: string | undefined;
        try {
          job = JSON.parse(Buffer.concat(parts).toString()).data?.status;
        } catch {}
        resolve({ status: res.statusCode ?? 0, job });
      });
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

describe(`load: ${CLIENTS} keep-alive clients posting for ${SECONDS} s`, () => {
  let child: Child;
  let url: string;
  // One socket per client, kept alive for the whole suite.
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS, keepAliveMsecs: 10_000 });
  beforeAll(async () => {
    child = await forkChild(fileURLToPath(new URL('./load-server.ts', import.meta.url)), [], {
      nodeArgs: ['--expose-gc'],
      quiet: true,
    });
    url = await child.call<string>('url');
  }, 30_000);
  afterAll(async () => {
    agent.destroy();
    await child?.close(10_000);
  });

  /**
   * CLIENTS loops for `seconds`, each posting and reading the answer, alternately plain (202 once stored and queued) and
   * with `Prefer: wait=30` (200 once the job is done). Waiting on every other request keeps each client at most two jobs
   * ahead of the sender. Without it, 200 clients that never pause post 2-4 times faster than one process sends (the
   * sender gets ~45 calls done per event-loop turn while a turn admits ~200 requests): the unfinished jobs fill the
   * store (maxJobs) within seconds and POST / answers 503 SERVICE_UNAVAILABLE, as designed, to most requests.
   */
  async function load(seconds: number): Promise<Run> {
    const body = Buffer.from(JSON.stringify(bulkBody(3)));
    const run: Run = { requests: 0, statuses: {}, errors: [], latencies: [], seconds };
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let n = 0; Date.now() < end; n++) {
          const started = performance.now();
          const wait = n % 2 === 1;
          const headers: Record<string, string> = { 'x-user': `client-${c % PRINCIPALS}` };
          if (wait) headers.prefer = 'wait=30';
          try {
            const answer = await send(agent, `${url}/bulk-email`, 'POST', body, headers);
            run.statuses[answer.status] = (run.statuses[answer.status] ?? 0) + 1;
            if (wait && !(answer.status === 200 && answer.job === 'completed')) {
              run.errors.push(`a waited request got ${answer.status} with a job ${answer.job}`);
            }
          } catch (err) {
            run.errors.push((err as Error).message);
          }
          run.requests += 1;
          run.latencies.push(performance.now() - started);
        }
      }),
    );
    run.latencies.sort((a, b) => a - b);
    return run;
  }

  async function drained(): Promise<Stats> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await child.call<Stats>('stats');
      if (stats.active === 0 && stats.completed === stats.created) return stats;
      if (Date.now() > deadline) throw new Error(`jobs still unfinished 30 s after the load: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it(
    'answers every request 2xx, completes every accepted job, and keeps the heap bounded',
    async () => {
      // Open every connection while the server is idle: a saturated Node server accepts one new connection per event
      // loop turn (libuv ≥ 1.45), so connections opened under load would wait in the kernel's backlog for seconds.
      await Promise.all(
        Array.from({ length: CLIENTS }, () =>
          send(agent, `${url}/bulk-email/openapi.json`, 'GET', undefined, { 'x-user': 'client-0' }),
        ),
      );
      // Warm-up: code paths compiled, the store partly filled; then the baseline heap.
      const warm = await load(WARM_SECONDS);
      await drained();
      const start = await child.call<NodeJS.MemoryUsage>('heap');

      let middle: { heap: NodeJS.MemoryUsage; created: number } | undefined;
      const sampler = setTimeout(
        () => {
          void Promise.all([child.call<NodeJS.MemoryUsage>('heap'), child.call<Stats>('stats')]).then(([heap, at]) => {
            middle = { heap, created: at.created };
          });
        },
        (SECONDS * 1000) / 2,
      );
      const run = await load(SECONDS);
      clearTimeout(sampler);
      const stats = await drained();
      const end = await child.call<NodeJS.MemoryUsage>('heap');

      const lat = run.latencies;
      console.log(
        `load: ${run.requests} requests in ${SECONDS} s = ${Math.round(run.requests / SECONDS)} req/s from ${CLIENTS} clients ` +
          `(latency p50 ${percentile(lat, 50).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${(lat.at(-1) ?? 0).toFixed(0)} ms); ` +
          `statuses ${JSON.stringify(run.statuses)}, errors ${run.errors.length}; connections accepted ${stats.connections}; ` +
          `jobs created ${stats.created}, completed ${stats.completed}, SES calls ${stats.sesCalls}; heap after GC: ` +
          `start ${MiB(start.heapUsed)}, middle ${middle ? `${MiB(middle.heap.heapUsed)} (${middle.created} jobs so far)` : '?'}, end ${MiB(end.heapUsed)} ` +
          `(growth bound ${MiB(HEAP_BOUND)}), rss ${MiB(end.rss)}`,
      );

      // No errors: every request answered 2xx, none failed or timed out, and keep-alive held (no reconnects).
      for (const r of [warm, run]) {
        expect(r.errors.slice(0, 5)).toEqual([]);
        expect(Object.keys(r.statuses).sort()).toEqual(['200', '202']);
      }
      expect(stats.connections).toBe(CLIENTS);
      expect(run.requests).toBeGreaterThan(SECONDS * 100);
      // Every accepted job completed, and nothing else was created.
      expect(stats.created).toBe(warm.statuses[202] + warm.statuses[200] + run.statuses[202] + run.statuses[200]);
      expect(stats.completed).toBe(stats.created);
      expect(stats.active).toBe(0);
      // The heap stays bounded while more than MAX_JOBS jobs go through (the store's cap is reached and holds) …
      if (SECONDS >= 20) expect(stats.created).toBeGreaterThan(MAX_JOBS + 1000);
      expect(end.heapUsed - start.heapUsed).toBeLessThan(HEAP_BOUND);
      // … and once the store is full, thousands more requests leave the heap flat.
      if (middle && middle.created > MAX_JOBS && stats.created - middle.created > 2000) {
        expect(end.heapUsed - middle.heap.heapUsed).toBeLessThan(PLATEAU_BOUND);
      } else if (SECONDS >= 20) {
        console.log('load: the store was not full at mid-run (slow machine): plateau not checked');
      }
    },
    (SECONDS + WARM_SECONDS + 90) * 1000,
  );
});
