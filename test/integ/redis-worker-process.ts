// Child process for the Redis fault suite: createWorker() over redisStore + redisQueue, SES calls to the given URL.
// Run as `node --import tsx test/integ/redis-worker-process.ts '<json RedisWorkerConfig>'` (cwd: the repository root).
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createWorker } from '../../src/index.js';
import { redisQueue, redisStore } from '../../src/redis.js';
import { type ChildMessage, childReporting } from './child-report.js';

export interface RedisWorkerConfig {
  redisUrl: string;
  sesUrl: string;
  prefix: string;
  sendRate: number;
  concurrency?: number;
  /** Report each call's recipients (chunk.sent events) to the parent. */
  reportSent?: boolean;
}

export type RedisWorkerMessage = ChildMessage | { type: 'sent'; pid: number; jobId: string; recipients: number };

const config = JSON.parse(process.argv[2] ?? '{}') as RedisWorkerConfig;
const pid = process.pid;
const { report, logger } = childReporting<RedisWorkerMessage>();
const ses = new SESv2Client({
  endpoint: config.sesUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const store = redisStore({ connection: config.redisUrl, prefix: config.prefix });
const queue = redisQueue({ connection: config.redisUrl, prefix: config.prefix });
const worker = createWorker({
  ses,
  store,
  queue,
  sendRate: config.sendRate,
  concurrency: config.concurrency,
  logger,
  onEvent: config.reportSent
    ? (e) => {
        if (e.type === 'chunk.sent') report({ type: 'sent', pid, jobId: e.jobId, recipients: e.recipients });
      }
    : undefined,
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await worker.close();
  await store.close();
  ses.destroy();
  process.disconnect?.();
}
process.on('message', (m) => {
  if ((m as { type?: string })?.type === 'close') void shutdown();
});
process.on('disconnect', () => void shutdown().finally(() => process.exit(0)));

await worker.ready;
report({ type: 'ready', pid });
