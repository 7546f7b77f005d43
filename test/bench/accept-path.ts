// Bench 3 — the accept path: autocannon against POST / with a 50-entry body, the package's router vs a bare Express
// route that parses the same body (express.json) and answers 202. Each server runs in its own child process.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bulkBody } from '../helpers/bodies.js';
import type { AcceptMode } from './support/accept-server.js';
import { atLeast, type Bench, info, type Row, round } from './support/result.js';
import { forkChild } from './support/rpc.js';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const CONNECTIONS = 50;

async function measure(mode: AcceptMode, body: string, warmS: number, durationS: number, redisUrl?: string) {
  const args: string[] = redisUrl ? [mode, redisUrl] : [mode];
  const child = await forkChild(fileURLToPath(new URL('./support/accept-server.ts', import.meta.url)), args);
  try {
    const url = await child.call<string>('url');
    const opts = {
      url: `${url}/`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: CONNECTIONS,
    };
    await autocannon({ ...opts, duration: warmS });
    await child.call('mark');
    const r = await autocannon({ ...opts, duration: durationS });
    const server = await child.call<{ cpuMs: number }>('stats');
    return { ...r, cpuPerRequest: server.cpuMs / Math.max(1, r.requests.total) };
  } finally {
    await child.close(30_000);
  }
}

export const run: Bench = async ({ quick, redisUrl }) => {
  const body = JSON.stringify(bulkBody(50));
  const warm = quick ? 2 : 3;
  const duration = quick ? 5 : 10;
  const variants: [string, AcceptMode][] = [
    ['package', 'package'],
    ['bare express.json', 'bare'],
  ];
  if (!quick) variants.push(['package, no backlog', 'package-no-backlog']);
  if (!quick && redisUrl) variants.push(['package + redisStore', 'package-redis']);
  const results = new Map<AcceptMode, Awaited<ReturnType<typeof measure>>>();
  for (const [, mode] of variants) results.set(mode, await measure(mode, body, warm, duration, redisUrl));

  const rows: Row[] = [];
  for (const [name, mode] of variants) {
    const r = results.get(mode);
    if (!r) continue;
    rows.push(
      info(name, 'requests/s (mean)', round(r.requests.average, 0)),
      info(name, 'latency p50 / p99', `${r.latency.p50} / ${r.latency.p99}`, 'ms'),
      info(name, 'server CPU per request', round(r.cpuPerRequest * 1000, 0), 'µs'),
      info(name, 'non-2xx / errors / timeouts', `${r.non2xx} / ${r.errors} / ${r.timeouts}`),
    );
  }
  const ours = results.get('package');
  const bare = results.get('bare');
  if (ours && bare) {
    rows.push(
      atLeast('ratio', 'requests/s package ÷ bare', round(ours.requests.average / bare.requests.average, 3), 0.7),
      info('ratio', 'p99 latency package ÷ bare', round(ours.latency.p99 / bare.latency.p99, 2), '×'),
      info('ratio', 'server CPU per request bare ÷ package', round(bare.cpuPerRequest / ours.cpuPerRequest, 3)),
    );
    const calm = results.get('package-no-backlog');
    if (calm) {
      rows.push(
        info('ratio', 'requests/s package, no backlog ÷ bare', round(calm.requests.average / bare.requests.average, 3)),
        info(
          'ratio',
          'server CPU per request bare ÷ package, no backlog',
          round(bare.cpuPerRequest / calm.cpuPerRequest, 3),
        ),
      );
    }
    const redis = results.get('package-redis');
    if (redis)
      rows.push(
        info(
          'ratio',
          'requests/s package + redisStore ÷ bare',
          round(redis.requests.average / bare.requests.average, 3),
        ),
      );
  }
  return {
    id: 'accept-path',
    title: '3. Accept path (POST /) against a bare Express route',
    rows,
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${duration} s after a ${warm} s warm-up; body = 50 single-recipient entries (${body.length} bytes). Server and load generator are separate processes (one core each); server CPU = process.cpuUsage() of the server ÷ requests.`,
      'package: bulkEmail({ worker: false, sendRate: 1000, store: memoryStore({ maxJobs: 10_000_000 }), queue: droppingQueue() }). droppingQueue (test/bench/support/queues.ts) implements Queue with distributed: true and drops the chunk tasks, so nothing is sent and every accepted job stays queued — a backlog, as under any sustained load above the send rate.',
      'package, no backlog: the same with finishingQueue(store), which ends each job at once (store.finishPending), as an infinitely fast sender would. package + redisStore: droppingQueue with redisStore() (full runs with REDIS_URL only).',
      'bare: express.json({ limit: "20mb" }) and res.status(202).json({...}).',
      "OpenTelemetry: the package uses the API's global providers when @opentelemetry/api is installed (a devDependency here, so no-op providers); BENCH_TELEMETRY=off passes telemetry: false. Bench 7 measures the span alone.",
    ],
  };
};
