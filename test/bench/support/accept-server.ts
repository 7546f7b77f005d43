// Child process for bench 3: serves POST / through the package's router (several store/queue set-ups) or through a bare
// Express route that only parses the body.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { deleteKeysAt } from '../../helpers/redis-keys.js';
import { bulkEmail, memoryStore } from '../../../src/index.js';
import { redisStore } from '../../../src/redis.js';
import type { Store } from '../../../src/types.js';
import { listen } from './http.js';
import { droppingQueue, finishingQueue } from './queues.js';
import { serve } from './rpc.js';

export type AcceptMode = 'package' | 'package-no-backlog' | 'package-redis' | 'bare';

const [mode, redisUrl] = process.argv.slice(2) as [AcceptMode, string | undefined];
const app = express();
const prefix = `ebe-bench-${randomUUID().slice(0, 8)}`;
let store: Store | undefined;
if (mode === 'bare') {
  app.post('/', express.json({ limit: '20mb' }), (req, res) => {
    const entries = Array.isArray(req.body?.BulkEmailEntries) ? req.body.BulkEmailEntries.length : 0;
    res.status(202).json({ success: true, data: { id: 'bare', status: 'queued', entries } });
  });
} else {
  // Every job stays unfinished unless the queue ends it: room for all of them (no store or per-principal bound).
  const unbounded = Number.POSITIVE_INFINITY;
  store =
    mode === 'package-redis'
      ? redisStore({ connection: redisUrl as string, prefix })
      : memoryStore({ maxJobs: 10_000_000, maxBytes: unbounded, maxBytesPerPrincipal: unbounded });
  const queue = mode === 'package-no-backlog' ? finishingQueue(store) : droppingQueue();
  app.use(
    '/',
    bulkEmail({
      ses: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
      authenticate: () => ({ id: 'bench' }),
      store,
      queue,
      worker: false,
      ...(process.env.BENCH_TELEMETRY === 'off' ? { telemetry: false as const } : {}),
      sendRate: 1000,
      maxActiveJobs: unbounded,
      maxQueuedRecipients: unbounded,
    }),
  );
}
const server = await listen(app);
let mark = process.cpuUsage();

serve({
  url: () => server.url,
  mark() {
    mark = process.cpuUsage();
  },
  stats() {
    const cpu = process.cpuUsage(mark);
    return { cpuMs: (cpu.user + cpu.system) / 1000 };
  },
  async exit() {
    await server.close();
    await store?.close();
    if (mode === 'package-redis') await deleteKeysAt(redisUrl as string, prefix);
  },
});
