// Child process for the scale-out suite: one createWorker() over a shared Redis, reporting to its parent over IPC.
// Run as `node --import tsx test/integ/worker-process.ts '<json WorkerProcessConfig>'` (cwd: the repository root).
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createWorker } from '../../src/index.js';
import { bullmqQueue, redisStore } from '../../src/redis.js';
import type { Logger } from '../../src/types.js';

export interface WorkerProcessConfig {
  redisUrl: string;
  /** Where SES calls go (the fault proxy or the emulator of the parent process). */
  sesUrl: string;
  /** Key prefix of both the store and the BullMQ queue. */
  prefix: string;
  queueName: string;
  sendRate: number;
  concurrency?: number;
  /** BullMQ lock settings (defaults 10 s / 5 s); shorter ones make a dead worker's tasks come back sooner. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** What the child reports: `at` is Date.now() in the child (same machine, so comparable with the parent's clock). */
export type WorkerMessage =
  | { type: 'ready'; pid: number; at: number }
  | { type: 'sent'; jobId: string; chunk: number; entries: number; recipients: number; succeeded: number; at: number }
  | { type: 'log'; level: 'warn' | 'error'; msg: string; data: Record<string, unknown>; at: number }
  | { type: 'closing'; signal: string; at: number }
  | { type: 'closed'; ms: number; at: number }
  | { type: 'failed'; message: string; at: number };

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;
const report = (message: WorkerMessage) => process.send?.(message);

const plain = (obj: object) =>
  JSON.parse(JSON.stringify(obj, (_k, v) => (v instanceof Error ? v.message : v))) as Record<string, unknown>;
const logger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg = '') => report({ type: 'log', level: 'warn', msg, data: plain(obj), at: Date.now() }),
  error: (obj, msg = '') => report({ type: 'log', level: 'error', msg, data: plain(obj), at: Date.now() }),
};

const ses = new SESv2Client({
  endpoint: config.sesUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const store = redisStore({ connection: config.redisUrl, prefix: config.prefix });
const queue = bullmqQueue({
  connection: config.redisUrl,
  name: config.queueName,
  prefix: config.prefix,
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
});
const worker = createWorker({
  ses,
  store,
  queue,
  sendRate: config.sendRate,
  concurrency: config.concurrency,
  logger,
  onEvent: (event) => {
    if (event.type === 'chunk.sent') {
      const { jobId, chunk, entries, recipients, succeeded } = event;
      report({ type: 'sent', jobId, chunk, entries, recipients, succeeded, at: Date.now() });
    }
  },
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  const started = Date.now();
  report({ type: 'closing', signal, at: started });
  await worker.close();
  await store.close();
  ses.destroy();
  report({ type: 'closed', ms: Date.now() - started, at: Date.now() });
  process.disconnect?.();
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
process.on('message', (m) => {
  if ((m as { type?: string })?.type === 'close') void shutdown('ipc');
});
// The parent went away (test crashed or was interrupted): do not linger.
process.on('disconnect', () => {
  if (!closing) void shutdown('disconnect').finally(() => process.exit(0));
});

try {
  await worker.ready;
  report({ type: 'ready', pid: process.pid, at: Date.now() });
} catch (err) {
  report({ type: 'failed', message: err instanceof Error ? err.message : String(err), at: Date.now() });
  process.exitCode = 1;
  await shutdown('failed');
}
