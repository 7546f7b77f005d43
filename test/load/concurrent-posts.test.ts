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
 * 4 KiB each here (record, content with the template, 3 entries' statuses and message ids), so ≤ 20 MiB, plus 12 MiB
 * for what settles once (JIT code, caches, buffers). Without that cap the ~30,000 jobs of a run would keep ~120 MiB.
 */
const HEAP_BOUND = MAX_JOBS * 4 * 1024 + 12 * 1024 * 1024;
/**
 * From the middle of the run (the store already full) to its end, ~15,000 more requests: the heap stays flat within
 * this, so retaining more than ~280 bytes per request would fail here.
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

function send(agent: Agent, url: string, method: string, body: Buffer | undefined, who: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent, headers: { 'content-type': 'application/json', 'x-user': who } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
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

  /** CLIENTS loops, each posting and waiting for the answer, for `seconds`. */
  async function load(seconds: number): Promise<Run> {
    const body = Buffer.from(JSON.stringify(bulkBody(3)));
    const run: Run = { requests: 0, statuses: {}, errors: [], latencies: [], seconds };
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        while (Date.now() < end) {
          const started = performance.now();
          try {
            const status = await send(agent, `${url}/bulk-email`, 'POST', body, `client-${c % PRINCIPALS}`);
            run.statuses[status] = (run.statuses[status] ?? 0) + 1;
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
          send(agent, `${url}/bulk-email/openapi.json`, 'GET', undefined, 'client-0'),
        ),
      );
      // Warm-up: code paths compiled, the store partly filled; then the baseline heap.
      const warm = await load(WARM_SECONDS);
      await drained();
      const start = await child.call<NodeJS.MemoryUsage>('heap');

      let middle: NodeJS.MemoryUsage | undefined;
      const sampler = setTimeout(
        () => {
          void child.call<NodeJS.MemoryUsage>('heap').then((m) => {
            middle = m;
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
          `start ${MiB(start.heapUsed)}, middle ${middle ? MiB(middle.heapUsed) : '?'}, end ${MiB(end.heapUsed)} ` +
          `(growth bound ${MiB(HEAP_BOUND)}), rss ${MiB(end.rss)}`,
      );

      // No errors: every request answered 2xx, none failed or timed out, and keep-alive held (no reconnects).
      for (const r of [warm, run]) {
        expect(r.errors.slice(0, 5)).toEqual([]);
        expect(Object.keys(r.statuses)).toEqual(['202']);
      }
      expect(stats.connections).toBe(CLIENTS);
      expect(run.requests).toBeGreaterThan(SECONDS * 100);
      // Every accepted job completed, and nothing else was created.
      expect(stats.created).toBe(warm.statuses[202] + run.statuses[202]);
      expect(stats.completed).toBe(stats.created);
      expect(stats.active).toBe(0);
      // The heap stays bounded while several times MAX_JOBS jobs go through.
      if (SECONDS >= 20) expect(stats.created).toBeGreaterThan(2 * MAX_JOBS);
      expect(end.heapUsed - start.heapUsed).toBeLessThan(HEAP_BOUND);
      if (middle && SECONDS >= 20) expect(end.heapUsed - middle.heapUsed).toBeLessThan(PLATEAU_BOUND);
    },
    (SECONDS + WARM_SECONDS + 90) * 1000,
  );
});
