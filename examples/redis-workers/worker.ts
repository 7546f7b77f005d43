// The worker process of the Redis example: sends what the web processes queued, all workers within one send rate.
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { type BulkEmailEvent, createWorker, type Logger } from 'express-bulk-email';
import { bullmqQueue, type RedisConnection, redisStore } from 'express-bulk-email/redis';

export interface StartWorkerOptions {
  /** The SES client (or its config: the worker then creates and closes its own). */
  ses?: SESv2Client | SESv2ClientConfig;
  /** The same Redis as the web processes. */
  connection: RedisConnection;
  /** Recipients per second across ALL workers (the limiter lives in Redis), or 'account' for SES's MaxSendRate. */
  sendRate: number | 'account';
  /** Must match the web processes. Default `ebe`. */
  prefix?: string;
  /** Must match the web processes. Default `express-bulk-email`. */
  queueName?: string;
  /** SES calls in flight at once in this process (also chunk tasks held at once). Default 8. */
  concurrency?: number;
  logger?: Logger;
  onEvent?: (event: BulkEmailEvent) => void;
  /** Signals that close the worker gracefully; `[]` to handle shutdown yourself. Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
}

export interface RunningWorker {
  /** Resolves once the worker consumes the queue; rejects (503 SERVICE_UNAVAILABLE) if Redis cannot be reached. */
  ready: Promise<void>;
  /** Recipients per second in force. */
  rate(): number;
  /** Graceful: finishes the SES calls in flight, hands unsent entries back to the queue, closes its connections. */
  close(): Promise<void>;
}

export function startWorker(options: StartWorkerOptions): RunningWorker {
  const prefix = options.prefix ?? 'ebe';
  const store = redisStore({ connection: options.connection, prefix });
  const queue = bullmqQueue({
    connection: options.connection,
    name: options.queueName,
    prefix,
    logger: options.logger,
  });
  const worker = createWorker({
    ses: options.ses,
    store,
    queue,
    sendRate: options.sendRate,
    concurrency: options.concurrency,
    logger: options.logger,
    onEvent: options.onEvent,
  });
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const signal of signals) process.off(signal, onSignal);
      await worker.close();
      await store.close();
    })();
    return closing;
  };
  // The first signal closes gracefully (an orchestrator's SIGTERM, a Ctrl-C); the handler is `once`, so a second one
  // gets Node's default and stops the process at once. Once closed, nothing holds the event loop and the process ends.
  function onSignal(signal: NodeJS.Signals): void {
    options.logger?.info({ signal }, 'express-bulk-email worker: closing (finishing calls in flight)');
    close().catch((err: unknown) => {
      options.logger?.error(
        { err: err instanceof Error ? err.message : String(err) },
        'express-bulk-email worker: close failed',
      );
      process.exitCode = 1;
    });
  }
  for (const signal of signals) process.once(signal, onSignal);
  return { ready: worker.ready, rate: worker.rate, close };
}
