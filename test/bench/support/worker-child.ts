// Child process for bench 5: one createWorker() with redisStore + the Redis queue, counting what it sent.
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createWorker } from '../../../src/index.js';
import { redisStore } from '../../../src/redis.js';
import { NO_REDIS_QUEUE, redisQueue } from './redis-queue.js';
import { serve } from './rpc.js';

export interface WorkerChildConfig {
  redisUrl: string;
  sesUrl: string;
  /** Key prefix of the store and the queue (and so of the shared pacing). */
  prefix: string;
  queueName: string;
  sendRate: number;
  concurrency: number;
}

const config = JSON.parse(process.argv[2]) as WorkerChildConfig;
const ses = new SESv2Client({
  endpoint: config.sesUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
const store = redisStore({ connection: config.redisUrl, prefix: config.prefix });
if (!redisQueue) throw new Error(NO_REDIS_QUEUE);
const queue = redisQueue({ connection: config.redisUrl, name: config.queueName, prefix: config.prefix });
let sent = 0;
let calls = 0;
let throttled = 0;
const worker = createWorker({
  ses,
  store,
  queue,
  sendRate: config.sendRate,
  concurrency: config.concurrency,
  onEvent: (e) => {
    if (e.type === 'chunk.sent') {
      sent += e.succeeded;
      calls += 1;
    }
    if (e.type === 'chunk.retry') throttled += 1;
  },
});
await worker.ready;
const cpu = process.cpuUsage();

let closed: Promise<void> | undefined;
const close = () => {
  closed ??= (async () => {
    await worker.close();
    await store.close();
    ses.destroy();
  })();
  return closed;
};

serve({
  stats: () => {
    const c = process.cpuUsage(cpu);
    return { sent, calls, retries: throttled, cpuMs: (c.user + c.system) / 1000 };
  },
  exit: close,
});
