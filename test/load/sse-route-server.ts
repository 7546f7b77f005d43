// Child process for the idle-streams suite, through the router: GET /bulk-email/:id/events of unfinished jobs (a
// queue nobody consumes), 50 principals with one job each; counts the open event streams and their memory.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { bulkEmail } from '../../src/index.js';
import { serve } from '../bench/support/rpc.js';
import { bulkBody } from '../helpers/bodies.js';
import { parkedQueue } from '../helpers/parked-queue.js';

const PRINCIPALS = 50;
const router = bulkEmail({
  sendRate: 100,
  worker: false,
  queue: parkedQueue(),
  maxStreamsPerPrincipal: 1_000,
  authenticate: (req) => ({ id: String(req.get('x-user')) }),
});
let open = 0;
let ended = 0;
const app = express();
app.use('/bulk-email', (req, res, next) => {
  if (req.path.endsWith('/events')) {
    open += 1;
    res.on('close', () => {
      open -= 1;
      ended += 1;
    });
  }
  next();
});
app.use('/bulk-email', router);
const jobs: string[] = [];
for (let i = 0; i < PRINCIPALS; i++) {
  const res = await request(app).post('/bulk-email').set('x-user', `p${i}`).send(bulkBody(10));
  jobs.push(res.body.data.id);
}
const server = createServer(app);
server.maxConnections = 5_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

function memory() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  // Every open stream is subscribed (the route subscribes before it writes anything).
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, open, subscribed: open, ended };
}

serve({
  port: () => (server.address() as AddressInfo).port,
  /** The request path of each stream `i` < n (principal `p${i % 50}` owns it). */
  paths: (n) => Array.from({ length: Number(n) }, (_, i) => `/bulk-email/${jobs[i % PRINCIPALS]}/events`),
  memory,
  exit: () => {
    server.closeAllConnections();
    server.close();
    void router.close();
  },
});
