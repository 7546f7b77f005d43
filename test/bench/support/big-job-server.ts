// Child process for bench 4: takes one big POST (package router, or bare express.json + validator), or times
// JSON.parse + validation of the same body read from a file; reports time and peak RSS of this process only.
import { readFileSync } from 'node:fs';
import express from 'express';
import { bulkEmail, memoryStore } from '../../../src/index.js';
import { createValidator } from '../../../src/validation/validator.js';
import { listen } from './http.js';
import { peakRssMB, rssMB } from './peak-memory.js';
import { holdingQueue } from './queues.js';
import { serve } from './rpc.js';

const [mode, maxEntriesArg] = process.argv.slice(2) as ['package' | 'bare' | 'parse', string];
const maxEntries = Number(maxEntriesArg);
const BODY_LIMIT = '64mb';
const queue = holdingQueue();

async function server() {
  const app = express();
  if (mode === 'package') {
    app.use(
      '/',
      bulkEmail({
        ses: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
        authenticate: () => ({ id: 'bench' }),
        store: memoryStore(),
        queue,
        worker: false,
        sendRate: 1000,
        maxEntries,
        bodyLimit: BODY_LIMIT,
      }),
    );
  } else {
    const validate = createValidator({ maxEntries });
    app.post('/', express.json({ limit: BODY_LIMIT }), (req, res) => {
      const problems = validate(req.body);
      res
        .status(problems.length ? 400 : 202)
        .json({ success: problems.length === 0, data: { problems: problems.length } });
    });
  }
  return listen(app);
}

const listening = mode === 'parse' ? undefined : await server();
// Settle start-up garbage so the baseline is what the idle server holds.
await new Promise((r) => setTimeout(r, 200));
const baselineMB = rssMB();

serve({
  url: () => listening?.url,
  /** After the request: peak RSS, RSS before it, tasks the queue holds. */
  memory: () => ({ peakMB: peakRssMB(), baselineMB, tasks: queue.held().length }),
  /** JSON.parse + createValidator() of the file's body, timed in this process. */
  parse(file: string) {
    const text = readFileSync(file, 'utf8');
    const validate = createValidator({ maxEntries });
    const before = peakRssMB();
    const t0 = performance.now();
    const body = JSON.parse(text);
    const parseMs = performance.now() - t0;
    const problems = validate(body);
    const totalMs = performance.now() - t0;
    if (problems.length) throw new Error(`the body is invalid: ${JSON.stringify(problems.slice(0, 3))}`);
    return { parseMs, totalMs, peakMB: peakRssMB(), baselineMB, beforeParseMB: before };
  },
  exit: () => listening?.close(),
});
