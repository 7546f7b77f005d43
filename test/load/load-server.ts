// Child process for the load suite: the router on a real listening server, over an SES transport mocked in memory.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail, memoryStore } from '../../src/index.js';
import { serve } from '../bench/support/rpc.js';
import { MAX_JOBS, MAX_MESSAGES, PRINCIPALS } from './load-limits.js';

let sesCalls = 0;
let messages = 0;
/** SES answering SUCCESS for every entry, at the transport: the SDK serializes, signs and parses as usual, keeps nothing. */
const ses = new SESv2Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'load', secretAccessKey: 'load' },
  requestHandler: {
    handle: async (req: { body?: string | Uint8Array }) => {
      sesCalls += 1;
      const text = typeof req.body === 'string' ? req.body : Buffer.from(req.body ?? '').toString();
      const input = JSON.parse(text) as { BulkEmailEntries: unknown[] };
      const json = JSON.stringify({
        BulkEmailEntryResults: input.BulkEmailEntries.map(() => ({
          Status: 'SUCCESS',
          MessageId: `load-${++messages}`,
        })),
      });
      const headers = { 'content-type': 'application/json', 'x-amzn-requestid': `load-${sesCalls}` };
      return { response: { statusCode: 200, headers, body: Readable.from([Buffer.from(json)]) } };
    },
  } as unknown as SESv2Client['config']['requestHandler'],
});

const store = memoryStore({ maxJobs: MAX_JOBS, maxMessages: MAX_MESSAGES });
let created = 0;
let completed = 0;
// Package defaults but for the send rate (high, so SES is never the limit) and the store's cap (small, see the suite).
const router = bulkEmail({
  ses,
  store,
  sendRate: 1_000_000,
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
app.use('/bulk-email', router);

const server = createServer({ keepAliveTimeout: 120_000 }, app);
let connections = 0;
server.on('connection', () => {
  connections += 1;
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const gc = (globalThis as { gc?: () => void }).gc;

serve({
  url: () => url,
  /** Heap after two full collections (the child runs with --expose-gc). */
  heap() {
    if (!gc) throw new Error('start the load server with --expose-gc');
    gc();
    gc();
    return process.memoryUsage();
  },
  /** What the store says is unfinished, across every principal, and what the events and the server counted. */
  async stats() {
    let active = 0;
    for (let i = 0; i < PRINCIPALS; i++) active += await store.countActiveJobs(`client-${i}`);
    return { active, created, completed, sesCalls, messages, connections };
  },
  async exit() {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await router.close();
    await store.close();
  },
});
