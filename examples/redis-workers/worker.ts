// The worker process of the Redis example: sends what the web processes queued, all workers within one send rate.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { createWorker, type Logger } from 'express-bulk-email';
import { type RedisConnection, redisQueue, redisStore } from 'express-bulk-email/redis';

export interface RedisWorkerOptions {
  /** The SES client, or its config (the worker then creates and closes its own client). */
  ses?: SESv2Client | SESv2ClientConfig;
  /** The same Redis as the web processes. */
  connection: RedisConnection;
  /** Must match the web processes. Default `ebe`. */
  prefix?: string;
  /** Recipients per second for ALL workers together (the pacing lives in Redis), or 'account'. */
  sendRate: number | 'account';
  logger?: Logger;
}

export function startWorker(options: RedisWorkerOptions) {
  const store = redisStore({ connection: options.connection, prefix: options.prefix });
  const queue = redisQueue({ connection: options.connection, prefix: options.prefix });
  const worker = createWorker({ ses: options.ses, store, queue, sendRate: options.sendRate, logger: options.logger });
  return {
    /** Resolves once this worker takes from the queue; rejects if it cannot start (Redis or SES unreachable). */
    ready: worker.ready,
    rate: () => worker.rate(),
    /** Graceful: finishes the SES calls in flight, hands the rest back to the queue, then closes the connections. */
    close: async () => {
      await worker.close();
      await store.close();
      await queue.close();
    },
  };
}
