// Bench 3 — the accept path: autocannon against POST / with a 50-entry body, the package's router vs a bare Express
// route that parses the same body (express.json) and answers 202. Each server runs in its own child process.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bulkBody } from '../helpers/bodies.js';
import { atLeast, type Bench, info, type Row, round } from './support/result.js';
import { forkChild } from './support/rpc.js';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const CONNECTIONS = 50;

async function measure(mode: 'package' | 'bare', body: string, warmS: number, durationS: number) {
  const child = await forkChild(fileURLToPath(new URL('./support/accept-server.ts', import.meta.url)), [mode]);
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
    const server = await child.call<{ cpuMs: number; rssMB: number; tasks: number }>('stats');
    return { ...r, server };
  } finally {
    await child.close();
  }
}

export const run: Bench = async ({ quick }) => {
  const body = JSON.stringify(bulkBody(50));
  const warm = quick ? 2 : 3;
  const duration = quick ? 5 : 10;
  const ours = await measure('package', body, warm, duration);
  const bare = await measure('bare', body, warm, duration);
  const rows: Row[] = [];
  for (const [name, r] of [
    ['package', ours],
    ['bare express.json', bare],
  ] as const) {
    rows.push(
      info(name, 'requests/s (mean)', round(r.requests.average, 0)),
      info(name, 'latency p50 / p99', `${r.latency.p50} / ${r.latency.p99}`, 'ms'),
      info(name, 'server CPU per request', round(r.server.cpuMs / r.requests.total, 3), 'ms'),
      info(name, 'non-2xx / errors / timeouts', `${r.non2xx} / ${r.errors} / ${r.timeouts}`),
    );
  }
  rows.push(
    atLeast('ratio', 'requests/s package ÷ bare', round(ours.requests.average / bare.requests.average, 3), 0.7),
    info('ratio', 'p99 latency package ÷ bare', round(ours.latency.p99 / bare.latency.p99, 2), '×'),
  );
  return {
    id: 'accept-path',
    title: '3. Accept path (POST /) against a bare Express route',
    rows,
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${duration} s after a ${warm} s warm-up; body = 50 single-recipient entries (${body.length} bytes). Server and load generator are separate processes (one core each).`,
      'Package: bulkEmail({ worker: false, store: memoryStore({ maxJobs: 10_000_000 }), queue: droppingQueue() }) — the test queue implements Queue with distributed: true and drops the chunk tasks, so the figure is parsing, validation, render check, hooks, store.createJob and the envelope; no sending.',
      'Bare: express.json({ limit: "20mb" }) and res.status(202).json({...}).',
    ],
  };
};
