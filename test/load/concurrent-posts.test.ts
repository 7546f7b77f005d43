// Load: 200 keep-alive clients posting small jobs for 30 s to one server process; no errors, bounded heap, every job done.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, forkChild } from '../bench/support/rpc.js';
import { bulkBody } from '../helpers/bodies.js';
import { MAX_JOBS, PRINCIPALS } from './load-limits.js';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const CONNECTIONS = 200;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const WARM_SECONDS = 2;
/**
 * What the heap may keep after the run: the store holds at most MAX_JOBS finished jobs (it drops the oldest), each
 * under 4 KB here (record, content with the template, 3 entries' statuses and message ids), so ≤ 20 MB, plus 12 MB
 * for what settles once (JIT code, caches, buffers). The run creates 20+ times MAX_JOBS jobs: a leak of even 300
 * bytes per job or request would cross this bound.
 */
const HEAP_BOUND = MAX_JOBS * 4 * 1024 + 12 * 1024 * 1024;
/** From the middle of the run to its end, the store is full and the heap must stay flat, within this. */
const PLATEAU_BOUND = 8 * 1024 * 1024;

const MB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

describe(`load: ${CONNECTIONS} keep-alive clients posting for ${SECONDS} s`, () => {
  let child: Child;
  let url: string;
  beforeAll(async () => {
    child = await forkChild(fileURLToPath(new URL('./load-server.ts', import.meta.url)), [], { nodeArgs: ['--expose-gc'] });
    url = await child.call<string>('url');
  }, 30_000);
  afterAll(async () => {
    await child?.close(10_000);
  });

  function cannon(duration: number) {
    let n = 0;
    return autocannon({
      url: `${url}/bulk-email`,
      connections: CONNECTIONS,
      duration,
      // On a busy 2-core machine (this suite next to others) a response can take seconds; only a lost one is an error.
      timeout: 30,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bulkBody(3)),
      // Each request from one of PRINCIPALS principals, in turn.
      requests: [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-user': `client-${n++ % PRINCIPALS}` } }) }],
    });
  }

  async function drained(): Promise<{ active: number; created: number; completed: number; sesCalls: number }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await child.call<{ active: number; created: number; completed: number; sesCalls: number }>('stats');
      if (stats.active === 0 && stats.completed === stats.created) return stats;
      if (Date.now() > deadline) throw new Error(`jobs still unfinished 30 s after the load: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it(
    'answers every request 2xx, completes every accepted job, and keeps the heap bounded',
    async () => {
      // Warm-up: code paths compiled, the store partly filled; then the baseline heap.
      const warm = await cannon(WARM_SECONDS);
      await drained();
      const start = await child.call<NodeJS.MemoryUsage>('heap');

      let middle: NodeJS.MemoryUsage | undefined;
      const sampler = setTimeout(() => {
        child.call<NodeJS.MemoryUsage>('heap').then((m) => {
          middle = m;
        });
      }, (SECONDS * 1000) / 2);
      const run = await cannon(SECONDS);
      clearTimeout(sampler);
      const stats = await drained();
      const end = await child.call<NodeJS.MemoryUsage>('heap');

      console.log(
        `load: ${run.requests.total} requests in ${SECONDS} s = ${Math.round(run.requests.average)} req/s ` +
          `(latency p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, p99.9 ${(run.latency as Record<string, number>).p99_9} ms, max ${run.latency.max} ms); ` +
          `jobs created ${stats.created}, completed ${stats.completed}, SES calls ${stats.sesCalls}; ` +
          `heap after GC: start ${MB(start.heapUsed)}, middle ${middle ? MB(middle.heapUsed) : '?'}, end ${MB(end.heapUsed)} ` +
          `(bound ${MB(HEAP_BOUND)} over start), rss ${MB(end.rss)}; statuses ${JSON.stringify(run.statusCodeStats)} warm ${JSON.stringify(warm.statusCodeStats)}`,
      );

      // No errors: every request answered 2xx, no socket errors or timeouts.
      for (const r of [warm, run]) {
        expect(r.non2xx, JSON.stringify(r.statusCodeStats)).toBe(0);
        expect(r.errors).toBe(0);
        expect(r.timeouts).toBe(0);
      }
      expect(run['2xx']).toBeGreaterThan(SECONDS * 100);
      // Every accepted job completed. Requests cut off when a run ended may have created a job without their 202
      // being counted, at most one per connection and run.
      const accepted = warm['2xx'] + run['2xx'];
      expect(stats.created).toBeGreaterThanOrEqual(accepted);
      expect(stats.created - accepted).toBeLessThanOrEqual(2 * CONNECTIONS);
      expect(stats.completed).toBe(stats.created);
      expect(stats.active).toBe(0);
      // The heap stays bounded while many times MAX_JOBS jobs go through.
      expect(stats.created).toBeGreaterThan(2 * MAX_JOBS);
      expect(end.heapUsed - start.heapUsed).toBeLessThan(HEAP_BOUND);
      if (middle && SECONDS >= 20) expect(end.heapUsed - middle.heapUsed).toBeLessThan(PLATEAU_BOUND);
    },
    (SECONDS + WARM_SECONDS + 60) * 1000,
  );
});
