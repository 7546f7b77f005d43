// Child process for bench 3: serves POST / either through the package's router or through a bare Express route.
import express from 'express';
import { bulkEmail, memoryStore } from '../../../src/index.js';
import { listen } from './http.js';
import { droppingQueue } from './queues.js';
import { serve } from './rpc.js';

const mode = process.argv[2] as 'package' | 'bare';
const app = express();
const queue = droppingQueue();
if (mode === 'package') {
  app.use(
    '/',
    bulkEmail({
      ses: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
      authenticate: () => ({ id: 'bench' }),
      // Every job stays unfinished (nothing sends): room for all of them.
      store: memoryStore({ maxJobs: 10_000_000 }),
      queue,
      worker: false,
      sendRate: 1000,
    }),
  );
} else {
  app.post('/', express.json({ limit: '20mb' }), (req, res) => {
    const entries = Array.isArray(req.body?.BulkEmailEntries) ? req.body.BulkEmailEntries.length : 0;
    res.status(202).json({ success: true, data: { id: 'bare', status: 'queued', entries } });
  });
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
    return { cpuMs: (cpu.user + cpu.system) / 1000, rssMB: process.memoryUsage().rss / 2 ** 20, tasks: queue.tasks() };
  },
  exit: () => server.close(),
});
