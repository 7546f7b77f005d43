// Child process for the load suite: the router on a real listening server, over an SES transport mocked in memory.
import { Readable } from 'node:stream';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail, memoryStore } from '../../src/index.js';
import { listen } from '../bench/support/http.js';
import { serve } from '../bench/support/rpc.js';
import { MAX_JOBS, PRINCIPALS } from './load-limits.js';


let sesCalls = 0;
let messages = 0;
/** SES answering SUCCESS for every entry, at the transport: the SDK serializes and parses as usual, nothing is kept. */
const ses = new SESv2Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'load', secretAccessKey: 'load' },
  requestHandler: {
    handle: async (req: { path: string; body?: string | Uint8Array }) => {
      sesCalls += 1;
      const text = typeof req.body === 'string' ? req.body : Buffer.from(req.body ?? '').toString();
      const input = JSON.parse(text) as { BulkEmailEntries: unknown[] };
      const json = JSON.stringify({
        BulkEmailEntryResults: input.BulkEmailEntries.map(() => ({ Status: 'SUCCESS', MessageId: `load-${++messages}` })),
      });
      const headers = { 'content-type': 'application/json', 'x-amzn-requestid': `load-${sesCalls}` };
      return { response: { statusCode: 200, headers, body: Readable.from([Buffer.from(json)]) } };
    },
  } as unknown as SESv2Client['config']['requestHandler'],
});

const store = memoryStore({ maxJobs: MAX_JOBS });
let created = 0;
let completed = 0;
const router = bulkEmail({
  ses,
  store,
  sendRate: 1_000_000,
  concurrency: 16,
  authenticate: (req) => {
    const who = req.get('x-user');
    return who ? { id: who } : null;
  },
  onEvent: (event) => {
    if (event.type === 'job.created') created += 1;
    if (event.type === 'job.completed') completed += 1;
  },
});
const app = express();
const inflight = new Map<object, number>();
let closedEarly = 0;
setInterval(() => { const now = performance.now(); let old = 0; for (const t of inflight.values()) if (now - t > 5000) old++; process.stderr.write(`inflight ${inflight.size}, older than 5s ${old}, closed early ${closedEarly}\n`); }, 3000).unref();
app.use((req, res, next) => { inflight.set(res, performance.now()); res.on('finish', () => inflight.delete(res)); res.on('close', () => { if (inflight.delete(res)) closedEarly++; }); next(); });
app.use('/bulk-email', router);
const server = await listen(app);

const gc = (globalThis as { gc?: () => void }).gc;

serve({
  url: () => server.url,
  /** Heap after two full collections (the child runs with --expose-gc). */
  heap() {
    if (!gc) throw new Error('start the load server with --expose-gc');
    gc();
    gc();
    return process.memoryUsage();
  },
  /** What the store says is unfinished, across every principal, and what the events counted. */
  async stats() {
    let active = 0;
    for (let i = 0; i < PRINCIPALS; i++) active += await store.countActiveJobs(`client-${i}`);
    return { active, created, completed, sesCalls, messages };
  },
  async exit() {
    await server.close();
    await router.close();
    await store.close();
  },
});
