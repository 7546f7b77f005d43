// Bench 4 — one request of 100,000 recipients: time to 202 and peak RSS of the accepting process, against JSON.parse +
// validation alone of the same body; then memory per stored entry in the memory store and the Redis store.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bulkBody } from '../helpers/bodies.js';
import { atMost, type Bench, info, median, type Row, round } from './support/result.js';
import { forkChild } from './support/rpc.js';

const SERVER = fileURLToPath(new URL('./support/big-job-server.ts', import.meta.url));
const STORE_MEMORY = fileURLToPath(new URL('./support/store-memory.ts', import.meta.url));

interface Memory {
  peakMB: number;
  baselineMB: number;
  tasks: number;
}

/** One fresh process takes one POST; resolves with the client-side time to the 202 and the server's memory. */
async function post(mode: 'package' | 'bare', body: string, n: number) {
  const child = await forkChild(SERVER, [mode, String(n)]);
  try {
    const url = await child.call<string>('url');
    const t0 = performance.now();
    const res = await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 202) throw new Error(`${mode}: ${res.status} ${text.slice(0, 300)}`);
    const memory = await child.call<Memory>('memory');
    return { ms, ...memory };
  } finally {
    await child.close();
  }
}

async function parseOnly(file: string, n: number) {
  const child = await forkChild(SERVER, ['parse', String(n)]);
  try {
    return await child.call<{ parseMs: number; totalMs: number; peakMB: number; baselineMB: number }>('parse', file);
  } finally {
    await child.close();
  }
}

export const run: Bench = async ({ quick, redisUrl }) => {
  const n = 100_000;
  const reps = quick ? 1 : 3;
  const body = JSON.stringify(bulkBody(n));
  const file = join(tmpdir(), `ebe-bench-${process.pid}.json`);
  writeFileSync(file, body);
  const ours: Awaited<ReturnType<typeof post>>[] = [];
  const bare: Awaited<ReturnType<typeof post>>[] = [];
  const parse: Awaited<ReturnType<typeof parseOnly>>[] = [];
  try {
    for (let r = 0; r < reps; r++) {
      ours.push(await post('package', body, n));
      bare.push(await post('bare', body, n));
      parse.push(await parseOnly(file, n));
    }
  } finally {
    unlinkSync(file);
  }
  // Sanity: the package really queued every entry.
  if (ours[0].tasks !== n / 50) throw new Error(`expected ${n / 50} chunk tasks, got ${ours[0].tasks}`);
  const oursMs = median(ours.map((o) => o.ms));
  const parseMs = median(parse.map((p) => p.totalMs));
  const s = `${n.toLocaleString('en-US')} entries`;
  const rows: Row[] = [
    info(s, 'body size', round(body.length / 2 ** 20, 1), 'MiB'),
    info(s, 'package: time to 202', round(oursMs, 0), 'ms'),
    info(s, 'bare express.json + validator over HTTP: time to 202', round(median(bare.map((b) => b.ms)), 0), 'ms'),
    info(
      s,
      'JSON.parse + validation alone (JSON.parse part)',
      `${round(parseMs, 0)} (${round(median(parse.map((p) => p.parseMs)), 0)})`,
      'ms',
    ),
    atMost(s, 'package time to 202 ÷ JSON.parse + validation', round(oursMs / parseMs, 2), 3),
    atMost(
      s,
      'package: peak RSS of the accepting process',
      round(Math.max(...ours.map((o) => o.peakMB)), 0),
      300,
      'MiB',
    ),
    info(s, 'package: RSS before the request', round(median(ours.map((o) => o.baselineMB)), 0), 'MiB'),
    info(
      s,
      'bare / parse-only: peak RSS',
      `${round(Math.max(...bare.map((b) => b.peakMB)), 0)} / ${round(Math.max(...parse.map((p) => p.peakMB)), 0)}`,
      'MiB',
    ),
  ];

  // Memory per stored entry.
  const storeN = quick ? 20_000 : 100_000;
  const mem = await forkChild(STORE_MEMORY, [], { nodeArgs: ['--expose-gc'] });
  try {
    const m = await mem.call<{ pendingBytes: number; finishedBytes: number; status: string }>('memory', storeN);
    if (m.status !== 'completed') throw new Error(`memory store job ended ${m.status}`);
    rows.push(
      info('memory store', 'bytes per entry, pending', round(m.pendingBytes, 1), 'B'),
      info('memory store', 'bytes per entry, sent (with a 60-char message id)', round(m.finishedBytes, 1), 'B'),
    );
    if (redisUrl) {
      const r = await mem.call<{
        status: string;
        pendingUsedBytes: number;
        finishedUsedBytes: number;
        pendingKeyBytes: number;
        finishedKeyBytes: number;
      }>('redis', { url: redisUrl, n: storeN });
      if (r.status !== 'completed') throw new Error(`redis store job ended ${r.status}`);
      rows.push(
        info(
          'redis store',
          'bytes per entry, pending (MEMORY USAGE / used_memory Δ)',
          `${round(r.pendingKeyBytes, 1)} / ${round(r.pendingUsedBytes, 1)}`,
          'B',
        ),
        info(
          'redis store',
          'bytes per entry, sent (MEMORY USAGE / used_memory Δ)',
          `${round(r.finishedKeyBytes, 1)} / ${round(r.finishedUsedBytes, 1)}`,
          'B',
        ),
      );
    } else {
      rows.push(info('redis store', 'bytes per entry', 'skipped: set REDIS_URL'));
    }
  } finally {
    await mem.close();
  }

  return {
    id: 'big-job',
    title: '4. Big job and memory per stored entry',
    rows,
    notes: [
      `One POST of ${n.toLocaleString('en-US')} single-recipient entries to a fresh process (median of ${reps}; peak RSS = VmHWM, the worst of them). Options: maxEntries: ${n}, bodyLimit: '64mb'.`,
      'The accepting process uses memoryStore() and a test queue that keeps every chunk task in memory (as the in-process queue does until they are sent) and never sends: worker: false, so sending does not blur the figures.',
      'JSON.parse + validation = JSON.parse of the body string plus createValidator({ maxEntries })(body), timed inside a fresh process (no HTTP).',
      `Store memory: one job of ${storeN.toLocaleString('en-US')} entries; pending = after createJob, sent = after every entry was claimed and recorded SUCCESS with a 60-character message id. Memory store: heapUsed + external Δ after gc(). Redis store: sum of MEMORY USAGE over the job's keys, and INFO used_memory Δ; keys under a unique prefix, deleted afterwards.`,
    ],
  };
};
