// Child process for the idle-streams suite: an Express app serving event streams of an unchanging job, and its memory.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { type EventFeed, streamEvents } from '../../src/http/sse.js';
import { streamLimiter } from '../../src/http/stream-limiter.js';
import { serve } from '../bench/support/rpc.js';

/** A job view as GET /:id answers it: what every idle stream sent once and now only heartbeats. */
const job = {
  id: 'job_01JF00000000000000000000',
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:05.000Z',
  status: 'sending',
  entries: 10_000,
  recipients: 10_000,
  counts: { sent: 4_000, failed: 12, pending: 5_988, canceled: 0, suppressed: 0, unknown: 0 },
  send_rate: 100,
  send_rate_source: 'account',
  estimated_completion_at: '2026-12-01T10:01:45.000Z',
};
const listeners = new Set<() => void>();
const feed: EventFeed = {
  since: async (last) => (last === '1' ? [] : [{ event: 'progress', id: '1', data: job }]),
  subscribe(onChange) {
    listeners.add(onChange);
    return () => listeners.delete(onChange);
  },
};
const limiter = streamLimiter(Number.POSITIVE_INFINITY);
let ended = 0;
const app = express();
app.get('/events', async (req, res) => {
  const release = limiter.acquire(String(req.get('x-user')))!;
  try {
    await streamEvents(req, res, feed);
  } finally {
    release();
    ended += 1;
  }
});
const server = createServer(app);
server.maxConnections = 5_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

function memory() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  return {
    heapUsed: m.heapUsed,
    rss: m.rss,
    external: m.external,
    open: limiter.open,
    subscribed: listeners.size,
    ended,
  };
}

serve({
  port: () => (server.address() as AddressInfo).port,
  paths: (n) => Array.from({ length: Number(n) }, () => '/events'),
  memory,
  exit: () => {
    server.closeAllConnections();
    server.close();
  },
});
