// The sending side: a rate limiter, the send-rate source, the dispatcher, and a queue consumer; createWorker() for other processes.
import { checkSenderKeys, resolveSenderOptions, type SenderConfig } from './options.js';
import { createDispatcher } from './sending/dispatcher.js';
import { memoryRateLimiter } from './sending/rate-limiter.js';
import { type SendRate, createSendRate } from './sending/send-rate.js';
import type { LegacyQueue as Queue, SenderOptions, Store } from './types.js';

export interface Sender {
  /** Recipients per second in force now. */
  rate(): number;
  /** The send rate and 24-hour quota as last read from the account. */
  sendRate: SendRate;
  /** Resolves once the queue consumer runs. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Starts consuming the config's queue in this process. */
export function startSender(config: SenderConfig): Sender {
  const initial = typeof config.sendRate === 'number' ? config.sendRate : 1;
  const limiter =
    config.queue.createRateLimiter?.({ rate: initial, clock: config.clock }) ??
    memoryRateLimiter({ rate: initial, clock: config.clock });
  const sendRate = createSendRate({ ses: config.ses, sendRate: config.sendRate, limiter, logger: config.logger });
  const dispatcher = createDispatcher({
    ses: config.ses,
    store: config.store,
    queue: config.queue,
    limiter,
    retry: config.retry,
    atLeastOnce: config.atLeastOnce,
    callTimeoutMs: config.callTimeoutMs,
    concurrency: config.concurrency,
    onEvent: config.emit,
    logger: config.logger,
    clock: config.clock,
  });
  const ready = (async () => {
    await sendRate.ready;
    await config.queue.start((task, signal) => dispatcher.processChunk(task, signal), {
      concurrency: config.concurrency,
      logger: config.logger,
    });
  })();
  ready.catch((err: unknown) => {
    config.logger.error(
      { err: err instanceof Error ? err.message : String(err) },
      'express-bulk-email: the sender could not start',
    );
  });
  return {
    rate: () => limiter.rate,
    sendRate,
    ready,
    close: async () => {
      sendRate.close();
      await ready.catch(() => undefined);
      await limiter.close();
    },
  };
}

export interface WorkerOptions extends SenderOptions {
  store: Store;
  queue: Queue;
}

export interface Worker {
  /** Resolves once the worker consumes the queue (rejects if it cannot start). */
  ready: Promise<void>;
  /** Recipients per second this worker's limiter uses now. */
  rate(): number;
  /** Graceful: finishes the calls in flight, hands the rest of its work back to the queue, closes what it created. */
  close(): Promise<void>;
}

/** Runs the sending side in this process, consuming a shared queue (e.g. bullmqQueue()) and writing to a shared store. */
export function createWorker(options: WorkerOptions): Worker {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('express-bulk-email: createWorker(options) needs an options object');
  checkSenderKeys(options);
  if (!options.store)
    throw new TypeError(
      'express-bulk-email: createWorker needs the same `store` as the web processes, e.g. redisStore({ connection })',
    );
  if (!options.queue)
    throw new TypeError(
      'express-bulk-email: createWorker needs the same `queue` as the web processes, e.g. bullmqQueue({ connection })',
    );
  const config = resolveSenderOptions(options);
  const sender = startSender(config);
  let closing: Promise<void> | undefined;
  return {
    ready: sender.ready,
    rate: sender.rate,
    close: () => {
      closing ??= (async () => {
        await config.queue.close();
        await sender.close();
        if (config.owned.ses) config.ses.destroy();
      })();
      return closing;
    },
  };
}
