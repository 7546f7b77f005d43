// Child process for the memory-flood suite: the router on the embedded default (the memory store and the
// package's limits) with a queue nobody consumes, so that accepted jobs stay unfinished.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import express from 'express';
import { bulkEmail } from '../../src/index.js';
import { serve } from '../bench/support/rpc.js';
import { parkedQueue } from '../helpers/parked-queue.js';

/** SES answering SUCCESS for every entry, at the transport. */
const ses = new SESv2Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'flood', secretAccessKey: 'flood' },
  requestHandler: {
    handle: async (req: { body?: string | Uint8Array }) => {
      const text = typeof req.body === 'string' ? req.body : Buffer.from(req.body ?? '').toString();
      const input = JSON.parse(text) as { BulkEmailEntries: unknown[] };
      const json = JSON.stringify({
        BulkEmailEntryResults: input.BulkEmailEntries.map((_, i) => ({ Status: 'SUCCESS', MessageId: `m-${i}` })),
      });
      return {
        response: { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Readable.from([json]) },
      };
    },
  } as unknown as SESv2Client['config']['requestHandler'],
});

// Every bound at its default: memoryStore() (maxBytes 128 MiB, a quarter per principal), maxActiveJobs 100. Nothing
// consumes the queue, so accepted jobs stay unfinished (a sender would send a 10-entry job in one call at once).
const router = bulkEmail({
  ses,
  sendRate: 1,
  queue: parkedQueue(),
  worker: false,
  authenticate: (req) => {
    const who = req.get('x-user');
    return who ? { id: who } : null;
  },
});
const app = express();
app.use('/bulk-email', router);
const server = createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const gc = (globalThis as { gc?: () => void }).gc;

serve({
  url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  /** Heap and buffers after two full collections (the child runs with --expose-gc). */
  heap() {
    if (!gc) throw new Error('start the server with --expose-gc');
    gc();
    gc();
    return process.memoryUsage();
  },
  async exit() {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await router.close();
  },
});
