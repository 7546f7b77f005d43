// Child process for the Redis queue suites: one redisQueue with a synthetic consumer, reporting each call over IPC.
// Run as `node --import tsx test/integ/queue-worker-process.ts '<json QueueWorkerConfig>'` (cwd: the repository root).
import { redisQueue } from '../../src/redis.js';
import { type ChildMessage, childReporting } from './child-report.js';

export interface QueueWorkerConfig {
  url: string;
  prefix: string;
  rate?: number;
  concurrency: number;
  /** How long the consumer holds a call after its slot; -1 = forever (until killed). Default 0. */
  holdMs?: number;
}

export type QueueWorkerMessage =
  | ChildMessage
  | {
      type: 'call';
      pid: number;
      lease: string;
      jobId: string;
      chunk: number;
      indexes: number[];
      recipients: number;
      startAt: number;
      at: number;
    }
  | { type: 'done'; pid: number; lease: string; at: number };

const config = JSON.parse(process.argv[2] ?? '{}') as QueueWorkerConfig;
const pid = process.pid;
const { report, logger } = childReporting<QueueWorkerMessage>();

const queue = redisQueue({ connection: config.url, prefix: config.prefix, logger });
if (config.rate) queue.setRate(config.rate);
const hold = config.holdMs ?? 0;

await queue.start(
  async (call) => {
    const { lease, task, recipients, startAt } = call;
    const indexes = task.entries.map((e) => e.index);
    report({
      type: 'call',
      pid,
      lease,
      jobId: task.jobId,
      chunk: task.chunk,
      indexes,
      recipients,
      startAt,
      at: Date.now(),
    });
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    if (hold < 0) await new Promise(() => {});
    if (hold > 0) await new Promise((r) => setTimeout(r, hold));
    report({ type: 'done', pid, lease, at: Date.now() });
    return { kind: 'done' };
  },
  { concurrency: config.concurrency },
);
report({ type: 'ready', pid });

process.on('message', (m) => {
  if ((m as { type?: string })?.type === 'close') void queue.close().then(() => process.disconnect?.());
});
process.on('disconnect', () => void queue.close().finally(() => process.exit(0)));
